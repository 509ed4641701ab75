// Tests for token auth in registry/registry.hpp: the scopes each endpoint
// needs (distribution app.go's mapping), and Handle behind a real BearerGate
// over real stores in a temp dir: challenges, insufficient scope, the user
// for the access log, and mounts that need pull on the source.

#include "registry/registry.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../auth/test_keys.hpp"
#include "auth/bearer/bearer.hpp"
#include "crypto/hasher.hpp"
#include "events/dispatcher.hpp"
#include "storage/db/sqlite_metadata_store.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/fs/fs_upload_store.hpp"

namespace berth::registry {
namespace {

using auth::Scope;
constexpr int64_t kNow = 1'700'000'000;

TEST(RegistryAuthTest, RequiredScopesPerEndpointAndMethod) {
  struct Case {
    const char* method;
    const char* path;
    std::vector<Scope> want;
  };
  const std::vector<Scope> none;
  const Case cases[] = {
      {"GET", "/v2/", none},
      {"HEAD", "/v2/", none},
      {"GET", "/v2/_catalog", {{"registry", "catalog", {"*"}}}},
      {"GET", "/v2/a/b/tags/list", {{"repository", "a/b", {"pull"}}}},
      {"GET", "/v2/a/manifests/latest", {{"repository", "a", {"pull"}}}},
      {"HEAD", "/v2/a/manifests/latest", {{"repository", "a", {"pull"}}}},
      {"PUT", "/v2/a/manifests/latest", {{"repository", "a", {"pull", "push"}}}},
      {"DELETE", "/v2/a/manifests/latest", {{"repository", "a", {"delete"}}}},
      {"GET", "/v2/a/blobs/sha256:x", {{"repository", "a", {"pull"}}}},
      {"DELETE", "/v2/a/blobs/sha256:x", {{"repository", "a", {"delete"}}}},
      {"POST", "/v2/a/blobs/uploads/", {{"repository", "a", {"pull", "push"}}}},
      {"PATCH", "/v2/a/blobs/uploads/id", {{"repository", "a", {"pull", "push"}}}},
      {"PUT", "/v2/a/blobs/uploads/id", {{"repository", "a", {"pull", "push"}}}},
      {"GET", "/v2/a/blobs/uploads/id", {{"repository", "a", {"pull"}}}},
      {"DELETE", "/v2/a/blobs/uploads/id", {{"repository", "a", {"delete"}}}},
      {"GET", "/v2/a/referrers/sha256:x", {{"repository", "a", {"pull"}}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path);
    auto route = ParseRoute(c.path);
    ASSERT_TRUE(route.ok()) << route.status().message();
    EXPECT_EQ(Registry::RequiredScopes(*route, c.method), c.want);
  }
}

class RegistryAuthHandleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = dir_.path();
    std::filesystem::create_directory(root + "/blobs");
    std::filesystem::create_directory(root + "/uploads");
    blobs_ = std::make_unique<storage::FsBlobStore>(root);
    uploads_ = std::make_unique<storage::FsUploadStore>(root, *blobs_);
    auto meta = storage::SqliteMetadataStore::Open(root + "/metadata.db");
    ASSERT_TRUE(meta.ok()) << meta.status().message();
    meta_ = std::move(*meta);

    key_ = testkeys::MakeKey(root, "signer", "ES256");
    ASSERT_TRUE(key_.key);
    auth::jwt::VerifyOptions o;
    o.issuer = "berth-token";
    o.audience = "berth";
    auto verifier = std::make_shared<auth::jwt::JwtVerifier>(testkeys::MakeTrust(root, {key_}), o);
    gate_ = std::make_unique<auth::BearerGate>(verifier, "https://auth.example/token", "berth",
                                               [] { return kNow; });
    registry_ = std::make_unique<Registry>(*blobs_, *uploads_, *meta_, Options{}, gate_.get());
  }
  void TearDown() override {
    registry_.reset();
    uploads_.reset();
  }

  std::string Token(const std::vector<Scope>& access, const std::string& subject = "alice") {
    auth::jwt::Claims c;
    c.issuer = "berth-token";
    c.subject = subject;
    c.audience = "berth";
    c.issued_at = c.not_before = kNow;
    c.expires = kNow + 300;
    c.access = access;
    auto t = auth::jwt::JwtSigner(key_.key).Sign(c);
    EXPECT_TRUE(t.ok());
    return t.ok() ? *t : "";
  }
  static http::Request Req(const std::string& method, const std::string& path,
                           const std::string& token = "", http::Fields query = {}) {
    http::Request r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    r.remote = "10.0.0.1:1234";
    if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
    return r;
  }
  static std::string Header(const http::Response& r, std::string_view name) {
    return std::string(http::FindField(r.headers, name).value_or("<none>"));
  }
  static std::string Code(const http::Response& r) {
    auto pos = r.body.find("\"code\":\"");
    if (pos == std::string::npos) return "";
    pos += 8;
    return r.body.substr(pos, r.body.find('"', pos) - pos);
  }

  testkeys::TempDir dir_;
  std::unique_ptr<storage::FsBlobStore> blobs_;
  std::unique_ptr<storage::FsUploadStore> uploads_;
  std::unique_ptr<storage::SqliteMetadataStore> meta_;
  testkeys::TestKey key_;
  std::unique_ptr<auth::BearerGate> gate_;
  std::unique_ptr<Registry> registry_;
};

constexpr const char* kChallenge = R"(Bearer realm="https://auth.example/token",service="berth")";

TEST_F(RegistryAuthHandleTest, NoTokenGetsTheChallenge) {
  http::Outcome out = registry_->Handle(Req("GET", "/v2/alice/app/tags/list"));
  EXPECT_EQ(out.response.status, 401);
  EXPECT_EQ(Code(out.response), "UNAUTHORIZED");
  EXPECT_EQ(Header(out.response, "Docker-Distribution-Api-Version"), "registry/2.0");
  EXPECT_EQ(Header(out.response, "WWW-Authenticate"),
            std::string(kChallenge) + R"(,scope="repository:alice/app:pull")");
  EXPECT_EQ(out.user, "");

  // The base endpoint asks for a token too, without a scope.
  out = registry_->Handle(Req("GET", "/v2/"));
  EXPECT_EQ(out.response.status, 401);
  EXPECT_EQ(Header(out.response, "WWW-Authenticate"), kChallenge);
  out = registry_->Handle(Req("GET", "/v2/_catalog"));
  EXPECT_EQ(Header(out.response, "WWW-Authenticate"),
            std::string(kChallenge) + R"(,scope="registry:catalog:*")");
}

TEST_F(RegistryAuthHandleTest, InvalidTokenSaysSo) {
  for (const std::string& token : {std::string("garbage"), Token({}) + "x"}) {
    http::Outcome out = registry_->Handle(Req("DELETE", "/v2/alice/app/manifests/v1", token));
    EXPECT_EQ(out.response.status, 401);
    EXPECT_EQ(Code(out.response), "UNAUTHORIZED");
    EXPECT_EQ(
        Header(out.response, "WWW-Authenticate"),
        std::string(kChallenge) + R"(,scope="repository:alice/app:delete",error="invalid_token")");
  }
}

TEST_F(RegistryAuthHandleTest, InsufficientScope) {
  struct Case {
    const char* method;
    const char* path;
    std::vector<Scope> access;
    const char* scope;
  };
  const Case cases[] = {
      {"GET",
       "/v2/bob/x/tags/list",
       {{"repository", "alice/app", {"pull"}}},
       "repository:bob/x:pull"},
      {"POST",
       "/v2/alice/app/blobs/uploads/",
       {{"repository", "alice/app", {"pull"}}},
       "repository:alice/app:pull,push"},
      {"DELETE",
       "/v2/alice/app/manifests/v1",
       {{"repository", "alice/app", {"pull", "push"}}},
       "repository:alice/app:delete"},
      {"GET", "/v2/_catalog", {{"registry", "other", {"*"}}}, "registry:catalog:*"},
      {"GET",
       "/v2/alice/app/tags/list",
       {{"registry", "alice/app", {"*"}}},
       "repository:alice/app:pull"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path);
    http::Outcome out = registry_->Handle(Req(c.method, c.path, Token(c.access, "bob")));
    EXPECT_EQ(out.response.status, 401);
    EXPECT_EQ(Code(out.response), "UNAUTHORIZED");
    EXPECT_EQ(Header(out.response, "WWW-Authenticate"),
              std::string(kChallenge) + ",scope=\"" + c.scope + "\",error=\"insufficient_scope\"");
    EXPECT_EQ(out.user, "bob");
  }
}

TEST_F(RegistryAuthHandleTest, ValidTokenReachesTheHandler) {
  const std::string token = Token({{"repository", "alice/app", {"pull"}}});
  http::Outcome out = registry_->Handle(Req("GET", "/v2/alice/app/tags/list", token));
  EXPECT_EQ(out.response.status, 404);
  EXPECT_EQ(Code(out.response), "NAME_UNKNOWN");
  EXPECT_EQ(out.user, "alice");

  out = registry_->Handle(Req("GET", "/v2/", Token({})));
  EXPECT_EQ(out.response.status, 200);
  out = registry_->Handle(
      Req("GET", "/v2/_catalog", Token({{"registry", "catalog", {"*"}}}, "root")));
  EXPECT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(out.user, "root");
  // "*" grants every action.
  out = registry_->Handle(
      Req("POST", "/v2/alice/app/blobs/uploads/", Token({{"repository", "alice/app", {"*"}}})));
  EXPECT_EQ(out.response.status, 202) << out.response.body;
  // Open registry: no gate, no token needed.
  Registry open(*blobs_, *uploads_, *meta_, Options{}, nullptr);
  EXPECT_EQ(open.Handle(Req("GET", "/v2/")).response.status, 200);
}

TEST_F(RegistryAuthHandleTest, MountNeedsPullOnTheSource) {
  const Digest d = crypto::HashBytes(DigestAlgorithm::kSha256, "layer");
  ASSERT_TRUE(meta_->LinkBlob("bob/src", d, 5, 0).ok());
  const http::Fields q = {{"mount", d.str()}, {"from", "bob/src"}};
  const Scope push{"repository", "alice/app", {"pull", "push"}};

  // Without pull on bob/src: a plain upload session, and nothing linked.
  http::Outcome out =
      registry_->Handle(Req("POST", "/v2/alice/app/blobs/uploads/", Token({push}), q));
  EXPECT_EQ(out.response.status, 202) << out.response.body;
  EXPECT_NE(Header(out.response, "Location").find("/v2/alice/app/blobs/uploads/"),
            std::string::npos);
  EXPECT_FALSE(meta_->LinkedBlobSize("alice/app", d).ok());
  EXPECT_EQ(out.user, "alice");

  // With it: mounted.
  out = registry_->Handle(Req("POST", "/v2/alice/app/blobs/uploads/",
                              Token({push, {"repository", "bob/src", {"pull"}}}), q));
  EXPECT_EQ(out.response.status, 201) << out.response.body;
  EXPECT_EQ(Header(out.response, "Docker-Content-Digest"), d.str());
  EXPECT_EQ(meta_->LinkedBlobSize("alice/app", d).value(), 5u);
}

// Webhook events name the user the token names (events::Event::actor).
TEST_F(RegistryAuthHandleTest, EventsNameTheTokensUser) {
  events::DispatcherOptions o;
  events::EndpointOptions ep;
  ep.name = "hook";
  ep.url = "http://127.0.0.1:1/";
  o.endpoints = {ep};
  events::Dispatcher dispatcher(*meta_, o);
  registry_ = std::make_unique<Registry>(*blobs_, *uploads_, *meta_, Options{}, gate_.get(),
                                         nullptr, LifecycleParts{}, &dispatcher);
  const std::string token = Token({{"repository", "alice/app", {"pull", "push"}}});
  const std::string config = "{}";
  const std::string config_digest = crypto::HashBytes(DigestAlgorithm::kSha256, config).str();
  auto send = [&](http::Request r, const std::string& body, const std::string& type) {
    r.headers.emplace_back("Content-Type", type);
    r.content_length = body.size();
    r.has_body = true;
    http::Outcome out = registry_->Handle(r);
    if (!out.sink) return out.response.status;
    return out.sink->Finish(out.sink->Write({body.data(), body.size()})).status;
  };
  ASSERT_EQ(send(Req("POST", "/v2/alice/app/blobs/uploads/", token, {{"digest", config_digest}}),
                 config, "application/octet-stream"),
            201);
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      config_digest + R"(","size":2},"layers":[]})";
  ASSERT_EQ(send(Req("PUT", "/v2/alice/app/manifests/v1", token), manifest,
                 "application/vnd.oci.image.manifest.v1+json"),
            201);
  auto pending = meta_->Pending("hook", 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_NE((*pending)[0].payload.find(R"("actor":{"name":"alice"})"), std::string::npos)
      << (*pending)[0].payload;
  registry_.reset();
}

}  // namespace
}  // namespace berth::registry
