// Tests for ui/catalog_filter.hpp: the per-user catalog keeps only allowed
// names, searches, pages, and bounds the names it reads.

#include "ui/catalog_filter.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace berth::ui {
namespace {

class CatalogFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2500; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "bob/r%04d", i);
      names_.push_back(buf);
    }
    names_.insert(names_.end(), {"alice/App", "alice/web", "public/base", "public/tools"});
    std::sort(names_.begin(), names_.end());
  }

  Result<CatalogPage> Run(const CatalogQuery& q) {
    return FilterCatalog(
        q,
        [this](const std::string& last, size_t limit) -> Result<std::vector<std::string>> {
          ++calls_;
          std::vector<std::string> out;
          for (const auto& n : names_) {
            if (n > last && out.size() < limit) out.push_back(n);
          }
          return out;
        },
        [](const std::string& n) { return n.starts_with("alice/") || n.starts_with("public/"); });
  }

  std::vector<std::string> names_;
  int calls_ = 0;
};

TEST_F(CatalogFilterTest, KeepsOnlyAllowedNamesAcrossBatches) {
  auto p = Run({});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->names,
            (std::vector<std::string>{"alice/App", "alice/web", "public/base", "public/tools"}));
  EXPECT_EQ(p->next, "");
  EXPECT_GE(calls_, 3);  // 2504 names in batches of 1000
}

TEST_F(CatalogFilterTest, SearchIgnoresCase) {
  CatalogQuery q;
  q.q = "APP";
  auto p = Run(q);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->names, std::vector<std::string>{"alice/App"});
  q.q = "r0001";  // only bob's names match: nothing leaks
  p = Run(q);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->names.empty());
}

TEST_F(CatalogFilterTest, PagesWithNextAndLast) {
  CatalogQuery q;
  q.n = 3;
  auto p = Run(q);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->names.size(), 3u);
  EXPECT_EQ(p->next, "public/base");
  q.last = p->next;
  p = Run(q);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->names, std::vector<std::string>{"public/tools"});
  EXPECT_EQ(p->next, "");
}

TEST_F(CatalogFilterTest, BoundedScanHandsBackACursor) {
  CatalogQuery q;
  q.max_scan = 1500;  // alice/ comes first; the rest of bob's names are not reached
  q.last = "alice/web";
  auto p = Run(q);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->names.empty());
  EXPECT_EQ(p->next, "bob/r1499");
}

TEST_F(CatalogFilterTest, StoreErrorsPassThrough) {
  auto p = FilterCatalog(
      {},
      [](const std::string&, size_t) -> Result<std::vector<std::string>> {
        return Status(Errc::kUnavailable, "db down");
      },
      [](const std::string&) { return true; });
  EXPECT_EQ(p.status().code(), Errc::kUnavailable);
}

TEST(ContainsFoldedTest, Cases) {
  EXPECT_TRUE(ContainsFolded("alice/App", ""));
  EXPECT_TRUE(ContainsFolded("alice/App", "e/a"));
  EXPECT_FALSE(ContainsFolded("alice/App", "bob"));
  EXPECT_FALSE(ContainsFolded("ab", "abc"));
}

}  // namespace
}  // namespace berth::ui
