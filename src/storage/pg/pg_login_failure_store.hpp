// PgLoginFailureStore: failed-login counts in table login_failures of the
// shared PostgreSQL database (pg_schema.cpp, version 2), and their salt in
// cluster_settings. Each call is one or two statements; a count is one
// upsert, so failures counted on several nodes at once all add up.
//
// Thread-safety: safe from many threads; each call takes a pooled connection.
#pragma once

#include <memory>

#include "storage/login_failure_store.hpp"
#include "storage/pg/pg.hpp"

namespace berth::storage {

class PgLoginFailureStore final : public LoginFailureStore {
 public:
  // REQUIRES: the schema is migrated (pg::Migrate).
  explicit PgLoginFailureStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  Result<std::string> Salt(const std::string& proposal) override;
  Result<int64_t> BlockedUntil(const std::vector<std::string>& keys) override;
  Result<int64_t> Count(const std::string& key, const std::string& user_key, int64_t window,
                        int64_t now) override;
  Status Block(const std::string& key, int64_t until) override;
  Status ForgetUser(const std::string& user_key) override;
  Status Trim(int64_t stale_before, int64_t now, size_t max_entries) override;
  Result<int64_t> Size() override;

 private:
  // One statement in a transaction of its own; its rows.
  Result<pg::Rows> Write(std::string_view sql, const std::vector<pg::Param>& params);
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace berth::storage
