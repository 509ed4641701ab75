// SqliteRefreshTokenStore: refresh tokens in their own SQLite database
// (<root>/tokens.db, WAL, synchronous=FULL), separate from metadata.db so
// that `berth token` and `berth registry` can run as separate processes.
//
// Thread-safety: safe from many threads (one connection under a mutex).
#pragma once

#include <memory>
#include <mutex>

#include "storage/db/sqlite.hpp"
#include "storage/refresh_token_store.hpp"

namespace berth::storage {

class SqliteRefreshTokenStore final : public RefreshTokenStore {
 public:
  // Opens or creates the database. kInternal on failure (start-up).
  static Result<std::unique_ptr<SqliteRefreshTokenStore>> Open(const std::string& path);

  Status Save(const std::string& token_hash, const RefreshGrant& grant, int64_t now) override;
  Result<RefreshGrant> Find(const std::string& token_hash) override;
  Result<int64_t> Revoke(const std::string& subject) override;

 private:
  explicit SqliteRefreshTokenStore(std::unique_ptr<sql::Db> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<sql::Db> db_;  // GUARDED_BY(mu_)
};

}  // namespace berth::storage
