// Tests for auth::LoginCache (auth/login_cache.hpp): salted keys,
// TTL, bounded size with oldest-first eviction, disabled configurations. The
// clock is a fake.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "auth/login_cache.hpp"

namespace berth::auth {
namespace {

using std::chrono::seconds;
using TimePoint = std::chrono::steady_clock::time_point;

class LoginCacheTest : public ::testing::Test {
 protected:
  LoginCache Make(LoginCacheOptions options) {
    return LoginCache(options, [this] { return now_; });
  }
  std::string K(const LoginCache& c, const std::string& user, const std::string& pw) {
    return c.Key(user, Secret(pw)).value();
  }
  TimePoint now_{seconds(1000)};
};

Identity Alice() { return Identity{"alice", false, true}; }

TEST_F(LoginCacheTest, KeyIsSaltedHexAndSeparatesUserFromPassword) {
  LoginCache a = Make({});
  LoginCache b = Make({});
  const std::string k = K(a, "alice", "pw");
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(k, K(a, "alice", "pw"));  // stable within one cache
  EXPECT_NE(k, K(b, "alice", "pw"));  // another salt, another key
  EXPECT_NE(k, K(a, "alice", "pw2"));
  EXPECT_NE(k, K(a, "alic", "epw"));  // the 0x00 separator keeps them apart
  EXPECT_EQ(k.find("pw"), std::string::npos);
}

TEST_F(LoginCacheTest, UserWithNulIsNeverCached) {
  LoginCache c = Make({});
  EXPECT_FALSE(c.Key(std::string("al\0ice", 6), Secret("pw")).has_value());
}

TEST_F(LoginCacheTest, HitUntilTtlThenMiss) {
  LoginCache c = Make({.ttl = seconds(60), .max_entries = 10});
  const std::string k = K(c, "alice", "pw");
  EXPECT_FALSE(c.Lookup(k).has_value());
  c.Insert(k, Identity{"alice", true, true});
  now_ += seconds(59);
  auto hit = c.Lookup(k);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->name, "alice");
  EXPECT_TRUE(hit->admin);
  EXPECT_TRUE(hit->authenticated);
  now_ += seconds(1);  // exactly ttl: gone
  EXPECT_FALSE(c.Lookup(k).has_value());
  EXPECT_EQ(c.size(), 0u);
}

TEST_F(LoginCacheTest, OtherPasswordMisses) {
  LoginCache c = Make({});
  c.Insert(K(c, "alice", "right"), Alice());
  EXPECT_FALSE(c.Lookup(K(c, "alice", "wrong")).has_value());
  EXPECT_TRUE(c.Lookup(K(c, "alice", "right")).has_value());
}

TEST_F(LoginCacheTest, HitDoesNotExtendButReinsertDoes) {
  LoginCache c = Make({.ttl = seconds(10), .max_entries = 10});
  const std::string k = K(c, "alice", "pw");
  c.Insert(k, Alice());
  now_ += seconds(9);
  EXPECT_TRUE(c.Lookup(k).has_value());
  now_ += seconds(1);
  EXPECT_FALSE(c.Lookup(k).has_value());
  c.Insert(k, Alice());
  now_ += seconds(5);
  c.Insert(k, Alice());  // refreshed
  now_ += seconds(9);
  EXPECT_TRUE(c.Lookup(k).has_value());
  EXPECT_EQ(c.size(), 1u);
}

TEST_F(LoginCacheTest, FullCacheEvictsOldest) {
  LoginCache c = Make({.ttl = seconds(60), .max_entries = 3});
  for (const char* u : {"a", "b", "c"}) {
    c.Insert(K(c, u, "pw"), Identity{u, false, true});
    now_ += seconds(1);
  }
  c.Insert(K(c, "d", "pw"), Identity{"d", false, true});
  EXPECT_EQ(c.size(), 3u);
  EXPECT_FALSE(c.Lookup(K(c, "a", "pw")).has_value());
  for (const char* u : {"b", "c", "d"}) EXPECT_TRUE(c.Lookup(K(c, u, "pw")).has_value()) << u;
}

TEST_F(LoginCacheTest, ReinsertMovesToNewest) {
  LoginCache c = Make({.ttl = seconds(60), .max_entries = 2});
  c.Insert(K(c, "a", "pw"), Identity{"a", false, true});
  c.Insert(K(c, "b", "pw"), Identity{"b", false, true});
  c.Insert(K(c, "a", "pw"), Identity{"a", false, true});  // a is now newest
  c.Insert(K(c, "c", "pw"), Identity{"c", false, true});  // evicts b
  EXPECT_TRUE(c.Lookup(K(c, "a", "pw")).has_value());
  EXPECT_FALSE(c.Lookup(K(c, "b", "pw")).has_value());
  EXPECT_TRUE(c.Lookup(K(c, "c", "pw")).has_value());
}

TEST_F(LoginCacheTest, ExpiredEntriesMakeRoomBeforeLiveOnes) {
  LoginCache c = Make({.ttl = seconds(10), .max_entries = 2});
  c.Insert(K(c, "a", "pw"), Identity{"a", false, true});
  now_ += seconds(5);
  c.Insert(K(c, "b", "pw"), Identity{"b", false, true});
  now_ += seconds(6);  // a expired, b live
  c.Insert(K(c, "c", "pw"), Identity{"c", false, true});
  EXPECT_EQ(c.size(), 2u);
  EXPECT_TRUE(c.Lookup(K(c, "b", "pw")).has_value());
  EXPECT_TRUE(c.Lookup(K(c, "c", "pw")).has_value());
}

TEST_F(LoginCacheTest, ZeroTtlOrZeroEntriesDisables) {
  for (LoginCacheOptions o : {LoginCacheOptions{.ttl = seconds(0), .max_entries = 10},
                              LoginCacheOptions{.ttl = seconds(60), .max_entries = 0}}) {
    LoginCache c = Make(o);
    const std::string k = K(c, "alice", "pw");
    c.Insert(k, Alice());
    EXPECT_FALSE(c.Lookup(k).has_value());
    EXPECT_EQ(c.size(), 0u);
  }
}

TEST_F(LoginCacheTest, ClearForgetsEverything) {
  LoginCache c = Make({});
  c.Insert(K(c, "alice", "pw"), Alice());
  c.Clear();
  EXPECT_FALSE(c.Lookup(K(c, "alice", "pw")).has_value());
}

}  // namespace
}  // namespace berth::auth
