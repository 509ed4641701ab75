// Tests for ui/ui_handler.hpp and ui/assets.hpp without a token server: the
// embedded files and their headers, the browser redirect, what is handed to
// the registry, and the refusals that come before any token is asked for
// (no session, CSRF, foreign origin, oversized input). The calls that need
// the token server run in ui_handler_token_test.cpp (a fake one) and
// tests/integration/ui_test.sh.

#include "ui/ui_handler.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "../auth/fake_http_server.hpp"
#include "../auth/test_keys.hpp"
#include "test_gate.hpp"
#include "auth/bearer/bearer.hpp"
#include "auth/policy.hpp"
#include "storage/db/sqlite_metadata_store.hpp"
#include "ui/assets.hpp"
#include "ui/session.hpp"

namespace berth::ui {
namespace {

// Stands for the registry: answers 299 and remembers what it got.
class FakeInner final : public http::Handler {
 public:
  http::Outcome Handle(const http::Request& r) override {
    seen.push_back(r.path);
    http::Response res;
    res.status = 299;
    return http::Outcome::Reply(std::move(res));
  }
  bool Quick(const http::Request&) const override { return true; }
  http::Response Reject(int status, std::string_view) override {
    http::Response r;
    r.status = status;
    return r;
  }
  std::vector<std::string> seen;
};

class UiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gate_ = testgate::Make(dir_.path(), 1).gate;
    ASSERT_FALSE(HasFailure());
    auto meta = storage::SqliteMetadataStore::Open(dir_.path() + "/metadata.db");
    ASSERT_TRUE(meta.ok());
    meta_ = std::move(*meta);
    TokenClientOptions to;
    to.realm = "http://127.0.0.1:1/token";  // nothing listens: calls that reach it fail
    to.http.timeout_ms = 500;
    tokens_ = std::make_unique<TokenClient>(to, [] { return int64_t{1}; });
    ui_ = std::make_unique<UiHandler>(inner_, *meta_, *gate_, policy_, *tokens_, UiOptions{});
  }

  http::Response Call(std::string method, std::string path, http::Fields headers = {},
                      http::Fields query = {}) {
    http::Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.target = r.path;
    r.headers = std::move(headers);
    r.query = std::move(query);
    auto out = ui_->Handle(r);
    EXPECT_EQ(out.sink, nullptr);
    return std::move(out.response);
  }

  static std::string Header(const http::Response& r, std::string_view name) {
    return std::string(http::FindField(r.headers, name).value_or(""));
  }

  testkeys::TempDir dir_;
  std::unique_ptr<auth::BearerGate> gate_;
  std::unique_ptr<storage::SqliteMetadataStore> meta_;
  auth::Policy policy_{auth::PolicyOptions{}};
  std::unique_ptr<TokenClient> tokens_;
  FakeInner inner_;
  std::unique_ptr<UiHandler> ui_;
};

TEST_F(UiHandlerTest, ServesEmbeddedFilesWithSecurityHeaders) {
  struct Case {
    const char* path;
    const char* type;
  };
  const Case cases[] = {{"/ui/", "text/html; charset=utf-8"},
                        {"/ui/index.html", "text/html; charset=utf-8"},
                        {"/ui/app.js", "text/javascript; charset=utf-8"},
                        {"/ui/lib.js", "text/javascript; charset=utf-8"},
                        {"/ui/app.css", "text/css; charset=utf-8"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    auto r = Call("GET", c.path);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Header(r, "Content-Type"), c.type);
    EXPECT_FALSE(r.body.empty());
    EXPECT_EQ(Header(r, "Content-Security-Policy"), kContentSecurityPolicy);
    EXPECT_EQ(Header(r, "X-Frame-Options"), "DENY");
    EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff");
  }
  EXPECT_NE(kContentSecurityPolicy.find("frame-ancestors 'none'"), std::string_view::npos);
  EXPECT_EQ(kContentSecurityPolicy.find("unsafe-inline"), std::string_view::npos);
  auto head = Call("HEAD", "/ui/app.js");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.head_length.value_or(0), FindAsset("app.js")->body.size());
  for (const char* p : {"/ui/nope.js", "/ui/../src", "/ui/ui/app.js", "/ui/app.js?x"}) {
    SCOPED_TRACE(p);
    EXPECT_EQ(Call("GET", p).status, 404);
  }
  EXPECT_EQ(Call("POST", "/ui/app.js").status, 405);
  EXPECT_TRUE(inner_.seen.empty());
}

TEST_F(UiHandlerTest, AssetLookup) {
  EXPECT_EQ(FindAsset("")->name, "index.html");
  EXPECT_FALSE(FindAsset("missing.css").has_value());
  EXPECT_EQ(AllAssets().size(), 4u);
  EXPECT_EQ(ContentTypeFor("x.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("x"), "application/octet-stream");
  // The page loads its script as a module file: no inline code the CSP would block.
  std::string_view html = FindAsset("index.html")->body;
  EXPECT_NE(html.find("<script type=\"module\" src=\"/ui/app.js\"></script>"),
            std::string_view::npos);
  EXPECT_EQ(html.find("style="), std::string_view::npos);
  EXPECT_EQ(FindAsset("app.js")->body.find("innerHTML"), std::string_view::npos);
}

TEST_F(UiHandlerTest, BrowsersAtTheRootGoToTheUi) {
  auto r = Call("GET", "/", {{"Accept", "text/html,application/xhtml+xml"}});
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(Header(r, "Location"), "/ui/");
  EXPECT_EQ(Call("GET", "/ui").status, 301);
  // Registry clients at the root, and everything else, reach the registry.
  EXPECT_EQ(Call("GET", "/", {{"Accept", "application/json"}}).status, 299);
  EXPECT_EQ(Call("GET", "/v2/").status, 299);
  EXPECT_EQ(Call("GET", "/uix").status, 299);
  EXPECT_EQ(inner_.seen, (std::vector<std::string>{"/", "/v2/", "/uix"}));
}

TEST_F(UiHandlerTest, QuickOnlyForFilesAndRedirects) {
  http::Request r;
  r.method = "GET";
  r.path = "/ui/app.js";
  EXPECT_TRUE(ui_->Quick(r));
  r.path = "/ui/api/session";
  EXPECT_FALSE(ui_->Quick(r));
  r.path = "/ui/api/v2/alice/app/tags/list";
  EXPECT_FALSE(ui_->Quick(r));
  r.path = "/v2/";
  EXPECT_TRUE(ui_->Quick(r));  // the inner handler's answer
}

TEST_F(UiHandlerTest, ApiWithoutSessionIs401) {
  for (const char* p :
       {"/ui/api/session", "/ui/api/repositories", "/ui/api/v2/alice/app/tags/list"}) {
    SCOPED_TRACE(p);
    auto r = Call("GET", p);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body, R"({"error":"not logged in"})");
    EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  }
  EXPECT_TRUE(inner_.seen.empty());
}

TEST_F(UiHandlerTest, TokenServerDownIs503) {
  auto r = Call("GET", "/ui/api/session", {{"Cookie", "berth_ui=abc"}});
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("token server"), std::string::npos);
}

TEST_F(UiHandlerTest, StateChangesNeedCsrfAndSameOrigin) {
  const http::Fields cookie = {{"Host", "h:1"}, {"Cookie", "berth_ui=abc"}};
  auto del = [&](http::Fields extra) {
    http::Fields f = cookie;
    f.insert(f.end(), extra.begin(), extra.end());
    return Call("DELETE", "/ui/api/v2/alice/app/manifests/v1", f);
  };
  auto r = del({});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("X-CSRF-Token"), std::string::npos);
  EXPECT_EQ(del({{"X-CSRF-Token", "0000"}}).status, 403);
  EXPECT_EQ(del({{"X-CSRF-Token", CsrfToken("abc")}, {"Origin", "https://evil.example"}}).status,
            403);
  // With both right, the call goes on to the token server (down here).
  EXPECT_EQ(del({{"X-CSRF-Token", CsrfToken("abc")}, {"Origin", "https://h:1"}}).status, 503);
  EXPECT_EQ(Call("POST", "/ui/api/logout", cookie).status, 403);
  EXPECT_TRUE(inner_.seen.empty());
}

TEST_F(UiHandlerTest, OnlyReadsAndManifestDeletesPassThrough) {
  const http::Fields cookie = {{"Cookie", "berth_ui=abc"}, {"X-CSRF-Token", CsrfToken("abc")}};
  EXPECT_EQ(Call("POST", "/ui/api/v2/alice/app/blobs/uploads/", cookie).status, 405);
  EXPECT_EQ(Call("DELETE", "/ui/api/v2/alice/app/blobs/sha256:00", cookie).status, 405);
  EXPECT_EQ(Call("GET", "/ui/api/v2/_catalog", cookie).status, 405);  // the filtered list instead
  EXPECT_EQ(Call("GET", "/ui/api/v2/", cookie).status, 404);
  EXPECT_EQ(Call("GET", "/ui/api/v2/Bad Name/tags/list", cookie).status, 404);
  EXPECT_EQ(Call("GET", "/ui/api/nothing", cookie).status, 404);
}

TEST_F(UiHandlerTest, LoginChecksOriginAndSize) {
  http::Request r;
  r.method = "POST";
  r.path = "/ui/api/login";
  r.headers = {{"Host", "h:1"}, {"Origin", "https://evil.example"}};
  EXPECT_EQ(ui_->Handle(r).response.status, 403);
  r.headers = {{"Host", "h:1"}};
  r.content_length = 1 << 20;
  r.has_body = true;
  EXPECT_EQ(ui_->Handle(r).response.status, 413);
  r.content_length = 20;
  auto out = ui_->Handle(r);
  ASSERT_NE(out.sink, nullptr);
  EXPECT_EQ(out.sink->Write(std::span<const char>("{\"user\":1}", 10)).code(), Errc::kOk);
  EXPECT_EQ(out.sink->Finish(Status::Ok()).status, 400);
  EXPECT_EQ(ui_->FinishLogin(r, "not json").status, 400);
  EXPECT_EQ(ui_->FinishLogin(r, R"({"user":"","password":"x"})").status, 400);
  EXPECT_EQ(ui_->FinishLogin(r, R"({"user":"alice","password":"x"})").status,
            503);  // token server down
}

// Logout revokes the session's refresh token at the token server (a fake
// here), and says so when the token server would not.
TEST_F(UiHandlerTest, LogoutRevokesTheRefreshTokenAtTheTokenServer) {
  std::mutex mu;
  std::vector<testutil::FakeRequest> seen;
  int answer = 200;
  testutil::FakeHttpServer server([&](const testutil::FakeRequest& r) {
    std::lock_guard lock(mu);
    seen.push_back(r);
    return testutil::FakeReply{answer, ""};
  });
  TokenClientOptions to;
  to.realm = server.url() + "/token";
  to.http.timeout_ms = 2000;
  TokenClient tokens(to, [] { return int64_t{1}; });
  UiHandler ui(inner_, *meta_, *gate_, policy_, tokens, UiOptions{});
  auto logout = [&](const std::string& session) {
    http::Request r;
    r.method = "POST";
    r.path = r.target = "/ui/api/logout";
    r.headers = {{"Host", "h:1"},
                 {"Origin", "https://h:1"},
                 {"Cookie", "berth_ui=" + session},
                 {"X-CSRF-Token", CsrfToken(session)}};
    return ui.Handle(r).response;
  };

  auto r = logout("abc");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"ok":true,"revoked":true})");
  EXPECT_NE(Header(r, "Set-Cookie").find("berth_ui=; Path=/ui/; Max-Age=0"), std::string::npos);
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].target, "/token/revoke");
    EXPECT_EQ(seen[0].body, "token=abc&token_type_hint=refresh_token&client_id=berth-ui");
  }
  // The session is refused here at once, without asking the token server.
  http::Request again;
  again.method = "GET";
  again.path = again.target = "/ui/api/session";
  again.headers = {{"Cookie", "berth_ui=abc"}};
  EXPECT_EQ(ui.Handle(again).response.status, 401);
  EXPECT_EQ(server.requests(), 1);

  // A token server that cannot revoke (an older berth: 404): still logged
  // out here, and the page is told the session lives on elsewhere.
  {
    std::lock_guard lock(mu);
    answer = 404;
  }
  r = logout("def");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("revoked":false)"), std::string::npos);
  EXPECT_NE(r.body.find("stays valid elsewhere"), std::string::npos);
  EXPECT_NE(Header(r, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(server.requests(), 2);
  EXPECT_TRUE(inner_.seen.empty());
}

TEST(TokenClientTest, RevokeUrl) {
  EXPECT_EQ(TokenClient::RevokeUrl("https://h:9002/token"), "https://h:9002/token/revoke");
  EXPECT_EQ(TokenClient::RevokeUrl("https://h:9002/token/"), "https://h:9002/token/revoke");
}

TEST(TokenClientTest, FormEncodesEveryValue) {
  EXPECT_EQ(TokenClient::Form({{"grant_type", "password"}, {"password", "a b&c=d+e%"}}),
            "grant_type=password&password=a%20b%26c%3Dd%2Be%25");
}

}  // namespace
}  // namespace berth::ui
