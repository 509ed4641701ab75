// Tests for auth::KeystoneAuthenticator (auth/keystone/keystone_authenticator.hpp)
// over real HTTP against a fake Keystone on loopback: what is sent, how each
// answer and each transport failure maps to an outcome, the login cache
// (fake clock) and the sharing of concurrent identical logins.
//
// KeystoneLive.* run against a real Keystone only when BERTH_TEST_KEYSTONE_URL
// is set (tests/integration/keystone_auth_check.sh does it), with the users
// that script creates: alice/alicepass (no role on project "berth"),
// bob/bobpass (member) and carol/carolpass (admin).

#include "auth/keystone/keystone_authenticator.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fake_http_server.hpp"

namespace berth::auth {
namespace {

using std::chrono::seconds;
using testutil::FakeHttpServer;
using testutil::FakeReply;
using testutil::FakeRequest;

constexpr const char* kToken =
    R"({"token":{"methods":["password"],"user":{"id":"b7","name":"alice"},"expires_at":"x"}})";
constexpr const char* kAdminToken =
    R"({"token":{"user":{"id":"c","name":"carol"},"project":{"id":"p","name":"berth"},)"
    R"("roles":[{"id":"1","name":"reader"},{"id":"3","name":"admin"}]}})";
constexpr const char* k401 =
    R"({"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}})";

// A fake Keystone that knows alice/alicepass and answers kToken.
FakeReply AliceOnly(const FakeRequest& r) {
  if (r.body.find("\"alicepass\"") != std::string::npos) return {201, kToken};
  return {401, k401};
}

class KeystoneAuthenticatorTest : public ::testing::Test {
 protected:
  std::unique_ptr<KeystoneAuthenticator> Make(KeystoneOptions o) {
    auto r = KeystoneAuthenticator::Create(std::move(o), [this] { return now_; });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return std::move(r).value();
  }
  KeystoneOptions Options(const FakeHttpServer& s) {
    KeystoneOptions o;
    o.url = s.url() + "/v3";
    o.timeout_ms = 2000;
    return o;
  }
  std::chrono::steady_clock::time_point now_{seconds(1000)};
};

TEST_F(KeystoneAuthenticatorTest, PostsUnscopedPasswordLogin) {
  FakeRequest seen;
  FakeHttpServer s([&](const FakeRequest& r) {
    seen = r;
    return FakeReply{201, kToken};
  });
  KeystoneOptions o = Options(s);
  o.url = s.url();  // without /v3
  auto a = Make(o);
  AuthResult r = a->Authenticate("alice", Secret("alicepass"));
  EXPECT_EQ(r.outcome, AuthOutcome::kOk) << r.detail;
  EXPECT_EQ(r.identity.name, "alice");
  EXPECT_FALSE(r.identity.admin);
  EXPECT_TRUE(r.identity.authenticated);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/v3/auth/tokens?nocatalog");
  EXPECT_NE(seen.head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(seen.body.find(R"("scope":"unscoped")"), std::string::npos) << seen.body;
  EXPECT_NE(seen.body.find(R"("domain":{"name":"Default"})"), std::string::npos) << seen.body;
  EXPECT_EQ(r.detail.find("alicepass"), std::string::npos);
}

TEST_F(KeystoneAuthenticatorTest, ProjectScopeReadsAdminRole) {
  FakeRequest seen;
  FakeHttpServer s([&](const FakeRequest& r) {
    seen = r;
    return FakeReply{201, kAdminToken};
  });
  KeystoneOptions o = Options(s);
  o.project = "berth";
  AuthResult r = Make(o)->Authenticate("carol", Secret("carolpass"));
  EXPECT_EQ(r.outcome, AuthOutcome::kOk) << r.detail;
  EXPECT_TRUE(r.identity.admin);
  EXPECT_NE(seen.body.find(R"("project":{"name":"berth")"), std::string::npos) << seen.body;
}

TEST_F(KeystoneAuthenticatorTest, WrongPasswordIsBadCredentialsAndNotCached) {
  FakeHttpServer s(AliceOnly);
  auto a = Make(Options(s));
  for (int i = 1; i <= 2; ++i) {
    AuthResult r = a->Authenticate("alice", Secret("wrong"));
    EXPECT_EQ(r.outcome, AuthOutcome::kBadCredentials);
    EXPECT_FALSE(r.identity.authenticated);
    EXPECT_EQ(r.detail.find("wrong"), std::string::npos) << r.detail;
    EXPECT_EQ(s.requests(), i);
  }
}

TEST_F(KeystoneAuthenticatorTest, SuccessIsCachedForTtlOnly) {
  FakeHttpServer s(AliceOnly);
  KeystoneOptions o = Options(s);
  o.cache_ttl_s = 60;
  auto a = Make(o);
  EXPECT_EQ(a->Authenticate("alice", Secret("alicepass")).outcome, AuthOutcome::kOk);
  AuthResult cached = a->Authenticate("alice", Secret("alicepass"));
  EXPECT_EQ(cached.outcome, AuthOutcome::kOk);
  EXPECT_EQ(cached.identity.name, "alice");
  EXPECT_EQ(s.requests(), 1);
  // The cached success never answers for another password.
  EXPECT_EQ(a->Authenticate("alice", Secret("alicepasS")).outcome, AuthOutcome::kBadCredentials);
  EXPECT_EQ(s.requests(), 2);
  now_ += seconds(60);
  EXPECT_EQ(a->Authenticate("alice", Secret("alicepass")).outcome, AuthOutcome::kOk);
  EXPECT_EQ(s.requests(), 3);
}

TEST_F(KeystoneAuthenticatorTest, CacheOffAsksEveryTime) {
  FakeHttpServer s(AliceOnly);
  KeystoneOptions o = Options(s);
  o.cache_ttl_s = 0;
  auto a = Make(o);
  for (int i = 0; i < 3; ++i) a->Authenticate("alice", Secret("alicepass"));
  EXPECT_EQ(s.requests(), 3);
}

TEST_F(KeystoneAuthenticatorTest, ServerErrorsAreUnavailableAndNotCached) {
  for (int status : {500, 502, 503, 302, 429}) {
    FakeHttpServer s([&](const FakeRequest&) { return FakeReply{status, "{}"}; });
    auto a = Make(Options(s));
    AuthResult r = a->Authenticate("alice", Secret("alicepass"));
    EXPECT_EQ(r.outcome, AuthOutcome::kUnavailable) << status;
    EXPECT_NE(r.detail.find(std::to_string(status)), std::string::npos) << r.detail;
    a->Authenticate("alice", Secret("alicepass"));
    EXPECT_EQ(s.requests(), 2);
  }
}

TEST_F(KeystoneAuthenticatorTest, RefusedConnectionIsUnavailable) {
  KeystoneOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(FakeHttpServer::ClosedPort()) + "/v3";
  AuthResult r = Make(o)->Authenticate("alice", Secret("alicepass"));
  EXPECT_EQ(r.outcome, AuthOutcome::kUnavailable);
  EXPECT_FALSE(r.detail.empty());
  EXPECT_EQ(r.detail.find("alicepass"), std::string::npos) << r.detail;
}

TEST_F(KeystoneAuthenticatorTest, SlowKeystoneTimesOut) {
  FakeHttpServer s([](const FakeRequest&) { return FakeReply{201, kToken, 1000}; });
  KeystoneOptions o = Options(s);
  o.timeout_ms = 200;
  const auto start = std::chrono::steady_clock::now();
  AuthResult r = Make(o)->Authenticate("alice", Secret("alicepass"));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.outcome, AuthOutcome::kUnavailable);
  EXPECT_LT(took, std::chrono::milliseconds(900)) << r.detail;
}

TEST_F(KeystoneAuthenticatorTest, HugeAnswerIsUnavailable) {
  FakeHttpServer s([](const FakeRequest&) {
    return FakeReply{201, R"({"token":{"x":")" + std::string(2 << 20, 'a') + "\"}}"};
  });
  AuthResult r = Make(Options(s))->Authenticate("alice", Secret("alicepass"));
  EXPECT_EQ(r.outcome, AuthOutcome::kUnavailable);
  EXPECT_NE(r.detail.find("larger"), std::string::npos) << r.detail;
}

TEST_F(KeystoneAuthenticatorTest, HttpsWithoutTrustIsUnavailable) {
  // A plain-HTTP server spoken to over TLS: the handshake fails.
  FakeHttpServer s(AliceOnly);
  KeystoneOptions o = Options(s);
  o.url = "https://127.0.0.1:" + std::to_string(s.port());
  o.timeout_ms = 500;  // the fake waits for an HTTP head that never comes
  EXPECT_EQ(Make(o)->Authenticate("alice", Secret("alicepass")).outcome, AuthOutcome::kUnavailable);
}

TEST_F(KeystoneAuthenticatorTest, EmptyCredentialsNeverReachKeystone) {
  FakeHttpServer s(AliceOnly);
  auto a = Make(Options(s));
  EXPECT_EQ(a->Authenticate("", Secret("alicepass")).outcome, AuthOutcome::kBadCredentials);
  EXPECT_EQ(a->Authenticate("alice", Secret("")).outcome, AuthOutcome::kBadCredentials);
  EXPECT_EQ(a->Authenticate(std::string("al\0ice", 6), Secret("x")).outcome,
            AuthOutcome::kBadCredentials);
  EXPECT_EQ(s.requests(), 0);
}

TEST_F(KeystoneAuthenticatorTest, ConcurrentIdenticalLoginsShareOneCall) {
  FakeHttpServer s([](const FakeRequest& r) {
    FakeReply reply = AliceOnly(r);
    reply.delay_ms = 300;
    return reply;
  });
  KeystoneOptions o = Options(s);
  auto a = Make(o);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (a->Authenticate("alice", Secret("alicepass")).outcome == AuthOutcome::kOk) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(s.requests(), 1);
}

TEST_F(KeystoneAuthenticatorTest, ConcurrentFailuresAreSharedButNotCached) {
  FakeHttpServer s([](const FakeRequest& r) {
    FakeReply reply = AliceOnly(r);
    reply.delay_ms = 300;
    return reply;
  });
  auto a = Make(Options(s));
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (a->Authenticate("alice", Secret("nope")).outcome == AuthOutcome::kBadCredentials) ++bad;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad, 4);
  const int after_burst = s.requests();
  EXPECT_LE(after_burst, 4);
  a->Authenticate("alice", Secret("nope"));
  EXPECT_EQ(s.requests(), after_burst + 1);
}

TEST_F(KeystoneAuthenticatorTest, FullCallPoolAnswersUnavailableAtOnce) {
  // One call at a time, none waiting: while alice's slow login runs, bob's
  // is refused without waiting for it, and nothing of it is cached.
  FakeHttpServer s([](const FakeRequest& r) {
    FakeReply reply{201, kToken};
    if (r.body.find("\"alicepass\"") != std::string::npos) reply.delay_ms = 800;
    return reply;
  });
  KeystoneOptions o = Options(s);
  o.call_threads = 1;
  o.call_queue = 0;
  auto a = Make(o);
  std::thread slow(
      [&] { EXPECT_EQ(a->Authenticate("alice", Secret("alicepass")).outcome, AuthOutcome::kOk); });
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  while (s.requests() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(s.requests(), 1);
  const auto start = std::chrono::steady_clock::now();
  AuthResult r = a->Authenticate("bob", Secret("bobpass"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300)) << r.detail;
  EXPECT_EQ(r.outcome, AuthOutcome::kUnavailable);
  EXPECT_NE(r.detail.find("refused"), std::string::npos) << r.detail;
  slow.join();
  EXPECT_EQ(s.requests(), 1);
  // Room again, and the refusal was not remembered.
  EXPECT_EQ(a->Authenticate("bob", Secret("bobpass")).outcome, AuthOutcome::kOk);
  EXPECT_EQ(s.requests(), 2);
}

TEST(KeystoneAuthenticatorCreate, RefusesBadOptions) {
  auto bad = [](auto edit) {
    KeystoneOptions o;
    o.url = "http://127.0.0.1:5000/v3";
    edit(o);
    return !KeystoneAuthenticator::Create(o).ok();
  };
  EXPECT_TRUE(bad([](KeystoneOptions& o) { o.url = ""; }));
  EXPECT_TRUE(bad([](KeystoneOptions& o) { o.url = "ldap://h"; }));
  EXPECT_TRUE(bad([](KeystoneOptions& o) { o.timeout_ms = 0; }));
  EXPECT_TRUE(bad([](KeystoneOptions& o) { o.cache_ttl_s = -1; }));
  EXPECT_TRUE(bad([](KeystoneOptions& o) { o.user_domain = ""; }));
  EXPECT_TRUE(bad([](KeystoneOptions& o) {
    o.project = "p";
    o.project_domain = "";
  }));
  EXPECT_FALSE(bad([](KeystoneOptions& o) {
    o.user_domain = "";
    o.user_domain_id = "default";
  }));
  KeystoneOptions o;
  o.url = "http://h:5000/";
  auto good = KeystoneAuthenticator::Create(o);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ((*good)->tokens_url(), "http://h:5000/v3/auth/tokens?nocatalog");
}

// ---- sessions (refresh tokens of the web interface) ----

constexpr const char* kSubject = "gAAAAABsubjectToken-0123456789";

// A fake Keystone issuing kSubject to alice/alicepass and validating it while
// `valid`; every request is recorded.
struct SessionKeystone {
  std::atomic<bool> valid{true};
  std::vector<FakeRequest> seen;
  std::mutex mu;
  FakeReply operator()(const FakeRequest& r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(r);
    }
    if (r.method == "POST") {
      if (r.body.find("\"alicepass\"") == std::string::npos) return {401, k401};
      return {201, kToken, 0, std::string("X-Subject-Token: ") + kSubject + "\r\n"};
    }
    const bool both = r.head.find(std::string("X-Auth-Token: ") + kSubject) != std::string::npos &&
                      r.head.find(std::string("X-Subject-Token: ") + kSubject) != std::string::npos;
    if (!both) return {401, k401};
    if (!valid) return {404, R"({"error":{"code":404}})"};
    return {200, kToken};
  }
};

TEST_F(KeystoneAuthenticatorTest, SessionLoginAnswersKeystonesTokenAndRecheckValidatesIt) {
  SessionKeystone ks;
  FakeHttpServer s([&](const FakeRequest& r) { return ks(r); });
  auto a = Make(Options(s));
  AuthResult login = a->AuthenticateSession("alice", Secret("alicepass"));
  ASSERT_EQ(login.outcome, AuthOutcome::kOk) << login.detail;
  EXPECT_EQ(login.session.reveal(), kSubject);
  EXPECT_EQ(login.detail.find(kSubject), std::string::npos);
  // An ordinary login never hands the token out, cached or not.
  EXPECT_TRUE(a->Authenticate("alice", Secret("alicepass")).session.empty());
  AuthResult fresh = Make(Options(s))->Authenticate("alice", Secret("alicepass"));
  EXPECT_EQ(fresh.outcome, AuthOutcome::kOk);
  EXPECT_TRUE(fresh.session.empty());
  // A session login always asks Keystone, even with the login cached.
  const size_t before = ks.seen.size();
  EXPECT_EQ(a->AuthenticateSession("alice", Secret("alicepass")).outcome, AuthOutcome::kOk);
  EXPECT_EQ(ks.seen.size(), before + 1);

  AuthResult again = a->RecheckSession("alice", login.session);
  EXPECT_EQ(again.outcome, AuthOutcome::kOk) << again.detail;
  EXPECT_EQ(again.identity.name, "alice");
  EXPECT_EQ(ks.seen.back().method, "GET");
  EXPECT_EQ(ks.seen.back().target, "/v3/auth/tokens?nocatalog");
  ks.valid = false;  // revoked in Keystone
  EXPECT_EQ(a->RecheckSession("alice", login.session).outcome, AuthOutcome::kBadCredentials);
  EXPECT_EQ(a->RecheckSession("alice", Secret("forged")).outcome, AuthOutcome::kBadCredentials);
  EXPECT_EQ(a->RecheckSession("alice", Secret()).outcome, AuthOutcome::kBadCredentials);
  EXPECT_EQ(a->AuthenticateSession("alice", Secret("wrong")).outcome, AuthOutcome::kBadCredentials);
}

TEST_F(KeystoneAuthenticatorTest, SessionWithoutSubjectTokenOrKeystoneDownIsUnavailable) {
  FakeHttpServer s([](const FakeRequest&) { return FakeReply{201, kToken}; });
  auto a = Make(Options(s));
  EXPECT_EQ(a->AuthenticateSession("alice", Secret("alicepass")).outcome,
            AuthOutcome::kUnavailable);
  KeystoneOptions o;
  o.url = "http://127.0.0.1:1/v3";  // nothing listens
  o.timeout_ms = 1000;
  auto down = Make(o);
  EXPECT_EQ(down->RecheckSession("alice", Secret(kSubject)).outcome, AuthOutcome::kUnavailable);
}

// ---- against a real Keystone (opt-in) ----

class KeystoneLive : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("BERTH_TEST_KEYSTONE_URL");
    if (url == nullptr || *url == '\0') GTEST_SKIP() << "BERTH_TEST_KEYSTONE_URL not set";
    url_ = url;
  }
  std::unique_ptr<KeystoneAuthenticator> Make(std::string project) {
    KeystoneOptions o;
    o.url = url_;
    o.project = std::move(project);
    auto r = KeystoneAuthenticator::Create(o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return std::move(r).value();
  }
  std::string url_;
};

TEST_F(KeystoneLive, Unscoped) {
  auto a = Make("");
  AuthResult r = a->Authenticate("alice", Secret("alicepass"));
  EXPECT_EQ(r.outcome, AuthOutcome::kOk) << r.detail;
  EXPECT_FALSE(r.identity.admin);
  std::cout << "first login: " << r.detail << "\n";
  const auto start = std::chrono::steady_clock::now();
  r = a->Authenticate("alice", Secret("alicepass"));
  std::cout << "second login: " << r.detail << " ("
            << std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count()
            << " us)\n";
  EXPECT_EQ(r.outcome, AuthOutcome::kOk);
  EXPECT_EQ(a->Authenticate("alice", Secret("wrong")).outcome, AuthOutcome::kBadCredentials);
  EXPECT_EQ(a->Authenticate("nobody", Secret("x")).outcome, AuthOutcome::kBadCredentials);
  // carol has no default project; bob neither; all pass unscoped.
  EXPECT_EQ(a->Authenticate("bob", Secret("bobpass")).outcome, AuthOutcome::kOk);
  EXPECT_FALSE(a->Authenticate("carol", Secret("carolpass")).identity.admin);
}

TEST_F(KeystoneLive, ProjectScopedRoles) {
  auto a = Make("berth");
  AuthResult bob = a->Authenticate("bob", Secret("bobpass"));
  EXPECT_EQ(bob.outcome, AuthOutcome::kOk) << bob.detail;
  EXPECT_FALSE(bob.identity.admin);
  AuthResult carol = a->Authenticate("carol", Secret("carolpass"));
  EXPECT_EQ(carol.outcome, AuthOutcome::kOk) << carol.detail;
  EXPECT_TRUE(carol.identity.admin);
  // No role on the project: Keystone answers 401 like a wrong password.
  EXPECT_EQ(a->Authenticate("alice", Secret("alicepass")).outcome, AuthOutcome::kBadCredentials);
  EXPECT_EQ(a->Authenticate("carol", Secret("wrong")).outcome, AuthOutcome::kBadCredentials);
}

TEST_F(KeystoneLive, LongNameOrPasswordIsBadCredentials) {
  auto a = Make("");
  EXPECT_EQ(a->Authenticate(std::string(300, 'u'), Secret("x")).outcome,
            AuthOutcome::kBadCredentials);
  EXPECT_EQ(a->Authenticate("alice", Secret(std::string(5000, 'p'))).outcome,
            AuthOutcome::kBadCredentials);
}

}  // namespace
}  // namespace berth::auth
