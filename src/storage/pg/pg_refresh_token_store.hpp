// PgRefreshTokenStore: refresh tokens in table refresh_tokens of the shared
// PostgreSQL database (pg_schema.cpp), so every token server of a cluster
// sees a revocation at once. Same contract as SqliteRefreshTokenStore.
//
// Thread-safety: safe from many threads; each call takes a pooled connection.
#pragma once

#include <memory>

#include "storage/pg/pg.hpp"
#include "storage/refresh_token_store.hpp"

namespace berth::storage {

class PgRefreshTokenStore final : public RefreshTokenStore {
 public:
  // REQUIRES: the schema is migrated (pg::Migrate).
  explicit PgRefreshTokenStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  Status Save(const std::string& token_hash, const RefreshGrant& grant, int64_t now) override;
  Result<RefreshGrant> Find(const std::string& token_hash) override;
  Status Touch(const std::string& token_hash, int64_t now) override;
  Result<int64_t> RevokeOne(const std::string& token_hash) override;
  Result<int64_t> Revoke(const std::string& subject) override;
  Result<int64_t> DeleteExpired(int64_t created_before, int64_t used_before) override;

 private:
  // One write statement in a transaction of its own; rows it changed.
  Result<int64_t> Write(std::string_view sql, const std::vector<pg::Param>& params);
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace berth::storage
