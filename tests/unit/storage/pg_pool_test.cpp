// Tests for the libpq layer (storage/pg/pg.hpp) against a real server
// (BERTH_PG_DSN; skipped otherwise): the pool's bound and wait, a killed
// connection replaced, the statement timeout, error mapping, parameters
// kept apart from SQL, and the retry of serialization failures.

#include "storage/pg/pg.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <latch>
#include <random>
#include <thread>

namespace berth::storage::pg {
namespace {

std::string Dsn() {
  const char* d = std::getenv("BERTH_PG_DSN");
  return d ? d : "";
}

class PgPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Dsn().empty()) GTEST_SKIP() << "BERTH_PG_DSN is not set";
    std::random_device rd;
    schema_ = "berth_p_";
    for (int i = 0; i < 12; ++i) schema_ += "0123456789abcdef"[rd() % 16];
    admin_ = MakePool(2);
    ASSERT_TRUE(admin_);
    auto c = admin_->Acquire();
    ASSERT_TRUE(c.ok()) << c.status().message();
    ASSERT_TRUE(c->ExecScript("CREATE SCHEMA " + schema_).ok());
  }
  void TearDown() override {
    if (!admin_) return;
    if (auto c = admin_->Acquire()) (void)c->ExecScript("DROP SCHEMA " + schema_ + " CASCADE");
  }
  std::unique_ptr<Pool> MakePool(
      size_t size, int statement_timeout_ms = 30000,
      std::chrono::milliseconds acquire = std::chrono::milliseconds(5000)) {
    PoolOptions o;
    o.dsn = Dsn();
    o.size = size;
    o.statement_timeout_ms = statement_timeout_ms;
    o.acquire_timeout = acquire;
    o.schema = schema_;
    auto p = Pool::Open(o);
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  std::string schema_;
  std::unique_ptr<Pool> admin_;
};

TEST_F(PgPoolTest, AcquireWaitsForAFreeConnectionThenGivesUp) {
  auto pool = MakePool(1, 30000, std::chrono::milliseconds(200));
  ASSERT_TRUE(pool);
  {
    auto held = pool->Acquire();
    ASSERT_TRUE(held.ok());
    auto start = std::chrono::steady_clock::now();
    auto second = pool->Acquire();
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(second.status().code(), Errc::kUnavailable);
    EXPECT_GE(waited, std::chrono::milliseconds(180));
    EXPECT_LT(waited, std::chrono::seconds(2));
    // One given back while another waits is handed over.
    std::thread giver([c = std::move(held).value()]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      auto drop = std::move(c);
    });
    auto third = pool->Acquire();
    EXPECT_TRUE(third.ok()) << third.status().message();
    giver.join();
  }
}

TEST_F(PgPoolTest, SettingsAreOnEveryConnection) {
  auto pool = MakePool(1, 1234);
  ASSERT_TRUE(pool);
  auto r = Query(*pool, "SELECT current_setting('statement_timeout'), current_schema()");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->Text(0, 0), "1234ms");
  EXPECT_EQ(r->Text(0, 1), schema_);
}

TEST_F(PgPoolTest, AKilledConnectionIsDroppedAndReplaced) {
  auto pool = MakePool(1);
  ASSERT_TRUE(pool);
  auto pid = Query(*pool, "SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  const int64_t first = pid->Int(0, 0);
  {
    auto c = admin_->Acquire();
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->Exec("SELECT pg_terminate_backend($1::int)", {first}).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Reads retry once on a fresh connection.
  pid = Query(*pool, "SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  EXPECT_NE(pid->Int(0, 0), first);
  // So does a transaction whose BEGIN meets a dead connection.
  {
    auto c = admin_->Acquire();
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->Exec("SELECT pg_terminate_backend($1::int)", {pid->Int(0, 0)}).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Status s = InTransaction(*pool, [](Conn& c) { return c.ExecScript("SELECT 1"); });
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST_F(PgPoolTest, StatementTimeoutIsUnavailable) {
  auto pool = MakePool(1, 100);
  ASSERT_TRUE(pool);
  auto r = Query(*pool, "SELECT pg_sleep(3)");
  EXPECT_EQ(r.status().code(), Errc::kUnavailable);
  EXPECT_NE(r.status().message().find("57014"), std::string::npos) << r.status().message();
  EXPECT_TRUE(Query(*pool, "SELECT 1").ok());  // the connection is still usable
}

TEST_F(PgPoolTest, ErrorsCarryTheSqlState) {
  auto pool = MakePool(1);
  ASSERT_TRUE(pool);
  auto r = Query(*pool, "SELEC 1");
  EXPECT_EQ(r.status().code(), Errc::kInternal);
  EXPECT_NE(r.status().message().find("[42601]"), std::string::npos) << r.status().message();
  auto unreachable = [] {
    PoolOptions o;
    o.dsn = "host=127.0.0.1 port=1 dbname=x user=x";
    o.connect_timeout_s = 1;
    return Pool::Open(o);
  }();
  EXPECT_EQ(unreachable.status().code(), Errc::kUnavailable);
}

TEST_F(PgPoolTest, ParametersAreData) {
  auto pool = MakePool(1);
  ASSERT_TRUE(pool);
  const std::string evil = "x'); DROP SCHEMA " + schema_ + " CASCADE; --\"\\";
  auto r = Query(*pool, "SELECT $1::text, $2::text IS NULL, $3::bytea",
                 {evil, Param::Null(), Param::Bytes(std::string("a\0b\xff", 4))});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->Text(0, 0), evil);
  EXPECT_TRUE(r->Bool(0, 1));
  EXPECT_EQ(r->Bytes(0, 2), std::string("a\0b\xff", 4));
  auto arr = Query(*pool, "SELECT u FROM unnest($1::text[]) AS u", {TextArray({evil, "{,}", ""})});
  ASSERT_TRUE(arr.ok()) << arr.status().message();
  ASSERT_EQ(arr->size(), 3);
  EXPECT_EQ(arr->Text(0, 0), evil);
  EXPECT_EQ(arr->Text(1, 0), "{,}");
  EXPECT_EQ(arr->Text(2, 0), "");
}

TEST_F(PgPoolTest, SerializationFailuresAreRetried) {
  auto pool = MakePool(2);
  ASSERT_TRUE(pool);
  ASSERT_TRUE(InTransaction(*pool, [](Conn& c) {
                return c.ExecScript(
                    "CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL);"
                    "INSERT INTO counter VALUES (1, 0)");
              }).ok());
  std::latch both_read(2);
  std::atomic<int> attempts{0};
  auto increment = [&] {
    bool first = true;
    return InTransaction(
        *pool,
        [&](Conn& c) -> Status {
          ++attempts;
          auto r = c.Exec("SELECT n FROM counter WHERE id = 1");
          if (!r) return r.status();
          if (first) {  // both read before either writes: one must fail
            first = false;
            both_read.arrive_and_wait();
          }
          auto w = c.Exec("UPDATE counter SET n = $1 WHERE id = 1", {r->Int(0, 0) + 1});
          return w ? Status::Ok() : w.status();
        },
        Isolation::kSerializable);
  };
  Status s1, s2;
  std::thread t1([&] { s1 = increment(); });
  std::thread t2([&] { s2 = increment(); });
  t1.join();
  t2.join();
  EXPECT_TRUE(s1.ok()) << s1.message();
  EXPECT_TRUE(s2.ok()) << s2.message();
  auto n = Query(*pool, "SELECT n FROM counter WHERE id = 1");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->Int(0, 0), 2);  // no lost update
  EXPECT_EQ(attempts.load(), 3);
}

}  // namespace
}  // namespace berth::storage::pg
