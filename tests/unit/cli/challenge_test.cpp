// Tests for cli/admin/challenge.hpp: Bearer challenges as registries send
// them (distribution, berth, Harbor, quay), several challenges in one header,
// escapes, case, and the broken headers that must not become a login.

#include "cli/admin/challenge.hpp"

#include <gtest/gtest.h>

namespace berth::cli::admin {
namespace {

TEST(AdminChallenge, ParsesRegistryChallenges) {
  struct Case {
    const char* header;
    const char* realm;
    const char* service;
    const char* scope;
    const char* error;
  } cases[] = {
      {R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:alice/app:pull")",
       "https://auth.example/token", "registry.example", "repository:alice/app:pull", ""},
      {R"(Bearer realm="https://h:9002/token",service="berth",scope="registry:catalog:*",error="insufficient_scope")",
       "https://h:9002/token", "berth", "registry:catalog:*", "insufficient_scope"},
      // No scope: /v2/ itself.
      {R"(Bearer realm="https://h/token",service="berth")", "https://h/token", "berth", "", ""},
      // Scheme and names in any case, spaces around '=' and ','.
      {R"(bearer Realm = "https://h/t" , SERVICE=berth ,scope="a:b:pull")", "https://h/t", "berth",
       "a:b:pull", ""},
      // Several scopes in one parameter.
      {R"(Bearer realm="https://h/t",scope="repository:a/b:pull repository:c/d:pull,push")",
       "https://h/t", "", "repository:a/b:pull repository:c/d:pull,push", ""},
      // Backslash escapes inside a quoted string.
      {R"(Bearer realm="https://h/t?x=\"y\"",service="s\\1")", R"(https://h/t?x="y")", R"(s\1)", "",
       ""},
      // Another challenge first, whose quoted value holds a comma.
      {R"(Basic realm="Registry, please log in", Bearer realm="https://h/t",service="berth")",
       "https://h/t", "berth", "", ""},
      // Another challenge after, with a token68.
      {R"(Bearer realm="https://h/t",service="berth", Negotiate YWJj/ZA==)", "https://h/t", "berth",
       "", ""},
      // Unknown parameters are ignored.
      {R"(Bearer realm="https://h/t",charset="UTF-8",service="s")", "https://h/t", "s", "", ""},
  };
  for (const auto& c : cases) {
    auto got = ParseBearerChallenge(c.header);
    ASSERT_TRUE(got.ok()) << c.header << ": " << got.status().message();
    EXPECT_EQ(got->realm, c.realm) << c.header;
    EXPECT_EQ(got->service, c.service) << c.header;
    EXPECT_EQ(got->scope, c.scope) << c.header;
    EXPECT_EQ(got->error, c.error) << c.header;
  }
}

TEST(AdminChallenge, RefusesWhatIsNotABearerLogin) {
  const char* errors[] = {
      "",
      "Basic realm=\"registry\"",
      "Bearer",                                  // no realm
      "Bearer service=\"berth\"",                // no realm
      "Bearer realm=\"https://h/t",              // unterminated
      "Bearer realm=\"https://h/t\" junk",       // garbage after a value
      "realm=\"https://h/t\"",                   // no scheme
      "Bearer realm=https://h/t",                // a URL is not a token
      "Bearer realm=\"a\", Bearer realm=\"b\"",  // which one?
      "Bearer ;realm=\"https://h/t\"",
  };
  for (const char* header : errors) {
    auto got = ParseBearerChallenge(header);
    ASSERT_FALSE(got.ok()) << header;
    EXPECT_EQ(got.status().code(), Errc::kUnauthorized) << header;
  }
}

}  // namespace
}  // namespace berth::cli::admin
