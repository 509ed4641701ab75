// Tests for auth/scope.hpp: the scope grammar of the Docker token protocol
// (distribution docs/spec/auth/scope.md), table-driven as in leveldb's
// filename_test (cases[] then errors[]).

#include "auth/scope.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::auth {
namespace {

using Actions = std::vector<std::string>;

TEST(ScopeTest, ParsesValidScopes) {
  struct Case {
    const char* text;
    const char* type;
    const char* name;
    Actions actions;
  };
  const Case cases[] = {
      {"repository:alice/app:pull,push", "repository", "alice/app", {"pull", "push"}},
      {"repository:alice/app:pull", "repository", "alice/app", {"pull"}},
      // A name may carry a host:port prefix: the type ends at the first ':',
      // the actions start after the last.
      {"repository:host:5000/a/b:pull,push", "repository", "host:5000/a/b", {"pull", "push"}},
      // The resource class is dropped.
      {"repository(plugin):a:pull", "repository", "a", {"pull"}},
      {"registry:catalog:*", "registry", "catalog", {"*"}},
      {"repository:a:*", "repository", "a", {"*"}},
      // Actions are sorted and made unique.
      {"repository:a:push,pull", "repository", "a", {"pull", "push"}},
      {"repository:a:push,pull,push,pull", "repository", "a", {"pull", "push"}},
      {"repository:a:delete,*,pull", "repository", "a", {"*", "delete", "pull"}},
      // action := [a-z]*: an empty list, and empty items, add nothing.
      {"repository:a:", "repository", "a", {}},
      {"repository:a:pull,,push", "repository", "a", {"pull", "push"}},
      {"repository:a:,", "repository", "a", {}},
      // Unknown types and actions are grammatical; the policy refuses them.
      {"foo9:bar:baz", "foo9", "bar", {"baz"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto s = ParseScope(c.text);
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(s->type, c.type);
    EXPECT_EQ(s->name, c.name);
    EXPECT_EQ(s->actions, c.actions);
  }
}

TEST(ScopeTest, RejectsMalformedScopes) {
  const char* errors[] = {
      "",
      "repository",
      "repository:a",            // no actions part
      ":a:pull",                 // empty type
      "Repo:a:pull",             // type is [a-z0-9]+
      "repo-x:a:pull",           //
      "repository::pull",        // empty name
      "repository:a:PULL",       // action is [a-z]*
      "repository:a:pu-ll",      //
      "repository:a:pull,Push",  //
      "repository:a:pull push",  // ParseScope takes one scope
      "repository:a:**",         // "*" alone only
      "repository():a:pull",     // empty class
      "repository(Plugin):a:pull",
      "repository(plugin:a:pull",  // unclosed class
  };
  for (const char* text : errors) {
    SCOPED_TRACE(text);
    auto s = ParseScope(text);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), Errc::kScopeInvalid);
    EXPECT_FALSE(s.status().message().empty());
  }
}

TEST(ScopeTest, ParsesSpaceSeparatedLists) {
  struct Case {
    const char* text;
    std::vector<Scope> want;
  };
  const Case cases[] = {
      {"", {}},
      {" ", {}},
      {"   ", {}},
      {"repository:a:pull", {{"repository", "a", {"pull"}}}},
      {"repository:a:pull repository:b:push,pull",
       {{"repository", "a", {"pull"}}, {"repository", "b", {"pull", "push"}}}},
      // Several spaces between, before and after.
      {"  repository:a:pull    registry:catalog:*  ",
       {{"repository", "a", {"pull"}}, {"registry", "catalog", {"*"}}}},
      // Duplicates are kept; the policy treats each on its own.
      {"repository:a:pull repository:a:pull",
       {{"repository", "a", {"pull"}}, {"repository", "a", {"pull"}}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto s = ParseScopes(c.text);
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(*s, c.want);
  }
}

TEST(ScopeTest, OneBadScopeFailsTheList) {
  for (const char* text : {"repository:a:pull repository", "repository:a:pull  Repo:b:pull",
                           "repository::pull repository:a:pull"}) {
    SCOPED_TRACE(text);
    auto s = ParseScopes(text);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), Errc::kScopeInvalid);
  }
}

TEST(ScopeTest, ToStringIsTheWireForm) {
  EXPECT_EQ(ToString({"repository", "alice/app", {"pull", "push"}}),
            "repository:alice/app:pull,push");
  EXPECT_EQ(ToString({"registry", "catalog", {"*"}}), "registry:catalog:*");
  EXPECT_EQ(ToString({"repository", "a", {}}), "repository:a:");
}

TEST(ScopeTest, ToStringRoundTrips) {
  // Normalised input (sorted, unique, no class) comes back byte for byte.
  for (const char* text : {"repository:alice/app:pull,push", "repository:host:5000/a/b:delete",
                           "registry:catalog:*", "repository:a:", "repository:a:*,pull"}) {
    SCOPED_TRACE(text);
    auto s = ParseScope(text);
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(ToString(*s), text);
    auto again = ParseScope(ToString(*s));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *s);
  }
  // Unnormalised input comes back normalised.
  auto s = ParseScope("repository(plugin):a:push,pull,push");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(ToString(*s), "repository:a:pull,push");
}

TEST(ScopeTest, AllowsMatchesTypeNameAndAction) {
  const std::vector<Scope> granted = {
      {"repository", "alice/app", {"pull", "push"}},
      {"repository", "bob/all", {"*"}},
      {"registry", "catalog", {"*"}},
  };
  struct Case {
    const char* type;
    const char* name;
    const char* action;
    bool want;
  };
  const Case cases[] = {
      {"repository", "alice/app", "pull", true},
      {"repository", "alice/app", "push", true},
      {"repository", "alice/app", "delete", false},
      {"repository", "alice/app2", "pull", false},
      {"repository", "alice", "pull", false},
      {"registry", "alice/app", "pull", false},  // type must match too
      {"repository", "bob/all", "pull", true},   // "*" matches any action
      {"repository", "bob/all", "delete", true},
      {"repository", "bob/all", "anything", true},
      {"registry", "catalog", "*", true},
      {"registry", "catalog", "pull", true},
      {"repository", "catalog", "*", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.type) + ":" + c.name + ":" + c.action);
    EXPECT_EQ(Allows(granted, c.type, c.name, c.action), c.want);
  }
  EXPECT_FALSE(Allows({}, "repository", "a", "pull"));
  // An explicit "*" request is granted only by a "*" grant.
  EXPECT_FALSE(Allows(granted, "repository", "alice/app", "*"));
  EXPECT_TRUE(Allows(granted, "repository", "bob/all", "*"));
}

}  // namespace
}  // namespace berth::auth
