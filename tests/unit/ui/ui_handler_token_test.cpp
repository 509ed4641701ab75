// Tests for the calls of ui/ui_handler.hpp that need the token server:
// /ui/api/usage and blob reads through /ui/api/v2/. A fake token server
// (FakeHttpServer) trades the sessions "s-alice", "s-bob" and "s-admin" for
// tokens that the real Policy grants and a test key signs; behind the
// UiHandler runs the real Registry with the token gate, over a memory blob
// store that may redirect as S3 does and SQLite metadata.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <charconv>
#include <map>

#include "../auth/fake_http_server.hpp"
#include "../auth/test_keys.hpp"
#include "../storage/blob_reader.hpp"
#include "test_gate.hpp"
#include "auth/bearer/bearer.hpp"
#include "auth/jwt/jwt.hpp"
#include "auth/policy.hpp"
#include "crypto/hasher.hpp"
#include "registry/registry.hpp"
#include "storage/db/sqlite_metadata_store.hpp"
#include "storage/memory/memory_blob_store.hpp"
#include "storage/memory/memory_upload_store.hpp"
#include "ui/ui_handler.hpp"

namespace berth::ui {
namespace {

// application/x-www-form-urlencoded value.
std::string FormDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string FormField(const std::string& body, std::string_view name) {
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    std::string_view pair(body.data() + start, end - start);
    if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=') {
      return FormDecode(pair.substr(name.size() + 1));
    }
    start = end + 1;
  }
  return "";
}

class UiTokenTest : public ::testing::Test {
 protected:
  static auth::PolicyOptions AdminOptions() {
    auth::PolicyOptions o;
    o.admins = {"admin"};
    return o;
  }

  void SetUp() override {
    auto made = testgate::Make(dir_.path(), 1000);
    ASSERT_FALSE(HasFailure());
    signer_ = std::make_unique<auth::jwt::JwtSigner>(made.key.key);
    gate_ = std::move(made.gate);
    auto meta = storage::SqliteMetadataStore::Open(dir_.path() + "/metadata.db");
    ASSERT_TRUE(meta.ok());
    meta_ = std::move(*meta);
    blobs_ = std::make_unique<storage::MemoryBlobStore>(storage::MemoryBlobStore::Serve::kStream);
    uploads_ = std::make_unique<storage::MemoryUploadStore>(*blobs_);
    registry::LifecycleParts parts;
    parts.store = meta_.get();
    parts.quotas = &quotas_;
    registry_ = std::make_unique<registry::Registry>(
        *blobs_, *uploads_, *meta_, registry::Options{}, gate_.get(), nullptr, parts);
    server_ = std::make_unique<testutil::FakeHttpServer>(
        [this](const testutil::FakeRequest& r) { return TokenServer(r); });
    TokenClientOptions to;
    to.realm = server_->url() + "/token";
    to.http.timeout_ms = 2000;
    tokens_ = std::make_unique<TokenClient>(to, [] { return int64_t{1000}; });
    ui_ = MakeUi(UiOptions{});

    // What the stores hold, pushed through an open registry on the same stores.
    registry::Registry open(*blobs_, *uploads_, *meta_, registry::Options{}, nullptr);
    alice_blob_ = Push(open, "alice/app", std::string(1000, 'a'));
    Push(open, "alice/tools", std::string(300, 't'));
    Push(open, "bob/secret", std::string(700, 'b'));
    Push(open, "public/base", std::string(50, 'p'));
  }
  void TearDown() override {
    ui_.reset();
    registry_.reset();
    uploads_.reset();
  }

  std::unique_ptr<UiHandler> MakeUi(UiOptions options) {
    return std::make_unique<UiHandler>(*registry_, *meta_, *gate_, policy_, *tokens_, options,
                                       meta_.get(), &quotas_);
  }

  static std::string Push(registry::Registry& reg, const std::string& repo,
                          const std::string& content) {
    const std::string digest = crypto::HashBytes(DigestAlgorithm::kSha256, content).str();
    http::Request r;
    r.method = "POST";
    r.path = r.target = "/v2/" + repo + "/blobs/uploads/";
    r.query = {{"digest", digest}};
    r.headers = {{"Content-Type", "application/octet-stream"}};
    r.content_length = content.size();
    r.has_body = true;
    http::Outcome out = reg.Handle(r);
    EXPECT_NE(out.sink, nullptr);
    if (!out.sink) return digest;
    Status s = out.sink->Write({content.data(), content.size()});
    EXPECT_EQ(out.sink->Finish(s).status, 201);
    return digest;
  }

  // The token server: a refresh grant for a known session gets a token with
  // what the policy grants its user of the scopes asked.
  testutil::FakeReply TokenServer(const testutil::FakeRequest& r) {
    const std::string session = FormField(r.body, "refresh_token");
    const std::map<std::string, std::string> users = {
        {"s-alice", "alice"}, {"s-bob", "bob"}, {"s-admin", "admin"}};
    auto user = users.find(session);
    if (FormField(r.body, "grant_type") != "refresh_token" || user == users.end()) {
      return {401, R"({"error":"invalid_grant"})"};
    }
    auto scopes = auth::ParseScopes(FormField(r.body, "scope"));
    if (!scopes) return {400, R"({"error":"invalid_scope"})"};
    auth::jwt::Claims c;
    c.issuer = "berth-token";
    c.audience = "berth";
    c.subject = user->second;
    c.issued_at = c.not_before = 1000;
    c.expires = 1300;
    c.id = session + std::to_string(server_requests_++);
    c.access = policy_.Grant({user->second, false, true}, *scopes);
    auto token = signer_->Sign(c);
    if (!token) return {500, ""};
    return {200, boost::json::serialize(
                     boost::json::object{{"access_token", *token}, {"expires_in", 300}})};
  }

  http::Response Call(UiHandler& ui, const std::string& method, const std::string& path,
                      const std::string& session) {
    http::Request r;
    r.method = method;
    r.path = r.target = path;
    if (!session.empty()) r.headers = {{"Cookie", "berth_ui=" + session}};
    auto out = ui.Handle(r);
    EXPECT_EQ(out.sink, nullptr);
    return std::move(out.response);
  }
  http::Response Call(const std::string& method, const std::string& path,
                      const std::string& session) {
    return Call(*ui_, method, path, session);
  }

  // /ui/api/usage as "namespace used quota repositories blobs; ...".
  std::string Usage(const std::string& session) {
    http::Response r = Call("GET", "/ui/api/usage", session);
    if (r.status != 200) return std::to_string(r.status) + " " + r.body;
    EXPECT_EQ(std::string(http::FindField(r.headers, "Cache-Control").value_or("")), "no-store");
    boost::system::error_code ec;
    auto json = boost::json::parse(r.body, ec);
    if (ec || !json.is_object() || !json.as_object().contains("namespaces")) return r.body;
    std::string out;
    for (const auto& v : json.as_object().at("namespaces").as_array()) {
      const auto& n = v.as_object();
      if (!out.empty()) out += "; ";
      out += std::string(n.at("namespace").as_string()) + " " +
             std::to_string(n.at("used_bytes").to_number<uint64_t>()) + " " +
             std::to_string(n.at("quota_bytes").to_number<uint64_t>()) + " " +
             std::to_string(n.at("repositories").to_number<uint64_t>()) + " " +
             std::to_string(n.at("blobs").to_number<uint64_t>());
    }
    return out;
  }

  static std::string Header(const http::Response& r, std::string_view name) {
    return std::string(http::FindField(r.headers, name).value_or("<none>"));
  }
  static std::string Body(const http::Response& r) {
    if (!r.file) return r.body;
    auto got =
        test_util::ReadBlobFd(r.file->fd.get(), r.file->stream, r.file->offset, r.file->length);
    return got ? *got : "<read failed>";
  }

  testkeys::TempDir dir_;
  std::unique_ptr<auth::jwt::JwtSigner> signer_;
  std::unique_ptr<auth::BearerGate> gate_;
  std::unique_ptr<storage::SqliteMetadataStore> meta_;
  std::unique_ptr<storage::MemoryBlobStore> blobs_;
  std::unique_ptr<storage::MemoryUploadStore> uploads_;
  lifecycle::QuotaPolicy quotas_{0, {{"alice", 5000}}};
  auth::Policy policy_{AdminOptions()};
  std::unique_ptr<registry::Registry> registry_;
  int server_requests_ = 0;  // the token server's thread only
  std::unique_ptr<testutil::FakeHttpServer> server_;
  std::unique_ptr<TokenClient> tokens_;
  std::unique_ptr<UiHandler> ui_;
  std::string alice_blob_;
};

TEST_F(UiTokenTest, UsageOfAUserIsTheirOwnNamespaceOnlyWithItsQuota) {
  // alice: two repositories, 1,300 bytes, her quota of 5,000.
  EXPECT_EQ(Usage("s-alice"), "alice 1300 5000 2 2");
  // bob: his one repository, no quota (0), nothing of alice's.
  EXPECT_EQ(Usage("s-bob"), "bob 700 0 1 1");
}

TEST_F(UiTokenTest, UsageOfAnAdminIsEveryNamespace) {
  EXPECT_EQ(Usage("s-admin"), "alice 1300 5000 2 2; bob 700 0 1 1; public 50 0 1 1");
}

TEST_F(UiTokenTest, UsageWithoutASessionIs401) {
  for (const std::string session : {"", "s-unknown"}) {
    SCOPED_TRACE(session);
    http::Response r = Call("GET", "/ui/api/usage", session);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(Header(r, "Content-Type"), "application/json");
    EXPECT_EQ(r.body.find("namespace"), std::string::npos);
  }
  EXPECT_EQ(Call("POST", "/ui/api/usage", "s-alice").status, 405);
}

// A store that redirects blob reads (S3 with s3.redirect) answers the API
// with 307, which the page may not follow (its CSP allows only its own
// origin): the interface reads the blob through berth, with the same
// authorization, up to max_blob_bytes.
TEST_F(UiTokenTest, BlobsAreReadThroughBerthWhenTheStoreRedirects) {
  blobs_->SetRedirectBase("https://s3.example/bucket");
  const std::string path = "/v2/alice/app/blobs/" + alice_blob_;
  // The registry API itself still redirects.
  auto token = tokens_->Access("s-alice", {{"repository", "alice/app", {"pull"}}});
  ASSERT_TRUE(token.ok());
  http::Request api;
  api.method = "GET";
  api.path = api.target = path;
  api.headers = {{"Authorization", "Bearer " + *token}};
  http::Outcome direct = registry_->Handle(api);
  EXPECT_EQ(direct.response.status, 307);
  EXPECT_EQ(Header(direct.response, "Location"),
            "https://s3.example/bucket/" + alice_blob_ + "?method=GET");

  http::Response r = Call("GET", "/ui/api" + path, "s-alice");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Location"), "<none>");
  EXPECT_EQ(Body(r), std::string(1000, 'a'));
  EXPECT_EQ(Header(r, "Content-Disposition"), "attachment");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  http::Response head = Call("HEAD", "/ui/api" + path, "s-alice");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.head_length.value_or(0), 1000u);

  // The same authorization as the API: bob may not pull alice/app.
  r = Call("GET", "/ui/api" + path, "s-bob");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Header(r, "Location"), "<none>");
  EXPECT_EQ(r.body.find("aaaa"), std::string::npos);
  EXPECT_EQ(Call("GET", "/ui/api" + path, "").status, 401);
  // Nor does the blob leak into a repository it is not linked into.
  EXPECT_EQ(Call("GET", "/ui/api/v2/alice/tools/blobs/" + alice_blob_, "s-alice").status, 404);
}

TEST_F(UiTokenTest, BlobsOverTheLimitAre413WithOrWithoutRedirect) {
  UiOptions small;
  small.max_blob_bytes = 999;
  auto ui = MakeUi(small);
  const std::string path = "/ui/api/v2/alice/app/blobs/" + alice_blob_;
  for (const bool redirect : {false, true}) {
    SCOPED_TRACE(redirect);
    blobs_->SetRedirectBase(redirect ? "https://s3.example/bucket" : "");
    http::Response r = Call(*ui, "GET", path, "s-alice");
    EXPECT_EQ(r.status, 413);
    EXPECT_FALSE(r.file.has_value());
    EXPECT_EQ(Header(r, "Location"), "<none>");
    EXPECT_NE(r.body.find("too large"), std::string::npos);
    // A blob under the limit is served.
    r = Call(*ui, "GET",
             "/ui/api/v2/alice/tools/blobs/" +
                 crypto::HashBytes(DigestAlgorithm::kSha256, std::string(300, 't')).str(),
             "s-alice");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Body(r), std::string(300, 't'));
  }
}

}  // namespace
}  // namespace berth::ui
