// Tests for registry/tags.cpp without sockets: GET /v2/<name>/tags/list and
// GET /v2/_catalog, sorted, paged with n and last, with a Link header while
// more remain.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "open_registry.hpp"

namespace berth::registry {
namespace {

class TagsTest : public OpenRegistryTest {
 protected:
  // Pushes one manifest under each of `tags` in `repo`.
  void Tag(const std::string& repo, const std::vector<std::string>& tags) {
    const std::string config = PushBlob(repo, "{}");
    for (const auto& tag : tags) {
      ASSERT_EQ(PutManifest(repo, tag, ImageManifest(config, 2)).status, 201) << tag;
    }
  }
  http::Response List(const std::string& path, http::Fields query = {}) {
    return Send(Req("GET", path, std::move(query)));
  }
};

TEST_F(TagsTest, ListsTagsSorted) {
  Tag("a/b", {"v2", "latest", "v10", "v1"});
  http::Response r = List("/v2/a/b/tags/list");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"name":"a/b","tags":["latest","v1","v10","v2"]})");
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  EXPECT_EQ(Header(r, "Link"), "<none>");
}

TEST_F(TagsTest, PagesWithNAndLast) {
  Tag("a", {"t1", "t2", "t3", "t4", "t5"});
  http::Response r = List("/v2/a/tags/list", {{"n", "2"}});
  EXPECT_EQ(r.body, R"({"name":"a","tags":["t1","t2"]})");
  EXPECT_EQ(Header(r, "Link"), R"(</v2/a/tags/list?last=t2&n=2>; rel="next")");
  r = List("/v2/a/tags/list", {{"n", "2"}, {"last", "t2"}});
  EXPECT_EQ(r.body, R"({"name":"a","tags":["t3","t4"]})");
  EXPECT_EQ(Header(r, "Link"), R"(</v2/a/tags/list?last=t4&n=2>; rel="next")");
  r = List("/v2/a/tags/list", {{"n", "2"}, {"last", "t4"}});
  EXPECT_EQ(r.body, R"({"name":"a","tags":["t5"]})");
  EXPECT_EQ(Header(r, "Link"), "<none>");
  // Exactly n left: no Link to an empty page.
  r = List("/v2/a/tags/list", {{"n", "5"}});
  EXPECT_EQ(Header(r, "Link"), "<none>");
  // last alone, and a last that sorts between tags.
  EXPECT_EQ(List("/v2/a/tags/list", {{"last", "t3"}}).body, R"({"name":"a","tags":["t4","t5"]})");
  EXPECT_EQ(List("/v2/a/tags/list", {{"last", "t35"}}).body, R"({"name":"a","tags":["t4","t5"]})");
  EXPECT_EQ(List("/v2/a/tags/list", {{"last", "zzz"}}).body, R"({"name":"a","tags":[]})");
  r = List("/v2/a/tags/list", {{"n", "0"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"name":"a","tags":[]})");
  EXPECT_EQ(Header(r, "Link"), "<none>");
}

TEST_F(TagsTest, BadNIsPaginationNumberInvalid) {
  Tag("a", {"t1"});
  for (const std::string n : {"", "x", "-1", "2x", "1.5"}) {
    SCOPED_TRACE(n);
    http::Response r = List("/v2/a/tags/list", {{"n", n}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(Code(r), "PAGINATION_NUMBER_INVALID");
  }
}

TEST_F(TagsTest, UnknownRepositoryIsNameUnknown) {
  http::Response r = List("/v2/nobody/tags/list");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "NAME_UNKNOWN");
}

TEST_F(TagsTest, DeletedTagLeavesTheList) {
  Tag("a", {"keep", "drop"});
  ASSERT_EQ(Send(Req("DELETE", "/v2/a/manifests/drop")).status, 202);
  EXPECT_EQ(List("/v2/a/tags/list").body, R"({"name":"a","tags":["keep"]})");
}

TEST_F(TagsTest, CatalogListsRepositoriesSortedAndPaged) {
  EXPECT_EQ(List("/v2/_catalog").body, R"({"repositories":[]})");
  for (const std::string repo : {"zeta", "a/b", "a", "m/n/o"}) Tag(repo, {"v1"});
  http::Response r = List("/v2/_catalog");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"repositories":["a","a/b","m/n/o","zeta"]})");
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  r = List("/v2/_catalog", {{"n", "2"}});
  EXPECT_EQ(r.body, R"({"repositories":["a","a/b"]})");
  // The slash in the name is escaped in the link.
  EXPECT_EQ(Header(r, "Link"), R"(</v2/_catalog?last=a%2Fb&n=2>; rel="next")");
  r = List("/v2/_catalog", {{"n", "2"}, {"last", "a/b"}});
  EXPECT_EQ(r.body, R"({"repositories":["m/n/o","zeta"]})");
  EXPECT_EQ(Header(r, "Link"), "<none>");
  r = List("/v2/_catalog", {{"n", "many"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "PAGINATION_NUMBER_INVALID");
}

TEST_F(TagsTest, ListingsAreReadOnly) {
  for (const char* method : {"PUT", "POST", "DELETE"}) {
    SCOPED_TRACE(method);
    EXPECT_EQ(Send(Req(method, "/v2/a/tags/list")).status, 405);
    EXPECT_EQ(Send(Req(method, "/v2/_catalog")).status, 405);
  }
}

}  // namespace
}  // namespace berth::registry
