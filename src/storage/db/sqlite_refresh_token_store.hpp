// SqliteRefreshTokenStore: refresh tokens in their own SQLite database
// (<root>/tokens.db, WAL, synchronous=FULL), separate from metadata.db so
// that `berth token` and `berth registry` can run as separate processes.
// Schema version 2 (PRAGMA user_version): hash, subject, service, admin,
// generation, created, last_used. Opening a version-1 file (no user_version)
// upgrades it and revokes its tokens: they carry no credential generation.
//
// Thread-safety: safe from many threads (one connection under a mutex).
#pragma once

#include <memory>
#include <mutex>

#include "common/thread_annotations.hpp"
#include "storage/db/sqlite.hpp"
#include "storage/refresh_token_store.hpp"

namespace berth::storage {

class SqliteRefreshTokenStore final : public RefreshTokenStore {
 public:
  // Opens or creates the database, upgrading an older schema. kInternal on
  // failure, or when the file has a newer schema than this build knows.
  static Result<std::unique_ptr<SqliteRefreshTokenStore>> Open(const std::string& path);

  Status Save(const std::string& token_hash, const RefreshGrant& grant, int64_t now) override;
  Result<RefreshGrant> Find(const std::string& token_hash) override;
  Status Touch(const std::string& token_hash, int64_t now) override;
  Result<int64_t> RevokeOne(const std::string& token_hash) override;
  Result<int64_t> Revoke(const std::string& subject) override;
  Result<int64_t> DeleteExpired(int64_t created_before, int64_t used_before) override;

 private:
  explicit SqliteRefreshTokenStore(std::unique_ptr<sql::Db> db) : db_(std::move(db)) {}
  Mutex mu_;
  std::unique_ptr<sql::Db> db_ GUARDED_BY(mu_);
};

}  // namespace berth::storage
