// The LoginLimiter rule cases (tests/unit/auth/login_limiter_cases.cpp) for
// SharedFailureLimiter on PostgreSQL (BERTH_PG_DSN; skipped without it:
// tests/integration/pg_store_test.sh sets it). Each backend works in a
// schema of its own, dropped at the end; "another node" is a second pool on
// the same schema, as a second berth would have.
#include <cstdlib>
#include <random>

#include "auth/token/shared_failure_limiter.hpp"
#include "../auth/login_limiter_cases.hpp"
#include "storage/pg/pg_stores.hpp"

namespace berth::auth {
namespace {

std::string PgDsn() {
  const char* dsn = std::getenv("BERTH_PG_DSN");
  return dsn ? dsn : "";
}

class PgBackend final : public LimiterBackend {
 public:
  PgBackend() {
    std::random_device rd;
    schema_ = "berth_l_";
    for (int i = 0; i < 12; ++i) schema_ += "0123456789abcdef"[rd() % 16];
    Admin("CREATE SCHEMA " + schema_);
  }
  ~PgBackend() override {
    nodes_.clear();
    Admin("DROP SCHEMA " + schema_ + " CASCADE");
  }

  std::unique_ptr<LoginLimiter> Fresh(const FailureLimiterOptions& o) override {
    Admin("DROP SCHEMA " + schema_ + " CASCADE; CREATE SCHEMA " + schema_);
    nodes_.clear();
    return Another(o);
  }
  std::unique_ptr<LoginLimiter> Another(const FailureLimiterOptions& o) override {
    storage::PgOptions opts;
    opts.dsn = PgDsn();
    opts.schema = schema_;
    opts.pool_size = 2;
    auto stores = storage::OpenPostgres(opts);
    if (!stores) {
      ADD_FAILURE() << stores.status().message();
      return nullptr;
    }
    nodes_.push_back(std::move(stores).value());
    auto l = SharedFailureLimiter::Open(*nodes_.back().login_failures, o);
    if (!l) ADD_FAILURE() << l.status().message();
    return l ? std::move(l).value() : nullptr;
  }

 private:
  void Admin(const std::string& sql) {
    storage::pg::PoolOptions o;
    o.dsn = PgDsn();
    o.size = 1;
    auto pool = storage::pg::Pool::Open(o);
    ASSERT_TRUE(pool) << pool.status().message();
    auto c = (*pool)->Acquire();
    ASSERT_TRUE(c) << c.status().message();
    ASSERT_TRUE(c->ExecScript(sql).ok()) << sql;
  }

  std::string schema_;
  std::vector<storage::PgStores> nodes_;
};

INSTANTIATE_TEST_SUITE_P(, LoginLimiterRuleTest,
                         ::testing::Values(LimiterParam{"Postgres",
                                                        []() -> std::unique_ptr<LimiterBackend> {
                                                          if (PgDsn().empty()) return nullptr;
                                                          return std::make_unique<PgBackend>();
                                                        }}),
                         LimiterName);

}  // namespace
}  // namespace berth::auth
