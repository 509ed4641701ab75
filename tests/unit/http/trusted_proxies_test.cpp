#include "http/trusted_proxies.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::http {
namespace {

TrustedProxies Make(const std::vector<std::string>& entries) {
  auto p = TrustedProxies::Parse(entries);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? std::move(p).value() : TrustedProxies();
}

TEST(TrustedProxies, ParsesAddressesAndBlocks) {
  EXPECT_TRUE(Make({}).empty());
  auto p = Make({"10.0.0.5", "192.168.0.0/16", " ::1 ", "fd00::/8", "[2001:db8::7]"});
  EXPECT_FALSE(p.empty());
  EXPECT_TRUE(p.Contains("10.0.0.5"));
  EXPECT_FALSE(p.Contains("10.0.0.6"));
  EXPECT_TRUE(p.Contains("192.168.200.1"));
  EXPECT_FALSE(p.Contains("192.169.0.1"));
  EXPECT_TRUE(p.Contains("::1"));
  EXPECT_TRUE(p.Contains("[::1]"));
  EXPECT_TRUE(p.Contains("fdab::1"));
  EXPECT_FALSE(p.Contains("fe80::1"));
  EXPECT_TRUE(p.Contains("2001:db8::7"));
  EXPECT_TRUE(p.Contains("::ffff:10.0.0.5"));  // v4-mapped is the v4 address
  EXPECT_FALSE(p.Contains("not an address"));
  EXPECT_FALSE(p.Contains(""));
}

TEST(TrustedProxies, PrefixEdges) {
  auto all4 = Make({"0.0.0.0/0"});
  EXPECT_TRUE(all4.Contains("203.0.113.9"));
  EXPECT_FALSE(all4.Contains("2001:db8::1"));  // /0 of v4 is every v4 address only
  auto odd = Make({"10.0.0.0/9"});
  EXPECT_TRUE(odd.Contains("10.127.255.255"));
  EXPECT_FALSE(odd.Contains("10.128.0.0"));
}

TEST(TrustedProxies, RefusesWhatIsNotAnAddress) {
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host.example",
                          "10.0.0.256", "", "1.2.3.4/-1"}) {
    auto p = TrustedProxies::Parse({bad});
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_NE(p.status().message().find(std::string(bad)), std::string::npos)
          << p.status().message();
    }
  }
}

TEST(TrustedProxies, ClientOfAnUntrustedPeerIsThePeer) {
  auto p = Make({"127.0.0.1"});
  EXPECT_EQ(p.ClientOf("203.0.113.9:4000", "198.51.100.1"), "203.0.113.9:4000");
  EXPECT_EQ(Make({}).ClientOf("127.0.0.1:4000", "198.51.100.1"), "127.0.0.1:4000");
}

TEST(TrustedProxies, ClientOfATrustedPeerIsTheRightmostUntrustedEntry) {
  auto p = Make({"127.0.0.1", "10.0.0.0/8"});
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", "198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", " 198.51.100.1 "), "198.51.100.1");
  // A client-written entry to the left is never believed.
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", "1.1.1.1, 198.51.100.1"), "198.51.100.1");
  // Hops through further trusted proxies are skipped.
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", "1.1.1.1, 198.51.100.1, 10.1.2.3"), "198.51.100.1");
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", "2001:db8::1"), "[2001:db8::1]");
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", "::ffff:198.51.100.2"), "198.51.100.2");
  // No header: the peer.
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", ""), "127.0.0.1:4000");
  // Every entry a trusted proxy: the leftmost of them.
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", "10.0.0.2, 10.0.0.3"), "10.0.0.2");
}

TEST(TrustedProxies, AMalformedEntryStopsTheWalk) {
  auto p = Make({"127.0.0.1", "10.0.0.0/8"});
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", "garbage"), "127.0.0.1:4000");
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", "198.51.100.1, <script>, 10.0.0.9"), "10.0.0.9");
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", ","), "127.0.0.1:4000");
  EXPECT_EQ(p.ClientOf("127.0.0.1:4000", std::string(10000, 'a')), "127.0.0.1:4000");
  EXPECT_EQ(p.ClientOf("[::1]:4000", "198.51.100.1"), "[::1]:4000");  // ::1 not trusted here
  EXPECT_EQ(Make({"::1"}).ClientOf("[::1]:4000", "198.51.100.1"), "198.51.100.1");
}

TEST(TrustedProxies, CanonicalAddress) {
  EXPECT_EQ(CanonicalAddress("198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(CanonicalAddress("198.51.100.7:4000"), "198.51.100.7");
  EXPECT_EQ(CanonicalAddress(" [2001:db8::1]:4000"), "[2001:db8::1]");
  EXPECT_EQ(CanonicalAddress("2001:db8::1"), "[2001:db8::1]");
  EXPECT_EQ(CanonicalAddress("[::1]"), "[::1]");
  EXPECT_EQ(CanonicalAddress("::ffff:198.51.100.2"), "198.51.100.2");
  for (const char* bad : {"", "garbage", "1.2.3.4, 5.6.7.8", "host:80", "[::1"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(CanonicalAddress(bad).has_value());
  }
}

}  // namespace
}  // namespace berth::http
