// Tests for cli/admin/registry_client.hpp: the token dance against a fake
// transport (registry and token server in one function): the challenge
// followed, Basic credentials sent to the realm, service and scopes in the
// query, tokens reused per scope, and each way a login fails.

#include "cli/admin/registry_client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/base64.hpp"

namespace berth::cli::admin {
namespace {

using http::ClientOptions;
using http::ClientReply;
using http::ClientRequest;

constexpr const char* kRealm = "https://tokens.example:9002/token";

ClientReply Answer(long status, std::string body, http::HeaderList headers = {}) {
  ClientReply r;
  r.transport_ok = true;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

std::string HeaderOf(const ClientRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

// A registry that wants a token "T:<scope>" for each path, and a token server
// that hands them out to alice/secret.
class FakeRegistry {
 public:
  std::vector<ClientRequest> seen;
  long token_status = 200;
  std::string token_key = "token";
  bool down = false;

  Transport transport() {
    return [this](const ClientRequest& r, const ClientOptions&) { return Handle(r); };
  }

  static std::string ScopeOf(const std::string& url) {
    return url.find("_catalog") != std::string::npos ? "registry:catalog:*"
                                                     : "repository:alice/app:pull";
  }

  int TokenCalls() const {
    int n = 0;
    for (const auto& r : seen) n += r.url.rfind(kRealm, 0) == 0;
    return n;
  }

 private:
  ClientReply Handle(const ClientRequest& r) {
    seen.push_back(r);
    if (down) {
      ClientReply failed;
      failed.error = "connecting: Connection refused";
      return failed;
    }
    if (r.url.rfind(kRealm, 0) == 0) {
      if (token_status != 200)
        return Answer(token_status,
                      R"({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]})");
      if (HeaderOf(r, "Authorization") != "Basic " + Base64Encode("alice:secret")) {
        return Answer(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]})");
      }
      const std::string scope = r.url.substr(r.url.find("scope=") + 6);
      return Answer(200, "{\"" + token_key + "\":\"T:" + scope + "\"}");
    }
    const std::string scope = ScopeOf(r.url);
    std::string encoded = scope;  // as QueryValue encodes it
    for (size_t i; (i = encoded.find(':')) != std::string::npos;) encoded.replace(i, 1, "%3A");
    for (size_t i; (i = encoded.find('/')) != std::string::npos;) encoded.replace(i, 1, "%2F");
    for (size_t i; (i = encoded.find('*')) != std::string::npos;) encoded.replace(i, 1, "%2A");
    if (HeaderOf(r, "Authorization") == "Bearer T:" + encoded) return Answer(200, R"({"ok":true})");
    return Answer(401,
                  R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
                  {{"Www-Authenticate", std::string("Bearer realm=\"") + kRealm +
                                            "\",service=\"berth\",scope=\"" + scope + "\""}});
  }
};

RegistryClientOptions Alice(std::optional<std::string> password = "secret") {
  RegistryClientOptions o;
  o.base_url = "https://registry.example:9001";
  o.user = "alice";
  if (password) o.password = Secret(*password);
  return o;
}

TEST(AdminRegistryClient, FollowsTheChallengeAndReusesTheToken) {
  FakeRegistry fake;
  RegistryClient client(Alice(), fake.transport());
  auto r = client.Call("GET", "/v2/alice/app/tags/list");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(fake.seen.size(), 3u);  // 401, token, retry
  EXPECT_EQ(fake.seen[0].url, "https://registry.example:9001/v2/alice/app/tags/list");
  EXPECT_EQ(HeaderOf(fake.seen[0], "Authorization"), "");
  EXPECT_EQ(fake.seen[1].method, "GET");
  EXPECT_EQ(fake.seen[1].url,
            std::string(kRealm) + "?service=berth&scope=repository%3Aalice%2Fapp%3Apull");
  EXPECT_EQ(HeaderOf(fake.seen[2], "Authorization"), "Bearer T:repository%3Aalice%2Fapp%3Apull");

  // The next page: the last token goes first, and no login.
  fake.seen.clear();
  r = client.Call("GET", "/v2/alice/app/tags/list?last=a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(fake.seen.size(), 1u);

  // Another scope logs in once; the first scope's token is then reused from
  // the cache after one 401.
  fake.seen.clear();
  ASSERT_TRUE(client.Call("GET", "/v2/_catalog").ok());
  EXPECT_EQ(fake.TokenCalls(), 1);
  fake.seen.clear();
  r = client.Call("DELETE", "/v2/alice/app/manifests/v1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(fake.TokenCalls(), 0);
  EXPECT_EQ(fake.seen.back().method, "DELETE");
}

TEST(AdminRegistryClient, AcceptsAccessToken) {
  FakeRegistry fake;
  fake.token_key = "access_token";
  RegistryClient client(Alice(), fake.transport());
  auto r = client.Call("GET", "/v2/_catalog");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
}

TEST(AdminRegistryClient, WrongPasswordIsUnauthorized) {
  FakeRegistry fake;
  RegistryClient client(Alice("wrong"), fake.transport());
  auto r = client.Call("GET", "/v2/_catalog");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kUnauthorized);
  EXPECT_NE(r.status().message().find("bad credentials"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("alice"), std::string::npos);
  EXPECT_EQ(r.status().message().find("wrong"), std::string::npos);  // never the password
}

TEST(AdminRegistryClient, NoPasswordAsksAnonymouslyAndSaysSo) {
  FakeRegistry fake;
  RegistryClient client(Alice(std::nullopt), fake.transport());
  auto r = client.Call("GET", "/v2/_catalog");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(HeaderOf(fake.seen[1], "Authorization"), "");
  EXPECT_NE(r.status().message().find("BERTH_PASSWORD"), std::string::npos);
}

TEST(AdminRegistryClient, TokenServerFailures) {
  struct Case {
    long status;
    Errc code;
  } cases[] = {
      {403, Errc::kUnauthorized}, {429, Errc::kTooManyRequests}, {503, Errc::kUnavailable}};
  for (const auto& c : cases) {
    FakeRegistry fake;
    fake.token_status = c.status;
    RegistryClient client(Alice(), fake.transport());
    auto r = client.Call("GET", "/v2/_catalog");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code) << c.status;
  }
  FakeRegistry fake;
  fake.token_key = "nothing";
  RegistryClient client(Alice(), fake.transport());
  auto r = client.Call("GET", "/v2/_catalog");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kInternal);
}

TEST(AdminRegistryClient, UnreachableIsUnavailable) {
  FakeRegistry fake;
  fake.down = true;
  RegistryClient client(Alice(), fake.transport());
  auto r = client.Call("GET", "/v2/_catalog");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kUnavailable);
  EXPECT_NE(r.status().message().find("https://registry.example:9001/v2/_catalog"),
            std::string::npos);
  EXPECT_NE(r.status().message().find("Connection refused"), std::string::npos);
}

TEST(AdminRegistryClient, TlsFailureSuggestsCaFile) {
  RegistryClient client(Alice(), [](const ClientRequest&, const ClientOptions&) {
    ClientReply r;
    r.tls_failed = true;
    r.error = "TLS handshake: certificate verify failed: self-signed certificate";
    return r;
  });
  auto r = client.Call("GET", "/v2/_catalog");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kUnavailable);
  EXPECT_NE(r.status().message().find("--ca-file"), std::string::npos);
}

TEST(AdminRegistryClient, AnswersOtherThan401AsTheyAre) {
  int calls = 0;
  RegistryClient client(Alice(), [&](const ClientRequest&, const ClientOptions&) {
    ++calls;
    return Answer(404, R"({"errors":[{"code":"NAME_UNKNOWN"}]})");
  });
  auto r = client.Call("GET", "/v2/x/tags/list");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(calls, 1);
}

TEST(AdminRegistryClient, A401AfterLoginIsReturned) {
  // The token server leaves out what the policy denies; the registry then
  // refuses the token (insufficient_scope): the caller reports that.
  int calls = 0;
  RegistryClient client(Alice(), [&](const ClientRequest& r, const ClientOptions&) {
    ++calls;
    if (r.url.rfind(kRealm, 0) == 0) return Answer(200, R"({"token":"empty"})");
    return Answer(
        401,
        R"({"errors":[{"code":"UNAUTHORIZED","message":"the token does not grant registry:catalog:*"}]})",
        {{"WWW-Authenticate",
          std::string("Bearer realm=\"") + kRealm +
              "\",service=\"berth\",scope=\"registry:catalog:*\",error=\"insufficient_scope\""}});
  });
  auto r = client.Call("GET", "/v2/_catalog");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(calls, 3);
}

TEST(AdminRegistryClient, MalformedChallengeIsUnauthorized) {
  RegistryClient client(Alice(), [](const ClientRequest&, const ClientOptions&) {
    return Answer(401, "", {{"WWW-Authenticate", "Bearer service=\"berth\""}});
  });
  auto r = client.Call("GET", "/v2/_catalog");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kUnauthorized);
}

}  // namespace
}  // namespace berth::cli::admin
