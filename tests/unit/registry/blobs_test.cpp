// Tests for registry/blobs.cpp without sockets: GET, HEAD and DELETE of
// /v2/<name>/blobs/<digest>, single byte ranges and their refusals, and the
// repository boundary (a blob is served only where it is linked); over a
// store that streams (MemoryBlobStore kStream), ranges from the pipe and
// redirects to the store's own URL.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "../storage/blob_reader.hpp"
#include "open_registry.hpp"
#include "storage/memory/memory_blob_store.hpp"
#include "storage/memory/memory_upload_store.hpp"

namespace berth::registry {
namespace {

class BlobsTest : public OpenRegistryTest {
 protected:
  // The bytes a file-bodied response would send.
  static std::string FileBody(const http::Response& r) {
    if (!r.file) return "<no file>";
    std::string out(r.file->length, '\0');
    ssize_t n =
        ::pread(r.file->fd.get(), out.data(), out.size(), static_cast<off_t>(r.file->offset));
    if (n < 0) return "<read failed>";
    out.resize(static_cast<size_t>(n));
    return out;
  }
  http::Response GetRange(const std::string& digest, const std::string& range) {
    http::Request req = Req("GET", "/v2/a/b/blobs/" + digest);
    req.headers.emplace_back("Range", range);
    return Send(req);
  }

  const std::string content_ = "0123456789";
};

TEST_F(BlobsTest, GetServesTheFileWithItsHeaders) {
  const std::string digest = PushBlob("a/b", content_);
  http::Response r = Send(Req("GET", "/v2/a/b/blobs/" + digest));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(FileBody(r), content_);
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest);
  EXPECT_EQ(Header(r, "Content-Type"), "application/octet-stream");
  EXPECT_EQ(Header(r, "Accept-Ranges"), "bytes");
  EXPECT_EQ(Header(r, "Etag"), "\"" + digest + "\"");
  EXPECT_EQ(Header(r, "Docker-Distribution-Api-Version"), "registry/2.0");
}

TEST_F(BlobsTest, HeadAnnouncesTheSizeWithoutABody) {
  const std::string digest = PushBlob("a/b", content_);
  http::Response r = Send(Req("HEAD", "/v2/a/b/blobs/" + digest));
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(r.head_length.has_value());
  EXPECT_EQ(*r.head_length, content_.size());
  EXPECT_FALSE(r.file.has_value());
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest);
}

TEST_F(BlobsTest, UnknownOrElsewhereIsBlobUnknown) {
  const std::string digest = PushBlob("a/b", content_);
  const std::string absent = "sha256:" + std::string(64, '0');
  for (const char* method : {"GET", "HEAD"}) {
    SCOPED_TRACE(method);
    http::Response r = Send(Req(method, "/v2/a/b/blobs/" + absent));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Code(r), "BLOB_UNKNOWN");
    // Stored, but not linked into this repository.
    r = Send(Req(method, "/v2/other/blobs/" + digest));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Code(r), "BLOB_UNKNOWN");
  }
}

TEST_F(BlobsTest, MalformedDigestIsDigestInvalid) {
  for (const std::string bad :
       {"sha256:zzz", "sha256:1234", "md5:d41d8cd98f00b204e9800998ecf8427e", "nodigest"}) {
    SCOPED_TRACE(bad);
    for (const char* method : {"GET", "DELETE"}) {
      http::Response r = Send(Req(method, "/v2/a/b/blobs/" + bad));
      EXPECT_EQ(r.status, 400);
      EXPECT_EQ(Code(r), "DIGEST_INVALID");
    }
  }
}

TEST_F(BlobsTest, SingleRanges) {
  const std::string digest = PushBlob("a/b", content_);
  struct Case {
    std::string range, body, content_range;
  };
  const Case cases[] = {
      {"bytes=0-3", "0123", "bytes 0-3/10"},   {"bytes=4-", "456789", "bytes 4-9/10"},
      {"bytes=-3", "789", "bytes 7-9/10"},     {"bytes=8-100", "89", "bytes 8-9/10"},
      {"bytes=-50", content_, "bytes 0-9/10"}, {"bytes=9-9", "9", "bytes 9-9/10"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.range);
    http::Response r = GetRange(digest, c.range);
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(FileBody(r), c.body);
    EXPECT_EQ(Header(r, "Content-Range"), c.content_range);
    EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest);
  }
}

TEST_F(BlobsTest, UnsatisfiableRangeIs416WithTheSize) {
  const std::string digest = PushBlob("a/b", content_);
  for (const std::string range : {"bytes=10-", "bytes=10-20", "bytes=-0"}) {
    SCOPED_TRACE(range);
    http::Response r = GetRange(digest, range);
    EXPECT_EQ(r.status, 416);
    EXPECT_EQ(Header(r, "Content-Range"), "bytes */10");
    EXPECT_FALSE(r.file.has_value());
  }
}

TEST_F(BlobsTest, RangesWeDoNotServeSendTheWholeBlob) {
  const std::string digest = PushBlob("a/b", content_);
  for (const std::string range :
       {"items=0-1", "bytes=0-1,4-5", "bytes=5-2", "bytes=x-3", "bytes=3"}) {
    SCOPED_TRACE(range);
    http::Response r = GetRange(digest, range);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(FileBody(r), content_);
    EXPECT_EQ(Header(r, "Content-Range"), "<none>");
  }
}

TEST_F(BlobsTest, DeleteUnlinksFromThisRepositoryOnly) {
  const std::string digest = PushBlob("a/b", content_);
  PushBlob("c", content_);
  http::Response r = Send(Req("DELETE", "/v2/a/b/blobs/" + digest));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest);
  EXPECT_EQ(Send(Req("GET", "/v2/a/b/blobs/" + digest)).status, 404);
  r = Send(Req("DELETE", "/v2/a/b/blobs/" + digest));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "BLOB_UNKNOWN");
  EXPECT_EQ(FileBody(Send(Req("GET", "/v2/c/blobs/" + digest))), content_);
}

TEST_F(BlobsTest, OtherMethodsAreUnsupported) {
  const std::string digest = PushBlob("a/b", content_);
  for (const char* method : {"PUT", "POST", "PATCH"}) {
    SCOPED_TRACE(method);
    http::Response r = Send(Req(method, "/v2/a/b/blobs/" + digest));
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(Code(r), "UNSUPPORTED");
  }
}

// The same handlers over a store that answers pipes and may redirect, as
// S3 would.
class StreamingBlobsTest : public BlobsTest {
 protected:
  void SetUp() override {
    BlobsTest::SetUp();
    registry_.reset();
    memory_blobs_ =
        std::make_unique<storage::MemoryBlobStore>(storage::MemoryBlobStore::Serve::kStream);
    memory_uploads_ = std::make_unique<storage::MemoryUploadStore>(*memory_blobs_);
    registry_ =
        std::make_unique<Registry>(*memory_blobs_, *memory_uploads_, *meta_, Options{}, nullptr);
  }
  void TearDown() override {
    BlobsTest::TearDown();
    memory_uploads_.reset();
    memory_blobs_.reset();
  }
  // The bytes a streamed response would send (the pipe to its end).
  static std::string StreamBody(const http::Response& r) {
    if (!r.file) return "<no file>";
    if (!r.file->stream) return "<not a stream>";
    auto got = test_util::ReadBlobFd(r.file->fd.get(), true, 0, r.file->length);
    return got ? *got : "<read failed>";
  }

  std::unique_ptr<storage::MemoryBlobStore> memory_blobs_;
  std::unique_ptr<storage::MemoryUploadStore> memory_uploads_;
};

TEST_F(StreamingBlobsTest, GetAndRangesComeFromThePipe) {
  const std::string digest = PushBlob("a/b", content_);
  http::Response whole = Send(Req("GET", "/v2/a/b/blobs/" + digest));
  EXPECT_EQ(whole.status, 200);
  ASSERT_TRUE(whole.file.has_value());
  EXPECT_EQ(whole.file->length, content_.size());
  EXPECT_EQ(StreamBody(whole), content_);
  struct Case {
    std::string range, body, content_range;
  };
  const Case cases[] = {{"bytes=2-5", "2345", "bytes 2-5/10"},
                        {"bytes=-3", "789", "bytes 7-9/10"},
                        {"bytes=9-", "9", "bytes 9-9/10"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.range);
    http::Response r = GetRange(digest, c.range);
    EXPECT_EQ(r.status, 206);
    ASSERT_TRUE(r.file.has_value());
    EXPECT_EQ(r.file->length, c.body.size());
    EXPECT_EQ(StreamBody(r), c.body);
    EXPECT_EQ(Header(r, "Content-Range"), c.content_range);
  }
  http::Response bad = GetRange(digest, "bytes=10-");
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(Header(bad, "Content-Range"), "bytes */10");
}

TEST_F(StreamingBlobsTest, RedirectsToTheStoreAfterTheAccessCheck) {
  const std::string digest = PushBlob("a/b", content_);
  memory_blobs_->SetRedirectBase("https://store.example/bucket");
  for (const std::string method : {"GET", "HEAD"}) {
    SCOPED_TRACE(method);
    http::Response r = Send(Req(method, "/v2/a/b/blobs/" + digest));
    EXPECT_EQ(r.status, 307);
    EXPECT_EQ(Header(r, "Location"),
              "https://store.example/bucket/" + digest + "?method=" + method);
    EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest);
    EXPECT_FALSE(r.file.has_value());
    // Not linked into this repository: no redirect, whatever the store says.
    r = Send(Req(method, "/v2/other/blobs/" + digest));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Header(r, "Location"), "<none>");
  }
}

TEST_F(StreamingBlobsTest, BlobReadsLeaveTheIoThreadWhenTheStoreIsOnTheNetwork) {
  const std::string digest = PushBlob("a/b", content_);
  for (const char* method : {"GET", "HEAD"}) {
    SCOPED_TRACE(method);
    EXPECT_TRUE(registry_->Quick(Req(method, "/v2/a/b/blobs/" + digest)));
  }
  Options options;
  options.blobs_on_network = true;
  Registry remote(*memory_blobs_, *memory_uploads_, *meta_, options, nullptr);
  for (const char* method : {"GET", "HEAD"}) {
    SCOPED_TRACE(method);
    EXPECT_FALSE(remote.Quick(Req(method, "/v2/a/b/blobs/" + digest)));
    EXPECT_TRUE(remote.Quick(Req(method, "/v2/a/b/manifests/latest")));
  }
  options.metadata_on_network = true;
  Registry shared(*memory_blobs_, *memory_uploads_, *meta_, options, nullptr);
  EXPECT_FALSE(shared.Quick(Req("GET", "/v2/a/b/manifests/latest")));
  EXPECT_FALSE(shared.Quick(Req("GET", "/v2/a/b/tags/list")));
  EXPECT_TRUE(shared.Quick(Req("GET", "/v2/")));
}

// The Runs column of the route table, line by line, with local stores.
TEST_F(StreamingBlobsTest, QuickFollowsTheRouteTable) {
  struct Case {
    const char* method;
    const char* path;
    bool quick;
  } cases[] = {
      {"GET", "/v2/", true},
      {"HEAD", "/v2/", true},
      {"GET", "/v2/_catalog", true},
      {"GET", "/v2/a/b/tags/list", true},
      {"GET", "/v2/a/b/manifests/latest", true},
      {"HEAD", "/v2/a/b/manifests/latest", true},
      {"GET", "/v2/a/b/referrers/sha256:abc", true},
      {"GET", "/v2/a/b/blobs/uploads/some-id", false},  // the upload store's lock
      {"GET", "/v2/_berth/usage", false},               // sums a namespace
      {"PUT", "/v2/a/b/manifests/latest", false},
      {"DELETE", "/v2/a/b/manifests/latest", false},
      {"DELETE", "/v2/a/b/blobs/sha256:x", false},
      {"POST", "/v2/a/b/blobs/uploads/", false},
      {"PATCH", "/v2/a/b/blobs/uploads/some-id", false},
      {"POST", "/v2/_berth/gc", false},
      {"GET", "/v2/_berth/gc", true},  // 405, answered from memory
      {"GET", "/nowhere", false},      // 404
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path);
    EXPECT_EQ(registry_->Quick(Req(c.method, c.path)), c.quick);
  }
  http::Request with_body = Req("GET", "/v2/");
  with_body.has_body = true;
  EXPECT_FALSE(registry_->Quick(with_body));
}

}  // namespace
}  // namespace berth::registry
