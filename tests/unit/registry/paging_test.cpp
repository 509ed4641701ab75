// Tests for registry/paging.hpp: `n` and `last`, the server's page cap, and
// the Link header to the next page.

#include "registry/paging.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth::registry {
namespace {

http::Request Req(http::Fields query) {
  http::Request r;
  r.method = "GET";
  r.query = std::move(query);
  return r;
}

TEST(PagingTest, ParsePage) {
  struct Case {
    const char* n;  // nullptr: no n
    size_t want;
  };
  const Case cases[] = {
      {nullptr, kMaxPageSize},
      {"0", 0},
      {"1", 1},
      {"999", 999},
      {"1000", 1000},
      {"1001", kMaxPageSize},
      {"18446744073709551615", kMaxPageSize},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.n ? c.n : "(none)");
    http::Fields q = {{"last", "v1"}};
    if (c.n) q.emplace_back("n", c.n);
    auto p = ParsePage(Req(q));
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_EQ(p->n, c.want);
    EXPECT_EQ(p->last, "v1");
  }
  const char* errors[] = {"", "-1", "abc", "1x", " 1", "18446744073709551616", "1.5"};
  for (const char* n : errors) {
    SCOPED_TRACE(n);
    EXPECT_EQ(ParsePage(Req({{"n", n}})).status().code(), Errc::kPaginationInvalid);
  }
  auto none = ParsePage(Req({}));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->last, "");
}

TEST(PagingTest, QueryEscape) {
  EXPECT_EQ(QueryEscape("v1.0_a-b~"), "v1.0_a-b~");
  EXPECT_EQ(QueryEscape("a/b"), "a%2Fb");
  EXPECT_EQ(QueryEscape("sha256:ab"), "sha256%3Aab");
  EXPECT_EQ(QueryEscape("application/vnd.x+json"), "application%2Fvnd.x%2Bjson");
  EXPECT_EQ(QueryEscape("a b&c=d"), "a%20b%26c%3Dd");
  EXPECT_EQ(QueryEscape("\xc3\xa9"), "%C3%A9");
}

TEST(PagingTest, NextLink) {
  Page p;
  p.n = 3;
  EXPECT_EQ(NextLink("/v2/a/tags/list", p, "v10"), "</v2/a/tags/list?last=v10&n=3>; rel=\"next\"");
  EXPECT_EQ(NextLink("/v2/a/referrers/sha256:00", p, "sha256:ff", "artifactType=x%2By"),
            "</v2/a/referrers/sha256:00?artifactType=x%2By&last=sha256%3Aff&n=3>; rel=\"next\"");
}

}  // namespace
}  // namespace berth::registry
