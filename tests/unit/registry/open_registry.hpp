// A test fixture for the registry's handlers without sockets: real stores in
// a temp dir behind a Registry without a token gate, and helpers that send a
// request through Handle and, when it streams, through the body sink.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "../auth/test_keys.hpp"
#include "crypto/hasher.hpp"
#include "registry/registry.hpp"
#include "storage/db/sqlite_metadata_store.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/fs/fs_upload_store.hpp"

namespace berth::registry {

class OpenRegistryTest : public ::testing::Test {
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
    registry_ = std::make_unique<Registry>(*blobs_, *uploads_, *meta_, Options{}, nullptr);
  }
  void TearDown() override {
    registry_.reset();
    uploads_.reset();
  }

  static http::Request Req(const std::string& method, const std::string& path,
                           http::Fields query = {}) {
    http::Request r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    r.remote = "10.0.0.1:1234";
    return r;
  }
  // `req` with `body` as its Content-Length body.
  static http::Request WithBody(http::Request req, const std::string& body,
                                const std::string& content_type) {
    req.headers.emplace_back("Content-Type", content_type);
    req.content_length = body.size();
    req.has_body = !body.empty();
    return req;
  }

  // Handles `req`; a streamed body is written in one piece and finished.
  http::Response Send(const http::Request& req, const std::string& body = "") {
    http::Outcome out = registry_->Handle(req);
    if (!out.sink) return std::move(out.response);
    Status s = out.sink->Write({body.data(), body.size()});
    return out.sink->Finish(s);
  }

  // Pushes `content` as a blob of `repo`; returns its digest.
  std::string PushBlob(const std::string& repo, const std::string& content) {
    std::string digest = crypto::HashBytes(DigestAlgorithm::kSha256, content).str();
    http::Response r =
        Send(WithBody(Req("POST", "/v2/" + repo + "/blobs/uploads/", {{"digest", digest}}), content,
                      "application/octet-stream"),
             content);
    EXPECT_EQ(r.status, 201) << r.body;
    return digest;
  }

  // An image manifest over one pushed config, with `extra` JSON members
  // (",\"subject\":{...}") spliced in.
  std::string ImageManifest(const std::string& config_digest, size_t config_size,
                            const std::string& extra = "") {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
           R"("config":{"mediaType":"application/vnd.example.config","digest":")" +
           config_digest + R"(","size":)" + std::to_string(config_size) + R"(},"layers":[])" +
           extra + "}";
  }

  // PUTs `manifest` under `reference`; returns the response.
  http::Response PutManifest(const std::string& repo, const std::string& reference,
                             const std::string& manifest) {
    return Send(WithBody(Req("PUT", "/v2/" + repo + "/manifests/" + reference), manifest,
                         "application/vnd.oci.image.manifest.v1+json"),
                manifest);
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
  std::unique_ptr<Registry> registry_;
};

}  // namespace berth::registry
