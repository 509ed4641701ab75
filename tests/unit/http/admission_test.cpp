#include "http/admission.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace berth::http {
namespace {

struct Entered {
  std::string address;
  Admit how;
  uint64_t id;
  std::shared_ptr<Connection> conn;
};

Entered Enter(Admission& a, const std::string& address) {
  Entered e{address, Admit::kRefuse, 0, std::make_shared<Connection>()};
  e.how = a.Enter(address, e.conn, &e.id);
  return e;
}

TEST(Admission, CapsEachAddressWithoutStarvingOthers) {
  Admission a({.total = 100, .per_address = 2, .health_reserve = 1, .proxies = {}});
  auto x1 = Enter(a, "10.0.0.1");
  auto x2 = Enter(a, "10.0.0.1");
  EXPECT_EQ(x1.how, Admit::kServe);
  EXPECT_EQ(x2.how, Admit::kServe);
  EXPECT_EQ(Enter(a, "10.0.0.1").how, Admit::kRefuse);
  EXPECT_EQ(Enter(a, "10.0.0.2").how, Admit::kServe);
  a.Leave(x1.address, x1.how, x1.id);
  EXPECT_EQ(Enter(a, "10.0.0.1").how, Admit::kServe);
}

// A load balancer carries many clients on its connections: a trusted proxy
// is held to the total, not to the per-address share.
TEST(Admission, TrustedProxiesAreExemptFromThePerAddressCap) {
  auto proxies = TrustedProxies::Parse({"127.0.0.1"});
  ASSERT_TRUE(proxies.ok());
  Admission a({.total = 5, .per_address = 2, .health_reserve = 0, .proxies = *proxies});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Enter(a, "127.0.0.1").how, Admit::kServe) << i;
  EXPECT_EQ(Enter(a, "127.0.0.1").how, Admit::kRefuse);  // the total still holds
  EXPECT_EQ(a.Stats().refused_full, 1u);
  EXPECT_EQ(a.Stats().refused_per_address, 0u);
  Admission b({.total = 100, .per_address = 2, .health_reserve = 0, .proxies = *proxies});
  Enter(b, "127.0.0.2");
  Enter(b, "127.0.0.2");
  EXPECT_EQ(Enter(b, "127.0.0.2").how, Admit::kRefuse);
  EXPECT_EQ(b.Stats().refused_per_address, 1u);
}

TEST(Admission, ReserveAdmitsHealthChecksPastTheTotal) {
  Admission a({.total = 2, .per_address = 10, .health_reserve = 1, .proxies = {}});
  auto x1 = Enter(a, "a");
  auto x2 = Enter(a, "b");
  auto h = Enter(a, "c");
  EXPECT_EQ(h.how, Admit::kHealthOnly);
  EXPECT_EQ(Enter(a, "d").how, Admit::kRefuse);
  EXPECT_EQ(a.Active(), 3u);
  a.Leave(h.address, h.how, h.id);
  EXPECT_EQ(Enter(a, "d").how, Admit::kHealthOnly);
  a.Leave(x1.address, x1.how, x1.id);
  EXPECT_EQ(Enter(a, "e").how, Admit::kServe);
}

TEST(Admission, RefusedConnectionsAreNotCounted) {
  Admission a({.total = 1, .per_address = 1, .health_reserve = 0, .proxies = {}});
  auto x = Enter(a, "a");
  auto r = Enter(a, "a");
  EXPECT_EQ(r.how, Admit::kRefuse);
  a.Leave(r.address, r.how, r.id);  // a no-op
  EXPECT_EQ(a.Active(), 1u);
}

TEST(Admission, ClosesIdleOnlyOrAll) {
  Admission a({});
  auto idle = Enter(a, "a");
  auto busy = Enter(a, "a");
  int idle_closed = 0, busy_closed = 0;
  idle.conn->idle = true;
  idle.conn->close = [&] { ++idle_closed; };
  busy.conn->close = [&] { ++busy_closed; };
  a.CloseIdle();
  EXPECT_EQ(idle_closed, 1);
  EXPECT_EQ(busy_closed, 0);
  a.CloseAll();
  EXPECT_EQ(idle_closed, 2);
  EXPECT_EQ(busy_closed, 1);
  busy.conn.reset();  // gone: no longer reachable
  a.CloseAll();
  EXPECT_EQ(busy_closed, 1);
}

}  // namespace
}  // namespace berth::http
