// Tests for auth/token/token_service.hpp, driven through Handle with plain
// http::Request values (no sockets): GET + Basic, anonymous, OAuth2 POST
// password and refresh grants, errors, throttling, and no password leaks;
// the refresh-token lifecycle (credential generation, maximum age, idle
// time, Keystone-like backends), invalid repository names, log injection
// and hostile input.

#include "auth/token/token_service.hpp"

#include "auth/token/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/base64.hpp"
#include "crypto/hasher.hpp"
#include "fakes.hpp"
#include "test_keys.hpp"

namespace berth::auth {
namespace {

namespace json = boost::json;
using testfakes::FakeAuthenticator;
using testfakes::MemoryRefreshStore;
constexpr int64_t kNow = 1'700'000'000;  // 2023-11-14T22:13:20Z
constexpr const char* kPassword = "S3cr3t-pa55";

// Regression (FormBodyDanglingUrlViewRegression): FormSink::Finish once parsed
// a temporary string, so reading the POST form read freed memory.

std::string Hash(const std::string& token) {
  return crypto::HashBytes(DigestAlgorithm::kSha256, token).hex();
}

class TokenServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_.users = {{"alice", kPassword}, {"bob", "p+w&d"}, {"carol", "c"}};
    auth_.admins = {"carol"};
    key_ = testkeys::MakeKey(dir_.path(), "signer", "ES256");
    ASSERT_TRUE(key_.key);
    signer_ = std::make_unique<jwt::JwtSigner>(key_.key);
    jwt::VerifyOptions vo;
    vo.issuer = "berth-token";
    vo.audience = "berth";
    verifier_ = std::make_unique<jwt::JwtVerifier>(testkeys::MakeTrust(dir_.path(), {key_}), vo);
    service_ = std::make_unique<TokenService>(
        auth_, policy_, *signer_, store_, limiter_, [this] { return now_; }, TokenServiceOptions{});
  }

  static http::Request Get(http::Fields query, const std::string& user = "",
                           const std::string& password = "") {
    http::Request r;
    r.method = "GET";
    r.path = "/token";
    r.query = std::move(query);
    r.remote = "10.0.0.1:40000";
    if (!user.empty())
      r.headers.emplace_back("Authorization", "Basic " + Base64Encode(user + ":" + password));
    return r;
  }
  http::Response Send(const http::Request& r, std::string* user = nullptr) {
    http::Outcome out = service_->Handle(r);
    EXPECT_EQ(out.sink, nullptr);
    if (user) *user = out.user;
    bodies_ += out.response.body;
    return std::move(out.response);
  }
  // POST /token with a form body, streamed through the sink as the session would.
  http::Response Post(const std::string& form, const std::string& path = "/token") {
    http::Request r;
    r.method = "POST";
    r.path = path;
    r.remote = "10.0.0.1:40000";
    r.has_body = true;
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    http::Outcome out = service_->Handle(r);
    EXPECT_NE(out.sink, nullptr);
    if (!out.sink) return {};
    EXPECT_TRUE(out.sink->Write({form.data(), form.size() / 2}).ok());
    EXPECT_TRUE(
        out.sink->Write({form.data() + form.size() / 2, form.size() - form.size() / 2}).ok());
    http::Response resp = out.sink->Finish(Status::Ok());
    bodies_ += resp.body;
    return resp;
  }
  static json::object Body(const http::Response& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return v.is_object() ? v.as_object() : json::object{};
  }
  // The verified claims of the token in a 200 answer.
  jwt::Claims Claims(const http::Response& r) {
    json::object b = Body(r);
    EXPECT_EQ(r.status, 200) << r.body;
    if (!b.contains("access_token")) return {};
    auto c = verifier_->Verify(std::string(b.at("access_token").as_string()), now_);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? *c : jwt::Claims{};
  }
  static std::string Header(const http::Response& r, std::string_view name) {
    return std::string(http::FindField(r.headers, name).value_or("<none>"));
  }

  testkeys::TempDir dir_;
  testkeys::TestKey key_;
  FakeAuthenticator auth_;
  MemoryRefreshStore store_;
  Policy policy_{PolicyOptions{{"root"}, {"public"}, {}, false}};
  FailureLimiter limiter_;
  int64_t now_ = kNow;
  std::unique_ptr<jwt::JwtSigner> signer_;
  std::unique_ptr<jwt::JwtVerifier> verifier_;
  std::unique_ptr<TokenService> service_;
  std::string bodies_;  // every answer so far, to look for leaks
};

TEST_F(TokenServiceTest, GetWithBasicGrantsTheAllowedSubset) {
  std::string user;
  http::Response r = Send(Get({{"service", "berth"},
                               {"scope", "repository:alice/app:pull,push"},
                               {"scope", "repository:bob/x:pull repository:public/lib:pull,push"},
                               {"account", "alice"}},
                              "alice", kPassword),
                          &user);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  json::object b = Body(r);
  EXPECT_EQ(b.at("token"), b.at("access_token"));
  EXPECT_EQ(b.at("expires_in"), 900);
  EXPECT_EQ(b.at("issued_at"), "2023-11-14T22:13:20Z");
  EXPECT_FALSE(b.contains("refresh_token"));
  EXPECT_FALSE(b.contains("scope"));  // an OAuth2 field only
  jwt::Claims c = Claims(r);
  EXPECT_EQ(c.subject, "alice");
  EXPECT_EQ(c.issuer, "berth-token");
  EXPECT_EQ(c.expires, kNow + 900);
  const std::vector<Scope> want = {{"repository", "alice/app", {"pull", "push"}},
                                   {"repository", "public/lib", {"pull"}}};
  EXPECT_EQ(c.access, want);
}

TEST_F(TokenServiceTest, LoginWithoutScopeAndAnonymousRequests) {
  // `docker login`: no scope, good credentials → a token granting nothing.
  EXPECT_TRUE(Claims(Send(Get({{"service", "berth"}}, "alice", kPassword))).access.empty());
  std::string user = "x";
  http::Response r =
      Send(Get({{"service", "berth"}, {"scope", "repository:public/x:pull"}}), &user);
  jwt::Claims c = Claims(r);
  EXPECT_EQ(c.subject, "");
  EXPECT_EQ(user, "");
  EXPECT_TRUE(c.access.empty());  // anonymous_pull is off
  EXPECT_EQ(auth_.calls, 1);
  // Anonymous clients never get a refresh token.
  EXPECT_FALSE(Body(Send(Get({{"offline_token", "true"}}))).contains("refresh_token"));
}

TEST_F(TokenServiceTest, BadCredentialsAndBadRequests) {
  struct Case {
    http::Request req;
    int status;
    const char* code;
  };
  const Case cases[] = {
      {Get({{"service", "berth"}}, "alice", "wrong"), 401, "UNAUTHORIZED"},
      {Get({{"service", "berth"}}, "nobody", kPassword), 401, "UNAUTHORIZED"},
      {Get({{"service", "other"}}, "alice", kPassword), 400, "UNSUPPORTED"},
      {Get({{"scope", "repository:alice/app:PULL"}}, "alice", kPassword), 400, "UNSUPPORTED"},
      {Get({{"scope", "repository:alice/app:pull"}, {"scope", "bad"}}), 400, "UNSUPPORTED"},
  };
  for (const auto& c : cases) {
    http::Response r = Send(c.req);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(Body(r).at("errors").as_array()[0].as_object().at("code"), json::string(c.code));
    if (c.status == 401) {
      EXPECT_EQ(Header(r, "WWW-Authenticate"), R"(Basic realm="berth")");
    }
  }
  http::Request junk = Get({});
  junk.headers.emplace_back("Authorization", "Basic !!!");
  EXPECT_EQ(Send(junk).status, 400);
  http::Request no_colon = Get({});
  no_colon.headers.emplace_back("Authorization", "Basic " + Base64Encode("alice"));
  EXPECT_EQ(Send(no_colon).status, 400);
  http::Request other_path = Get({});
  other_path.path = "/v2/";
  EXPECT_EQ(Send(other_path).status, 404);
  http::Request put = Get({});
  put.method = "PUT";
  EXPECT_EQ(Send(put).status, 405);
}

TEST_F(TokenServiceTest, UnavailableBackendIs503) {
  auth_.unavailable = true;
  http::Response r = Send(Get({{"service", "berth"}}, "alice", kPassword));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Body(r).at("errors").as_array()[0].as_object().at("code"), "UNAVAILABLE");
  // An outage is not a failed login: it does not count towards throttling.
  for (int i = 0; i < 10; ++i) Send(Get({}, "alice", kPassword));
  auth_.unavailable = false;
  EXPECT_EQ(Send(Get({}, "alice", kPassword)).status, 200);
}

// A limiter whose store cannot be reached (a PostgreSQL outage).
class UnreachableLimiter final : public LoginLimiter {
 public:
  Result<int64_t> RetryAfter(std::string_view, std::string_view, int64_t) override {
    return Status(Errc::kUnavailable, "login_failures: connection refused");
  }
  Status Failed(std::string_view, std::string_view, int64_t) override { return Status::Ok(); }
  Status Succeeded(std::string_view) override { return Status::Ok(); }
};

TEST_F(TokenServiceTest, UnreachableFailureCountsAre503WithoutCheckingThePassword) {
  UnreachableLimiter down;
  service_ = std::make_unique<TokenService>(
      auth_, policy_, *signer_, store_, down, [this] { return now_; }, TokenServiceOptions{});
  const int calls = auth_.calls;
  http::Response r = Send(Get({{"service", "berth"}}, "alice", kPassword));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Body(r).at("errors").as_array()[0].as_object().at("code"), "UNAVAILABLE");
  // Without the counts a guesser could not be slowed: no password is tried.
  EXPECT_EQ(auth_.calls, calls);
  // Anonymous requests do not need the counts.
  EXPECT_EQ(Send(Get({{"service", "berth"}})).status, 200);
}

TEST_F(TokenServiceTest, OfflineTokenGivesAStoredRefreshToken) {
  http::Response r =
      Send(Get({{"service", "berth"}, {"offline_token", "true"}}, "alice", kPassword));
  json::object b = Body(r);
  ASSERT_TRUE(b.contains("refresh_token")) << r.body;
  std::string refresh(b.at("refresh_token").as_string());
  EXPECT_EQ(refresh.size(), 64u);
  ASSERT_EQ(store_.tokens.count(Hash(refresh)), 1u);  // kept only as a hash
  EXPECT_EQ(store_.tokens[Hash(refresh)].subject, "alice");
  EXPECT_EQ(store_.tokens[Hash(refresh)].service, "berth");
  EXPECT_EQ(store_.tokens.count(refresh), 0u);
  store_.fail = true;
  EXPECT_EQ(Send(Get({{"offline_token", "true"}}, "alice", kPassword)).status, 503);
}

TEST_F(TokenServiceTest, FormBodyDanglingUrlViewRegression) {
  // A body long enough that no copy of it fits in a small-string buffer.
  http::Response r = Post("grant_type=password&username=alice&password=" + std::string(kPassword) +
                          "&client_id=" + std::string(2000, 'c') + "&service=berth");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(TokenServiceTest, PostPasswordGrantThenRefreshGrant) {
  http::Response r = Post("grant_type=password&username=alice&password=" + std::string(kPassword) +
                          "&client_id=containerd-client&service=berth&access_type=offline"
                          "&scope=repository:alice/"
                          "app:pull+repository%3Aalice%2Fapp%3Apull%2Cpush+repository:bob/x:pull");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object b = Body(r);
  EXPECT_EQ(b.at("scope"), "repository:alice/app:pull repository:alice/app:pull,push");
  EXPECT_EQ(b.at("expires_in"), 900);
  ASSERT_TRUE(b.contains("refresh_token"));
  const std::string refresh(b.at("refresh_token").as_string());
  EXPECT_EQ(Claims(r).subject, "alice");

  const int calls = auth_.calls;
  now_ += 600;
  http::Response again =
      Post("grant_type=refresh_token&service=berth&client_id=x&refresh_token=" + refresh +
           "&scope=repository:alice/app:push");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Body(again).at("refresh_token"), json::string(refresh));  // the same token back
  EXPECT_EQ(Body(again).at("scope"), "repository:alice/app:push");
  EXPECT_EQ(Claims(again).subject, "alice");
  EXPECT_EQ(Claims(again).issued_at, kNow + 600);
  EXPECT_EQ(auth_.calls, calls);  // no password check for a refresh

  // Bound to its service: asked for another, or stored for another, it fails.
  EXPECT_EQ(Post("grant_type=refresh_token&service=other&refresh_token=" + refresh).status, 400);
  // (Valid in every other respect, so the service alone refuses it.)
  store_.tokens[Hash("elsewhere")] = {
      "alice", "other", false, "gen:" + std::string(kPassword) + ":0", kNow, kNow, ""};
  EXPECT_EQ(Post("grant_type=refresh_token&refresh_token=elsewhere").status, 401);
  EXPECT_EQ(Post("grant_type=refresh_token&refresh_token=unknown").status, 401);
  EXPECT_EQ(store_.Revoke("alice").value(), 2);
  EXPECT_EQ(Post("grant_type=refresh_token&refresh_token=" + refresh).status, 401);
}

// RFC 7009 revocation, as the web interface's logout uses it: the refresh
// token ends at once, every other token lives on.
TEST_F(TokenServiceTest, RevokeEndsOneRefreshToken) {
  auto login = [&](const std::string& user, const std::string& password) {
    http::Response r =
        Post("grant_type=password&service=berth&access_type=offline&username=" + user +
             "&password=" + password);
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(Body(r).at("refresh_token").as_string());
  };
  const std::string mine = login("alice", kPassword);
  const std::string other = login("alice", kPassword);
  const std::string carols = login("carol", "c");
  auto refresh = [&](const std::string& t) {
    return Post("grant_type=refresh_token&service=berth&refresh_token=" + t).status;
  };
  ASSERT_EQ(refresh(mine), 200);

  http::Response r = Post("token=" + mine + "&token_type_hint=refresh_token", "/token/revoke");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(refresh(mine), 401);
  EXPECT_EQ(refresh(other), 200);  // the same user's other logins stay
  EXPECT_EQ(refresh(carols), 200);
  EXPECT_EQ(store_.tokens.count(Hash(mine)), 0u);
  // Unknown or already revoked: the same answer, nothing to learn.
  EXPECT_EQ(Post("token=" + mine, "/token/revoke").status, 200);
  EXPECT_EQ(Post("token=0123abcd", "/token/revoke").status, 200);
  EXPECT_EQ(store_.tokens.size(), 2u);
  // Access tokens cannot be recalled; a missing token is malformed.
  http::Response jwt = Post("token=aaa.bbb.ccc", "/token/revoke");
  EXPECT_EQ(jwt.status, 400);
  EXPECT_EQ(Body(jwt).at("error"), "unsupported_token_type");
  EXPECT_EQ(Post("token=" + other + "&token_type_hint=access_token", "/token/revoke").status, 400);
  EXPECT_EQ(Post("", "/token/revoke").status, 400);
  EXPECT_EQ(refresh(other), 200);
  http::Request get;
  get.method = "GET";
  get.path = "/token/revoke";
  get.query = {{"token", other}};
  EXPECT_EQ(Send(get).status, 405);
  EXPECT_EQ(service_->Handle(get).endpoint, "token_revoke");
  EXPECT_EQ(refresh(other), 200);
}

// The web interface in the same process logs browsers in from the
// registry's address: with the forwarder key its X-Forwarded-For names the
// browser, so one browser's wrong passwords do not throttle another's.
TEST_F(TokenServiceTest, ForwarderKeyCountsFailuresPerBrowser) {
  TokenServiceOptions o;
  o.forwarder_key = "k3y-k3y-k3y";
  FailureLimiter limiter;
  TokenService service(
      auth_, policy_, *signer_, store_, limiter, [this] { return now_; }, o);
  auto login = [&](const std::string& user, const std::string& password, const std::string& key,
                   const std::string& browser) {
    http::Request r = Get({{"service", "berth"}}, user, password);
    r.remote = "127.0.0.1:40000";  // the registry
    if (!key.empty()) r.headers.emplace_back("X-Berth-Forwarder", key);
    r.headers.emplace_back("X-Forwarded-For", browser);
    return service.Handle(r).response.status;
  };
  // Without the key (or with a wrong one) X-Forwarded-For is not believed:
  // rotating it gains a guesser nothing.
  std::vector<int> got;
  for (int i = 0; i < 8; ++i)
    got.push_back(login("alice", "wrong", i % 2 ? "k3y-k3y-k3Y" : "",
                        "198.51.100." + std::to_string(10 + i)));
  EXPECT_EQ(got, (std::vector<int>{401, 401, 401, 401, 401, 401, 429, 429}));
  // With the key, another browser logs in at once.
  EXPECT_EQ(login("alice", kPassword, o.forwarder_key, "198.51.100.2"), 200);
  // A burst from one browser throttles that browser only.
  got.clear();
  for (int i = 0; i < 7; ++i) got.push_back(login("bob", "wrong", o.forwarder_key, "198.51.100.1"));
  EXPECT_EQ(got, (std::vector<int>{401, 401, 401, 401, 401, 401, 429}));
  EXPECT_EQ(login("bob", "p+w&d", o.forwarder_key, "198.51.100.1"), 429);
  EXPECT_EQ(login("bob", "p+w&d", o.forwarder_key, "[2001:db8::5]"), 200);
}

TEST_F(TokenServiceTest, PostFormDetails) {
  // Percent-encoded '+' and '&' in a password survive; no access_type, no refresh token.
  http::Response r = Post("grant_type=password&username=bob&password=p%2Bw%26d");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Body(r).contains("refresh_token"));
  EXPECT_EQ(Body(r).at("scope"), "");
  EXPECT_EQ(Post("grant_type=password&username=bob&password=wrong").status, 401);
  EXPECT_EQ(Post("grant_type=password&username=bob").status, 400);
  EXPECT_EQ(Post("grant_type=authorization_code&code=x").status, 400);
  EXPECT_EQ(Post("grant_type=refresh_token").status, 400);
  EXPECT_EQ(Post("").status, 400);
  // A refresh token keeps the admin flag of the login that made it.
  store_.tokens[Hash("admintok")] = {"carol", "berth", true, "gen:c:0", kNow, kNow, ""};
  jwt::Claims c =
      Claims(Post("grant_type=refresh_token&refresh_token=admintok&scope=registry:catalog:*"));
  EXPECT_EQ(c.access, (std::vector<Scope>{{"registry", "catalog", {"*"}}}));
}

TEST_F(TokenServiceTest, RepeatedFailuresAreThrottled) {
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Send(Get({}, "alice", "wrong")).status, 401);
  const int calls = auth_.calls;
  http::Response r = Send(Get({}, "alice", kPassword));  // even the right password waits
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "Retry-After"), "1");
  EXPECT_EQ(Body(r).at("errors").as_array()[0].as_object().at("code"), "TOOMANYREQUESTS");
  EXPECT_EQ(auth_.calls, calls);  // the backend was not asked
  // Another user on the same address is not affected; alice is, once the wait ends.
  EXPECT_EQ(Send(Get({}, "carol", "c")).status, 200);
  now_ += 1;
  EXPECT_EQ(Send(Get({}, "alice", kPassword)).status, 200);
}

TEST_F(TokenServiceTest, PostPasswordGrantIsThrottledToo) {
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Post("grant_type=password&username=alice&password=wrong").status, 401);
  }
  http::Response r = Post("grant_type=password&username=alice&password=" + std::string(kPassword));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "Retry-After"), "1");
}

TEST_F(TokenServiceTest, PasswordNeverInAnyAnswer) {
  Send(Get({{"scope", "repository:alice/app:pull"}}, "alice", kPassword));
  Send(Get({}, "alice", std::string(kPassword) + "x"));
  Send(Get({{"service", "nope"}}, "alice", kPassword));
  Send(Get({{"scope", kPassword}}, "alice", kPassword));
  Post("grant_type=password&username=alice&password=" + std::string(kPassword) +
       "&access_type=offline");
  Post("grant_type=password&username=alice&password=" + std::string(kPassword) + "&scope=:");
  auth_.unavailable = true;
  Send(Get({}, "alice", kPassword));
  ASSERT_FALSE(bodies_.empty());
  EXPECT_EQ(bodies_.find("S3cr3t"), std::string::npos) << bodies_;
  EXPECT_EQ(bodies_.find(Base64UrlEncode(kPassword)), std::string::npos);
}

// ---- refresh-token lifecycle ---------------------------------------------

class RefreshLifecycleTest : public TokenServiceTest {
 protected:
  void Configure(TokenServiceOptions o) {
    service_ = std::make_unique<TokenService>(
        auth_, policy_, *signer_, store_, limiter_, [this] { return now_; }, o);
  }
  // A refresh token from a password login of alice, or "" when none came.
  std::string Login() {
    http::Response r =
        Post("grant_type=password&username=alice&password=" + std::string(kPassword) +
             "&access_type=offline");
    EXPECT_EQ(r.status, 200) << r.body;
    json::object b = Body(r);
    return b.contains("refresh_token") ? std::string(b.at("refresh_token").as_string()) : "";
  }
  int Refresh(const std::string& token) {
    return Post("grant_type=refresh_token&refresh_token=" + token).status;
  }
};

// Regression: after `berth user passwd alice` the old refresh token kept
// minting tokens.
TEST_F(RefreshLifecycleTest, PasswordChangeEndsRefreshTokens) {
  const std::string t = Login();
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(store_.tokens[Hash(t)].generation, "gen:" + std::string(kPassword) + ":0");
  EXPECT_EQ(Refresh(t), 200);
  auth_.users["alice"] = "new password";
  EXPECT_EQ(Refresh(t), 401);
  auth_.users["alice"] = kPassword;  // set back: the generation is the same again
  EXPECT_EQ(Refresh(t), 200);
}

// Regression: after `berth user del bob` the token kept working, and an
// account re-created under the same name inherited it.
TEST_F(RefreshLifecycleTest, DeletedOrRecreatedUserEndsRefreshTokens) {
  const std::string t = Login();
  auth_.users.erase("alice");
  EXPECT_EQ(Refresh(t), 401);
  auth_.users["alice"] = kPassword;
  auth_.recreated["alice"]++;  // a new account, same name and password
  EXPECT_EQ(Refresh(t), 401);
  const std::string fresh = Login();
  EXPECT_EQ(Refresh(fresh), 200);
}

TEST_F(RefreshLifecycleTest, MaximumAgeAndIdleTime) {
  TokenServiceOptions o;
  o.refresh_ttl_seconds = 1000;
  o.refresh_idle_seconds = 300;
  Configure(o);
  const std::string t = Login();
  // Used every 250 s it stays alive until 1000 s after the login.
  for (int i = 1; i <= 3; ++i) {
    now_ = kNow + 250 * i;
    EXPECT_EQ(Refresh(t), 200) << i;
  }
  now_ = kNow + 999;
  EXPECT_EQ(Refresh(t), 200);
  now_ = kNow + 1000;
  EXPECT_EQ(Refresh(t), 401);  // too old, however busy

  now_ = kNow + 5000;
  const std::string idle = Login();
  now_ += 299;
  EXPECT_EQ(Refresh(idle), 200);
  now_ += 299;
  EXPECT_EQ(Refresh(idle), 200);  // the last use counts, not the login
  now_ += 300;
  EXPECT_EQ(Refresh(idle), 401);
}

TEST_F(RefreshLifecycleTest, LastUseIsWrittenAtMostOncePerMinute) {
  const std::string t = Login();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Refresh(t), 200);
  EXPECT_EQ(store_.touches, 0);
  now_ += 60;
  EXPECT_EQ(Refresh(t), 200);
  EXPECT_EQ(Refresh(t), 200);
  EXPECT_EQ(store_.touches, 1);
  EXPECT_EQ(store_.tokens[Hash(t)].last_used, now_);
}

TEST_F(RefreshLifecycleTest, RowsWithoutGenerationAreRefused) {
  // What an upgraded database or another backend left behind.
  store_.tokens[Hash("old")] = {"alice", "berth", false, "", kNow, kNow, ""};
  EXPECT_EQ(Refresh("old"), 401);
}

TEST_F(RefreshLifecycleTest, UnavailableBackendAtRefreshIs503) {
  const std::string t = Login();
  auth_.unavailable = true;
  EXPECT_EQ(Refresh(t), 503);
  auth_.unavailable = false;
  EXPECT_EQ(Refresh(t), 200);
}

TEST_F(RefreshLifecycleTest, BackendWithoutGenerationsGetsNoRefreshTokens) {
  // Also what a deployment switched from the user file to Keystone sees.
  const std::string t = Login();
  ASSERT_FALSE(t.empty());
  auth_.generations = false;  // like Keystone
  EXPECT_EQ(Refresh(t), 401);
  EXPECT_EQ(Login(), "");  // 200, but no refresh token
  EXPECT_FALSE(
      Body(Send(Get({{"offline_token", "true"}}, "alice", kPassword))).contains("refresh_token"));
  store_.tokens[Hash("none")] = {"alice", "berth", false, "", now_, now_, ""};
  EXPECT_EQ(Refresh("none"), 401);
}

// Issue 14: Keystone users could not log in to the web interface, which
// needs a refresh token. The OAuth password grant with access_type=offline
// now stores the backend's session sealed with the refresh token, and each
// refresh has the backend re-check it.
class KeystoneSessionTest : public RefreshLifecycleTest {
 protected:
  void SetUp() override {
    RefreshLifecycleTest::SetUp();
    auth_.generations = false;  // like Keystone
    auth_.sessions = true;
  }
  // The access token's grants from refreshing `token` with `scope`.
  std::vector<Scope> RefreshedAccess(const std::string& token, const std::string& scope) {
    return Claims(Post("grant_type=refresh_token&refresh_token=" + token + "&scope=" + scope))
        .access;
  }
};

TEST_F(KeystoneSessionTest, LoginStoresTheSessionSealedAndRefreshRechecksIt) {
  const std::string t = Login();
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(auth_.session_logins, 1);
  const storage::RefreshGrant& g = store_.tokens[Hash(t)];
  EXPECT_EQ(g.generation, "");
  ASSERT_FALSE(g.sealed_session.empty());
  EXPECT_EQ(g.sealed_session.find("ks-token"), std::string::npos);  // not in the clear
  EXPECT_EQ(Refresh(t), 200);
  EXPECT_EQ(Refresh(t), 200);
  EXPECT_EQ(auth_.rechecks, 2);
  ASSERT_EQ(auth_.rechecked.size(), 2u);
  EXPECT_EQ(auth_.rechecked[0], "ks-token-alice-1");
  EXPECT_EQ(bodies_.find("ks-token"), std::string::npos);  // never answered
}

TEST_F(KeystoneSessionTest, SessionEndedInTheBackendRefusesTheRefresh) {
  const std::string t = Login();
  ASSERT_EQ(Refresh(t), 200);
  auth_.live_sessions.clear();  // revoked or expired in Keystone
  http::Response r = Post("grant_type=refresh_token&refresh_token=" + t);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Header(r, "WWW-Authenticate"), "Basic realm=\"berth\"");
  EXPECT_EQ(service_->Stats().denied, 1u);
}

TEST_F(KeystoneSessionTest, BackendDownAtRefreshIs503Not401) {
  const std::string t = Login();
  auth_.unavailable = true;
  EXPECT_EQ(Refresh(t), 503);
  EXPECT_EQ(service_->Stats().unavailable, 1u);
  EXPECT_EQ(service_->Stats().denied, 0u);
  auth_.unavailable = false;
  EXPECT_EQ(Refresh(t), 200);  // the session survived the outage
}

TEST_F(KeystoneSessionTest, AdminRoleIsReReadAtEachRefresh) {
  const std::string t = Login();
  EXPECT_TRUE(RefreshedAccess(t, "registry:catalog:*").empty());
  auth_.admins.insert("alice");  // granted the admin role in Keystone since
  EXPECT_EQ(RefreshedAccess(t, "registry:catalog:*").size(), 1u);
  auth_.admins.erase("alice");
  EXPECT_TRUE(RefreshedAccess(t, "registry:catalog:*").empty());
}

TEST_F(KeystoneSessionTest, TamperedOrMovedSealedSessionIsRefused) {
  const std::string t = Login();
  storage::RefreshGrant& g = store_.tokens[Hash(t)];
  const storage::RefreshGrant original = g;
  g.sealed_session[40] = g.sealed_session[40] == '0' ? '1' : '0';
  EXPECT_EQ(Refresh(t), 401);
  g = original;
  g.subject = "carol";  // a store writer making it an admin's: the seal binds the user
  auth_.admins.insert("carol");
  EXPECT_EQ(Refresh(t), 401);
  g = original;
  EXPECT_EQ(Refresh(t), 200);
  EXPECT_EQ(auth_.rechecks, 1);  // only the intact row reached the backend
}

TEST_F(KeystoneSessionTest, RevocationAndOldRowsStillWork) {
  const std::string t = Login();
  EXPECT_EQ(Post("token=" + t, "/token/revoke").status, 200);
  EXPECT_EQ(Refresh(t), 401);
  // A row from before sealed sessions (none) is refused, as before.
  store_.tokens[Hash("oldrow")] = {"alice", "berth", false, "", now_, now_, ""};
  EXPECT_EQ(Refresh("oldrow"), 401);
  EXPECT_EQ(auth_.rechecks, 0);
}

TEST_F(KeystoneSessionTest, DockerFlavourStillGetsNoRefreshToken) {
  // docker login keeps only the refresh token: it would break when
  // Keystone's token expires, so Docker clients keep the password instead.
  http::Response r = Send(Get({{"offline_token", "true"}}, "alice", kPassword));
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(Body(r).contains("refresh_token"));
  EXPECT_EQ(auth_.session_logins, 0);
  EXPECT_TRUE(store_.tokens.empty());
}

TEST_F(KeystoneSessionTest, BackendWithGenerationsIgnoresSessions) {
  auth_.generations = true;  // the user file
  const std::string t = Login();
  EXPECT_EQ(auth_.session_logins, 0);
  EXPECT_EQ(store_.tokens[Hash(t)].sealed_session, "");
  EXPECT_EQ(Refresh(t), 200);
  EXPECT_EQ(auth_.rechecks, 0);
}

TEST_F(RefreshLifecycleTest, ExpiredTokensAreSweptOnLaterLogins) {
  TokenServiceOptions o;
  o.refresh_ttl_seconds = 1000;
  o.refresh_idle_seconds = 300;
  Configure(o);
  const std::string t = Login();
  now_ += 4000;  // past both limits, and past the hourly sweep
  Login();
  EXPECT_EQ(store_.tokens.count(Hash(t)), 0u);
  EXPECT_EQ(store_.tokens.size(), 1u);
}

// ---- names, logs and hostile input -----------------------------------------

// Captures what the token service logs through spdlog's default logger.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  std::string Text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(TokenServiceTest, InvalidRepositoryNamesAreDroppedAndLogged) {
  LogCapture log;
  // carol is an admin: the policy alone would grant her anything.
  http::Response r = Send(Get({{"scope", "repository:alice/../bob/x:push"},
                               {"scope", "repository:carol/ok:push"},
                               {"scope", "repository:" + std::string(201, 'a') + ":pull"},
                               {"scope", "repository:Carol/Upper:pull"},
                               {"scope", "repository:127.0.0.1:5000/carol/x:pull"},
                               {"scope", "registry:catalog:*"}},
                              "carol", "c"));
  const std::vector<Scope> want = {{"repository", "carol/ok", {"push"}},
                                   {"registry", "catalog", {"*"}}};
  EXPECT_EQ(Claims(r).access, want);
  EXPECT_NE(log.Text().find("dropped=\"repository:alice/../bob/x:push\""), std::string::npos)
      << log.Text();
  EXPECT_EQ(log.Text().find("granted=\"repository:alice/.."), std::string::npos);
}

// Regression: a user name holding "\n" forged a second audit line.
TEST_F(TokenServiceTest, ClientValuesCannotForgeLogLines) {
  LogCapture log;
  const std::string evil = "x\naudit token user=admin admin=true";
  std::string access_log_user = "?";
  Send(Get({{"account", evil}}, evil, "wrong"), &access_log_user);
  EXPECT_EQ(access_log_user, "");  // the access log gets no refused name
  http::Request r =
      Get({{"account", "a\nb"}, {"scope", "repository:alice/app:pull"}}, "alice", kPassword);
  r.remote = "10.0.0.1:1\nforged\x1b[31m";
  Send(r);
  std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u) << log.Text();
  EXPECT_NE(lines[0].find("user=x\\naudit token user=admin admin=true"), std::string::npos)
      << lines[0];
  EXPECT_EQ(lines[0].rfind("info audit token client=10.0.0.1:40000 user=x\\n", 0), 0u) << lines[0];
  EXPECT_NE(lines[1].find("client=10.0.0.1:1\\nforged\\x1b[31m"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("account=a\\nb"), std::string::npos) << lines[1];
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find('\x1b'), std::string::npos);
    EXPECT_EQ(line.find('\0'), std::string::npos);
  }
}

TEST_F(TokenServiceTest, HostileInputGetsAnswersNotExceptions) {
  const std::string nul("a\0b", 3);
  const std::vector<http::Request> gets = {
      Get({{"scope", std::string(100000, ':')}}),
      Get({{"scope", "repository:a:pull"}, {"service", nul}}),
      Get({{"offline_token", "true"}}, nul, "\xff\xfe"),
      Get({{"account", std::string(1 << 20, 'x')}}, std::string(50000, 'u'), "p"),
  };
  for (const auto& g : gets) {
    EXPECT_NO_THROW({
      http::Response r = Send(g);
      EXPECT_GE(r.status, 200);
    });
  }
  http::Request bad_remote = Get({}, "alice", kPassword);
  for (std::string remote : {"", "[", "[::1", ":", "]"}) {
    bad_remote.remote = remote;
    EXPECT_NO_THROW(EXPECT_EQ(Send(bad_remote).status, 200));
  }
  // A form body past 64 KiB is refused by the sink, then answered 413.
  http::Request post;
  post.method = "POST";
  post.path = "/token";
  post.remote = "10.0.0.1:40000";
  post.has_body = true;
  http::Outcome out = service_->Handle(post);
  ASSERT_NE(out.sink, nullptr);
  const std::string chunk(16 * 1024, 'a');
  Status last;
  for (int i = 0; i < 8 && last.ok(); ++i) last = out.sink->Write({chunk.data(), chunk.size()});
  EXPECT_FALSE(last.ok());
  EXPECT_EQ(out.sink->Finish(last).status, 413);
  // Malformed or odd forms.
  const std::vector<std::string> forms = {
      "%",
      "%zz=1",
      "grant_type=refresh_token&refresh_token=%00",
      "grant_type=password&username=%00&password=%ff",
      "&&&===",
      "grant_type=refresh_token&refresh_token=" + std::string(60000, 'r'),
      "grant_type=password&grant_type=refresh_token&username=a"};
  for (const std::string& form : forms) {
    EXPECT_NO_THROW({
      http::Response resp = Post(form);
      EXPECT_GE(resp.status, 400) << form.substr(0, 60);
    });
  }
}

}  // namespace
}  // namespace berth::auth
