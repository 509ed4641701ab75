// Tests for retention policies (lifecycle/retention.hpp): globs, which
// policy applies, and which tags each rule keeps.

#include "lifecycle/retention.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace berth::lifecycle {
namespace {

using storage::TagInfo;
constexpr int64_t kNow = 1'000'000'000;
constexpr int64_t kDay = 86400;

std::vector<std::string> Names(std::vector<TagInfo> tags) {
  std::vector<std::string> out;
  for (const auto& t : tags) out.push_back(t.name);
  std::sort(out.begin(), out.end());
  return out;
}

RetentionPolicy Policy(std::optional<uint64_t> last, std::optional<uint64_t> days,
                       std::string regex = "") {
  RetentionPolicy p{"**", last, days, std::move(regex), {}};
  EXPECT_TRUE(Compile(p).ok());
  return p;
}

// Five tags pushed a day apart (t1 oldest), none pulled.
std::vector<TagInfo> FiveTags() {
  std::vector<TagInfo> tags;
  for (int i = 1; i <= 5; ++i) {
    tags.push_back({"t" + std::to_string(i), "sha256:x", kNow - (6 - i) * kDay, 0});
  }
  return tags;
}

TEST(GlobTest, StarStopsAtSlashDoubleStarCrosses) {
  EXPECT_TRUE(GlobMatch("alice/*", "alice/app"));
  EXPECT_FALSE(GlobMatch("alice/*", "alice/app/web"));
  EXPECT_TRUE(GlobMatch("alice/**", "alice/app/web"));
  EXPECT_FALSE(GlobMatch("alice/*", "alice"));
  EXPECT_FALSE(GlobMatch("alice/*", "alice2/app"));
  EXPECT_TRUE(GlobMatch("**", "a/b/c"));
  EXPECT_TRUE(GlobMatch("*/ci-*", "bob/ci-build"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "a/c"));
  EXPECT_TRUE(GlobMatch("exact/name", "exact/name"));
  EXPECT_FALSE(GlobMatch("exact/name", "exact/name2"));
}

TEST(RetentionTest, FirstMatchingPolicyApplies) {
  std::vector<RetentionPolicy> ps = {Policy(1, std::nullopt), Policy(2, std::nullopt)};
  ps[0].repositories = "alice/*";
  ps[1].repositories = "**";
  EXPECT_EQ(PolicyFor(ps, "alice/app"), &ps[0]);
  EXPECT_EQ(PolicyFor(ps, "bob/app"), &ps[1]);
  ps.pop_back();
  EXPECT_EQ(PolicyFor(ps, "bob/app"), nullptr);
}

TEST(RetentionTest, KeepLastKeepsTheNewestPushes) {
  EXPECT_EQ(Names(TagsToDelete(Policy(2, std::nullopt), FiveTags(), kNow)),
            (std::vector<std::string>{"t1", "t2", "t3"}));
  EXPECT_TRUE(TagsToDelete(Policy(10, std::nullopt), FiveTags(), kNow).empty());
  EXPECT_EQ(TagsToDelete(Policy(0, std::nullopt), FiveTags(), kNow).size(), 5u);
}

TEST(RetentionTest, KeepDaysCountsPushesAndPulls) {
  auto tags = FiveTags();
  tags[0].pulled_at = kNow - kDay / 2;  // t1: pushed 5 days ago, pulled today
  // Within 2 days: t4 (2 days ago, at the boundary) and t5; t1 by its pull.
  EXPECT_EQ(Names(TagsToDelete(Policy(std::nullopt, 2), tags, kNow)),
            (std::vector<std::string>{"t2", "t3"}));
}

TEST(RetentionTest, AnyRuleKeeps) {
  auto tags = FiveTags();
  tags[0].name = "v1.0";
  // keep_last 1 keeps t5, the regex keeps v1.0.
  EXPECT_EQ(Names(TagsToDelete(Policy(1, std::nullopt, "^v[0-9]"), tags, kNow)),
            (std::vector<std::string>{"t2", "t3", "t4"}));
}

TEST(RetentionTest, APolicyWithoutRulesKeepsEverything) {
  EXPECT_TRUE(TagsToDelete(Policy(std::nullopt, std::nullopt), FiveTags(), kNow).empty());
}

TEST(RetentionTest, BadRegexIsAnError) {
  RetentionPolicy p{"**", std::nullopt, std::nullopt, "([", {}};
  Status s = Compile(p);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("keep_tags"), std::string::npos);
}

}  // namespace
}  // namespace berth::lifecycle
