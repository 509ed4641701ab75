// Tests for auth/policy.hpp: which requested scopes a user gets
// (owner namespaces, public pull, reserved namespaces, admins, catalog).

#include "auth/policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::auth {
namespace {

using Actions = std::vector<std::string>;

Identity User(const std::string& name) { return Identity{name, false, true}; }
Identity Anonymous() { return Identity{}; }

PolicyOptions Options() {
  PolicyOptions o;
  o.admins = {"root"};
  o.public_namespaces = {"public"};
  o.reserved_namespaces = {"mtce"};
  return o;
}

// The actions `who` gets on repository `name` when asking for pull, push,
// delete and "*" there.
Actions RepoGrant(const Policy& p, const Identity& who, const std::string& name) {
  auto got = p.Grant(who, {{"repository", name, {"*", "delete", "pull", "push"}}});
  if (got.empty()) return {};
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, "repository");
  EXPECT_EQ(got[0].name, name);
  return got[0].actions;
}

const Actions kAll = {"*", "delete", "pull", "push"};
const Actions kPull = {"pull"};
const Actions kNone = {};

TEST(PolicyTest, RepositoryGrantsByUserAndName) {
  const Policy p(Options());
  struct Case {
    Identity who;
    const char* name;
    Actions want;
  };
  const Case cases[] = {
      // An owner gets everything in "<user>/...".
      {User("alice"), "alice/x", kAll},
      {User("alice"), "alice/deep/er/x", kAll},
      // The '/' is part of the match.
      {User("alice"), "alice2/x", kNone},
      {User("alice"), "alice", kNone},
      {User("alic"), "alice/x", kNone},
      {User("alice"), "bob/x", kNone},
      {User("bob"), "alice/x", kNone},
      // Public namespaces: pull for every authenticated user, nothing more.
      {User("alice"), "public/x", kPull},
      {User("bob"), "public/deep/x", kPull},
      {User("alice"), "public", kNone},
      {User("alice"), "publicx/y", kNone},
      // Anonymous clients get nothing by default.
      {Anonymous(), "public/x", kNone},
      {Anonymous(), "alice/x", kNone},
      {Identity{"alice", false, false}, "alice/x", kNone},  // named but not authenticated
      // Reserved namespaces are closed to their "owner" and everyone else.
      {User("mtce"), "mtce/x", kNone},
      {User("alice"), "mtce/x", kNone},
      // Admins get every repository action, reserved namespaces included.
      {User("root"), "mtce/x", kAll},
      {User("root"), "alice/x", kAll},
      {User("root"), "public/x", kAll},
      {Identity{"carol", true, true}, "bob/x", kAll},
      {Identity{"root", false, false}, "alice/x", kNone},  // the list needs a real login
      {Identity{"carol", true, false}, "alice/x", kNone},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE((c.who.authenticated ? c.who.name : "<anonymous>") + std::string(" on ") + c.name);
    EXPECT_EQ(RepoGrant(p, c.who, c.name), c.want);
  }
}

TEST(PolicyTest, AnonymousPullOpensOnlyPublicPull) {
  PolicyOptions o = Options();
  o.anonymous_pull = true;
  const Policy p(o);
  EXPECT_EQ(RepoGrant(p, Anonymous(), "public/x"), kPull);
  EXPECT_EQ(RepoGrant(p, Anonymous(), "alice/x"), kNone);
  EXPECT_EQ(RepoGrant(p, Anonymous(), "mtce/x"), kNone);
  EXPECT_EQ(RepoGrant(p, User("alice"), "public/x"), kPull);
}

TEST(PolicyTest, CatalogIsForAdminsOnly) {
  const Policy p(Options());
  const std::vector<Scope> catalog = {{"registry", "catalog", {"*"}}};
  EXPECT_EQ(p.Grant(User("root"), catalog), catalog);
  EXPECT_EQ(p.Grant(Identity{"carol", true, true}, catalog), catalog);
  EXPECT_TRUE(p.Grant(User("alice"), catalog).empty());
  EXPECT_TRUE(p.Grant(Anonymous(), catalog).empty());
  // Only registry:catalog:* exists; other registry scopes are refused.
  EXPECT_TRUE(p.Grant(User("root"), {{"registry", "catalog", {"pull"}}}).empty());
  EXPECT_TRUE(p.Grant(User("root"), {{"registry", "other", {"*"}}}).empty());
}

TEST(PolicyTest, AdminExtensionsAreForAdminsOnly) {
  const Policy p(Options());
  const std::vector<Scope> admin = {{"registry", "admin", {"*"}}};
  EXPECT_EQ(p.Grant(User("root"), admin), admin);
  EXPECT_TRUE(p.Grant(User("alice"), admin).empty());
  EXPECT_TRUE(p.Grant(User("admin2"), admin).empty());
  EXPECT_TRUE(p.Grant(Anonymous(), admin).empty());
  EXPECT_TRUE(p.Grant(User("root"), {{"registry", "admin", {"pull"}}}).empty());
}

TEST(PolicyTest, UnknownTypesAndActionsAreDenied) {
  const Policy p(Options());
  for (const Identity& who : {User("alice"), User("root")}) {
    SCOPED_TRACE(who.name);
    EXPECT_TRUE(p.Grant(who, {{"foo", "alice/x", {"pull"}}}).empty());
    EXPECT_TRUE(p.Grant(who, {{"repository", "alice/x", {"fly"}}}).empty());
  }
  // A known action next to an unknown one is kept on its own.
  auto got = p.Grant(User("alice"), {{"repository", "alice/x", {"fly", "pull"}}});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].actions, kPull);
}

TEST(PolicyTest, KeepsGrantedScopesInOrderAndDropsEmptyOnes) {
  const Policy p(Options());
  const std::vector<Scope> asked = {
      {"repository", "bob/x", {"pull"}},             // denied: dropped
      {"repository", "alice/x", {"pull", "push"}},   // granted
      {"repository", "public/x", {"pull", "push"}},  // pull only
      {"registry", "catalog", {"*"}},                // denied: dropped
      {"repository", "alice/y", {}},                 // nothing asked: dropped
  };
  const std::vector<Scope> want = {
      {"repository", "alice/x", {"pull", "push"}},
      {"repository", "public/x", {"pull"}},
  };
  EXPECT_EQ(p.Grant(User("alice"), asked), want);
  EXPECT_TRUE(p.Grant(User("alice"), {}).empty());
}

TEST(PolicyTest, IsAdminByListOrFlag) {
  const Policy p(Options());
  EXPECT_TRUE(p.IsAdmin(User("root")));
  EXPECT_TRUE(p.IsAdmin(Identity{"carol", true, true}));
  EXPECT_FALSE(p.IsAdmin(User("alice")));
  EXPECT_FALSE(p.IsAdmin(Anonymous()));
  EXPECT_FALSE(p.IsAdmin(Identity{"root", false, false}));
  EXPECT_FALSE(p.IsAdmin(Identity{"carol", true, false}));
}

TEST(PolicyTest, SeveralPublicAndReservedNamespaces) {
  PolicyOptions o;
  o.public_namespaces = {"public", "library"};
  o.reserved_namespaces = {"mtce", "system"};
  const Policy p(o);
  EXPECT_EQ(RepoGrant(p, User("alice"), "library/ubuntu"), kPull);
  EXPECT_EQ(RepoGrant(p, User("system"), "system/x"), kNone);
  // With no public namespace configured nothing is public.
  PolicyOptions none;
  none.public_namespaces.clear();
  EXPECT_EQ(RepoGrant(Policy(none), User("alice"), "public/x"), kNone);
}

// Keystone passes the typed user name through unvalidated (htpasswd names
// are validated), and Keystone names may hold '/': such a user must not own
// part of another user's namespace, nor push into a public one.
// Regression: such names used to own "alice/evil/..." inside alice's namespace.
TEST(PolicyTest, UserNameWithSlashOwnsNoSubNamespace) {
  const Policy p(Options());
  EXPECT_EQ(RepoGrant(p, User("alice/evil"), "alice/evil/x"), kNone);
  EXPECT_EQ(RepoGrant(p, User("public/x"), "public/x/y"), kPull);
}

// A user named after a public namespace must not push what everybody pulls.
TEST(PolicyTest, UserNamedPublicOwnsNothing) {
  const Policy p(Options());
  EXPECT_EQ(RepoGrant(p, User("public"), "public/x"), kPull);
}

}  // namespace
}  // namespace berth::auth
