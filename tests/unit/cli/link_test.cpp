// Tests for cli/admin/link.hpp: the next-page link of catalog and tag
// listings, as berth and distribution send it and in RFC 8288's other forms.

#include "cli/admin/link.hpp"

#include <gtest/gtest.h>

namespace berth::cli::admin {
namespace {

TEST(AdminLink, FindsTheNextPage) {
  struct Case {
    const char* header;
    const char* target;
  } cases[] = {
      {R"(</v2/_catalog?last=alice%2Fapp&n=1000>; rel="next")",
       "/v2/_catalog?last=alice%2Fapp&n=1000"},
      {R"(</v2/alice/app/tags/list?n=2&last=b>; rel=next)", "/v2/alice/app/tags/list?n=2&last=b"},
      {R"(</v2/x/tags/list?last=b>;rel="NEXT")", "/v2/x/tags/list?last=b"},
      {R"(  </v2/x/tags/list?last=b>  ;  rel = "next"  )", "/v2/x/tags/list?last=b"},
      // Several rel values, several links, other parameters.
      {R"(</v2/x/tags/list?last=b>; rel="prev next")", "/v2/x/tags/list?last=b"},
      {R"(</v2/x/tags/list>; rel="prev", </v2/x/tags/list?last=c>; title="p, 2"; rel="next")",
       "/v2/x/tags/list?last=c"},
      {R"(</first>; rel="first", </v2/n?last=z>; rel="next")", "/v2/n?last=z"},
      // An absolute URL: its path and query.
      {R"(<https://reg.example:5000/v2/_catalog?last=a&n=5>; rel="next")",
       "/v2/_catalog?last=a&n=5"},
  };
  for (const auto& c : cases) {
    auto got = NextPageTarget(c.header);
    ASSERT_TRUE(got.has_value()) << c.header;
    EXPECT_EQ(*got, c.target) << c.header;
  }
}

TEST(AdminLink, NoNextPage) {
  const char* none[] = {
      "",
      R"(</v2/_catalog?last=a>; rel="prev")",
      R"(</v2/_catalog?last=a>)",                     // no rel at all
      R"(</v2/_catalog?last=a>; rel="nextpage")",     // not "next"
      R"(/v2/_catalog?last=a; rel="next")",           // no brackets
      R"(</v2/_catalog?last=a; rel="next")",          // unterminated
      R"(<ftp://h/v2/_catalog>; rel="next")",         // not http(s)
      R"(<//evil.example/v2/_catalog>; rel="next")",  // network-path reference
      R"(<v2/_catalog>; rel="next")",                 // relative path
  };
  for (const char* header : none) EXPECT_FALSE(NextPageTarget(header).has_value()) << header;
}

}  // namespace
}  // namespace berth::cli::admin
