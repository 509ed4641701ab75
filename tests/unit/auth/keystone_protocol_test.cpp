// Tests for the Keystone login as pure functions (auth/keystone/keystone_protocol.hpp):
// URL normalisation, the request body, and the meaning of every answer.

#include "auth/keystone/keystone_protocol.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/keystone/keystone_authenticator.hpp"

namespace berth::auth::keystone {
namespace {

namespace json = boost::json;

TEST(KeystoneTokensUrl, AcceptsWithAndWithoutV3) {
  const struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"http://127.0.0.1:5000/v3", "http://127.0.0.1:5000/v3/auth/tokens?nocatalog"},
      {"http://127.0.0.1:5000/v3/", "http://127.0.0.1:5000/v3/auth/tokens?nocatalog"},
      {"http://127.0.0.1:5000", "http://127.0.0.1:5000/v3/auth/tokens?nocatalog"},
      {"http://127.0.0.1:5000/", "http://127.0.0.1:5000/v3/auth/tokens?nocatalog"},
      {"https://ks.example.com/identity",
       "https://ks.example.com/identity/v3/auth/tokens?nocatalog"},
      {"https://ks.example.com/identity/v3//",
       "https://ks.example.com/identity/v3/auth/tokens?nocatalog"},
      {"http://[::1]:5000/v3", "http://[::1]:5000/v3/auth/tokens?nocatalog"},
  };
  for (const auto& c : cases) {
    auto r = TokensUrl(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().message();
    EXPECT_EQ(*r, c.out) << c.in;
  }
}

TEST(KeystoneTokensUrl, RefusesOthers) {
  for (const char* bad : {"", "127.0.0.1:5000", "ftp://h/v3", "file:///etc/passwd", "http:///v3",
                          "http://u:p@h:5000/v3", "http://h:5000/v3?x=1", "http://h/v3#f", "/v3"}) {
    auto r = TokensUrl(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Errc::kInternal);
    }
  }
}

json::object Parse(const std::string& body) { return json::parse(body).as_object(); }

TEST(KeystoneAuthRequestBody, UnscopedByDomainName) {
  KeystoneOptions o;
  json::object b = Parse(AuthRequestBody(o, "alice", Secret("p\"w\\")));
  const json::object& auth = b.at("auth").as_object();
  EXPECT_EQ(auth.at("scope"), "unscoped");
  const json::object& id = auth.at("identity").as_object();
  EXPECT_EQ(id.at("methods"), json::array{"password"});
  const json::object& user = id.at("password").at("user").as_object();
  EXPECT_EQ(user.at("name"), "alice");
  EXPECT_EQ(user.at("password"), "p\"w\\");  // escaped on the wire, intact after parsing
  EXPECT_EQ(user.at("domain"), (json::object{{"name", "Default"}}));
}

TEST(KeystoneAuthRequestBody, ProjectScopedByIds) {
  KeystoneOptions o;
  o.user_domain_id = "default";
  o.project = "berth";
  o.project_domain_id = "d1";
  json::object b = Parse(AuthRequestBody(o, "bob", Secret("pw")));
  const json::object& auth = b.at("auth").as_object();
  EXPECT_EQ(auth.at("identity").at("password").at("user").at("domain"),
            (json::object{{"id", "default"}}));
  EXPECT_EQ(auth.at("scope"),
            (json::object{{"project", json::object{{"name", "berth"},
                                                   {"domain", json::object{{"id", "d1"}}}}}}));
}

TEST(KeystoneAuthRequestBody, ProjectDomainByNameDefault) {
  KeystoneOptions o;
  o.project = "berth";
  json::object b = Parse(AuthRequestBody(o, "bob", Secret("pw")));
  EXPECT_EQ(b.at("auth").at("scope").at("project").at("domain"),
            (json::object{{"name", "Default"}}));
}

constexpr const char* kUnscoped =
    R"({"token":{"methods":["password"],"user":{"domain":{"id":"default","name":"Default"},)"
    R"("id":"b7","name":"alice","password_expires_at":null},"audit_ids":["x"],)"
    R"("expires_at":"2026-11-28T02:49:15.000000Z","issued_at":"2026-11-28T01:49:15.000000Z"}})";
constexpr const char* kScopedMember =
    R"({"token":{"methods":["password"],"user":{"id":"b7","name":"alice"},)"
    R"("project":{"id":"p","name":"berth"},"roles":[{"id":"1","name":"member"},{"id":"2","name":"reader"}]}})";
constexpr const char* kScopedAdmin =
    R"({"token":{"user":{"id":"c","name":"carol"},"project":{"id":"p","name":"berth"},)"
    R"("roles":[{"id":"1","name":"reader"},{"id":"3","name":"admin"},{"id":"2","name":"member"}]}})";
constexpr const char* k401 =
    R"({"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}})";

// One answer of Keystone and how it must be read.
struct InterpretCase {
  const KeystoneOptions* options;
  long status;
  const char* body;
  AuthOutcome outcome;
  bool admin;
};

// What every reading must give: the outcome and admin flag of the case, the
// name as the client gave it, authenticated only when Ok, and the status in
// the detail (for the log).
void ExpectReading(const AuthResult& r, const InterpretCase& c) {
  EXPECT_EQ(r.outcome, c.outcome) << c.status << " " << c.body;
  EXPECT_EQ(r.identity.admin, c.admin) << c.status << " " << c.body;
  EXPECT_EQ(r.identity.authenticated, c.outcome == AuthOutcome::kOk) << c.status;
  if (c.outcome == AuthOutcome::kOk) {
    EXPECT_EQ(r.identity.name, "alice");  // as given, whatever the token says
  }
  EXPECT_NE(r.detail.find(std::to_string(c.status)), std::string::npos) << r.detail;
}

KeystoneOptions Scoped() {
  KeystoneOptions o;
  o.project = "berth";
  return o;
}

TEST(KeystoneInterpret, Outcomes) {
  const KeystoneOptions unscoped;
  const KeystoneOptions scoped = Scoped();
  const InterpretCase cases[] = {
      {&unscoped, 201, kUnscoped, AuthOutcome::kOk, false},
      {&unscoped, 201, kScopedAdmin, AuthOutcome::kOk, false},  // roles ignored when unscoped
      {&scoped, 201, kScopedMember, AuthOutcome::kOk, false},
      {&scoped, 201, kScopedAdmin, AuthOutcome::kOk, true},
      {&scoped, 201, kUnscoped, AuthOutcome::kUnavailable, false},  // scoped but no roles
      {&unscoped, 201, "", AuthOutcome::kUnavailable, false},
      {&unscoped, 201, "not json", AuthOutcome::kUnavailable, false},
      {&unscoped, 201, "[1]", AuthOutcome::kUnavailable, false},
      {&unscoped, 201, R"({"token":1})", AuthOutcome::kUnavailable, false},
      {&unscoped, 401, k401, AuthOutcome::kBadCredentials, false},
      {&scoped, 401, k401, AuthOutcome::kBadCredentials, false},
      {&unscoped, 400, "{}", AuthOutcome::kBadCredentials, false},
      {&unscoped, 403, "{}", AuthOutcome::kBadCredentials, false},
      {&unscoped, 404, "", AuthOutcome::kBadCredentials, false},
      {&unscoped, 200, kUnscoped, AuthOutcome::kUnavailable, false},
      {&unscoped, 302, "", AuthOutcome::kUnavailable, false},
      {&unscoped, 409, "", AuthOutcome::kUnavailable, false},
      {&unscoped, 429, "", AuthOutcome::kUnavailable, false},
      {&unscoped, 500, "", AuthOutcome::kUnavailable, false},
      {&unscoped, 503, "", AuthOutcome::kUnavailable, false},
  };
  for (const auto& c : cases) {
    ExpectReading(InterpretAuthResponse(*c.options, "alice", c.status, c.body), c);
  }
}

// Validation of a web interface session's token (GET /v3/auth/tokens).
TEST(KeystoneInterpret, ValidateResponses) {
  const KeystoneOptions unscoped;
  const KeystoneOptions scoped = Scoped();
  const InterpretCase cases[] = {
      {&unscoped, 200, kUnscoped, AuthOutcome::kOk, false},
      {&scoped, 200, kScopedAdmin, AuthOutcome::kOk, true},
      {&scoped, 200, kScopedMember, AuthOutcome::kOk, false},
      {&scoped, 200, kUnscoped, AuthOutcome::kUnavailable, false},  // no roles: broken
      {&unscoped, 200, "not json", AuthOutcome::kUnavailable, false},
      {&unscoped, 404, "", AuthOutcome::kBadCredentials, false},  // expired, revoked
      {&unscoped, 401, k401, AuthOutcome::kBadCredentials, false},
      {&unscoped, 403, "{}", AuthOutcome::kUnavailable, false},  // policy: configuration
      {&unscoped, 201, kUnscoped, AuthOutcome::kUnavailable, false},
      {&unscoped, 500, "", AuthOutcome::kUnavailable, false},
      {&unscoped, 503, "", AuthOutcome::kUnavailable, false},
  };
  for (const auto& c : cases) {
    ExpectReading(InterpretValidateResponse(*c.options, "alice", c.status, c.body), c);
  }
}

TEST(KeystoneInterpret, CustomAdminRole) {
  KeystoneOptions o;
  o.project = "berth";
  o.admin_role = "registry-admin";
  EXPECT_FALSE(InterpretAuthResponse(o, "carol", 201, kScopedAdmin).identity.admin);
  o.admin_role = "member";
  EXPECT_TRUE(InterpretAuthResponse(o, "alice", 201, kScopedMember).identity.admin);
}

TEST(KeystoneInterpret, DetailNeverQuotesTheBody) {
  // A 400's schema message can echo the request, password included.
  AuthResult r = InterpretAuthResponse(
      KeystoneOptions{}, "alice", 400,
      R"({"error":{"code":400,"message":"Invalid input: 'hunter2' is too long","title":"Bad Request"}})");
  EXPECT_EQ(r.detail.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace berth::auth::keystone
