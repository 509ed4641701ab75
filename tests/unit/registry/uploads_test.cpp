// Tests for registry/uploads.cpp without sockets: starting a session (POST),
// monolithic uploads (POST or PUT with ?digest=), chunks with Content-Range
// (in order, out of order: 416), the status and cancel of a session, and
// cross-repository mounts.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "crypto/hasher.hpp"
#include "open_registry.hpp"

namespace berth::registry {
namespace {

class UploadsTest : public OpenRegistryTest {
 protected:
  static std::string DigestOf(const std::string& content) {
    return crypto::HashBytes(DigestAlgorithm::kSha256, content).str();
  }
  // Starts a session in `repo`; returns its Location.
  std::string Start(const std::string& repo) {
    http::Response r = Send(Req("POST", "/v2/" + repo + "/blobs/uploads/"));
    EXPECT_EQ(r.status, 202) << r.body;
    return Header(r, "Location");
  }
  http::Response Patch(const std::string& location, const std::string& chunk,
                       const std::string& content_range = "") {
    http::Request req = WithBody(Req("PATCH", location), chunk, "application/octet-stream");
    if (!content_range.empty()) req.headers.emplace_back("Content-Range", content_range);
    return Send(req, chunk);
  }
  http::Response Put(const std::string& location, const std::string& digest,
                     const std::string& body = "") {
    http::Fields query;
    if (!digest.empty()) query.emplace_back("digest", digest);
    return Send(WithBody(Req("PUT", location, query), body, "application/octet-stream"), body);
  }
  std::string BlobStatus(const std::string& repo, const std::string& digest) {
    http::Response r = Send(Req("HEAD", "/v2/" + repo + "/blobs/" + digest));
    return std::to_string(r.status) + " " + std::to_string(r.head_length.value_or(0));
  }
};

TEST_F(UploadsTest, PostStartsAnEmptySession) {
  http::Response r = Send(Req("POST", "/v2/a/b/blobs/uploads/"));
  EXPECT_EQ(r.status, 202);
  const std::string location = Header(r, "Location");
  const std::string uuid = Header(r, "Docker-Upload-UUID");
  EXPECT_EQ(location, "/v2/a/b/blobs/uploads/" + uuid);
  EXPECT_FALSE(uuid.empty());
  EXPECT_EQ(Header(r, "Range"), "0-0");
  // Without the trailing slash too.
  EXPECT_EQ(Send(Req("POST", "/v2/a/b/blobs/uploads")).status, 202);
}

TEST_F(UploadsTest, MonolithicPost) {
  const std::string content = "monolithic";
  const std::string digest = DigestOf(content);
  http::Response r = Send(WithBody(Req("POST", "/v2/a/blobs/uploads/", {{"digest", digest}}),
                                   content, "application/octet-stream"),
                          content);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Header(r, "Location"), "/v2/a/blobs/" + digest);
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest);
  EXPECT_EQ(BlobStatus("a", digest), "200 10");
}

TEST_F(UploadsTest, MonolithicPutAfterPost) {
  const std::string content = "put in one go";
  const std::string digest = DigestOf(content);
  http::Response r = Put(Start("a/b"), digest, content);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Header(r, "Location"), "/v2/a/b/blobs/" + digest);
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest);
  EXPECT_EQ(BlobStatus("a/b", digest), "200 " + std::to_string(content.size()));
}

TEST_F(UploadsTest, WrongDigestIsRefusedAndNothingIsLinked) {
  const std::string content = "these bytes";
  const std::string wrong = DigestOf("other bytes");
  http::Response r = Put(Start("a"), wrong, content);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
  EXPECT_EQ(BlobStatus("a", wrong), "404 0");
  EXPECT_EQ(BlobStatus("a", DigestOf(content)), "404 0");

  r = Send(WithBody(Req("POST", "/v2/a/blobs/uploads/", {{"digest", wrong}}), content,
                    "application/octet-stream"),
           content);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
}

TEST_F(UploadsTest, PutWithoutOrWithAMalformedDigest) {
  const std::string location = Start("a");
  http::Response r = Put(location, "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
  r = Put(location, "sha256:nothex");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
  r = Send(Req("POST", "/v2/a/blobs/uploads/", {{"digest", "sha256:short"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
  // The session survived the refusals.
  EXPECT_EQ(Send(Req("GET", location)).status, 204);
}

TEST_F(UploadsTest, ChunksInOrderThenPutWithoutBody) {
  const std::string location = Start("a/b");
  http::Response r = Patch(location, "hello", "0-4");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Header(r, "Location"), location);
  EXPECT_EQ(Header(r, "Range"), "0-4");
  r = Patch(location, " world", "bytes 5-10/11");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Header(r, "Range"), "0-10");
  // A chunk without Content-Range is appended (streamed PATCH).
  r = Patch(location, "!");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Header(r, "Range"), "0-11");

  const std::string digest = DigestOf("hello world!");
  r = Put(location, digest);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest);
  EXPECT_EQ(BlobStatus("a/b", digest), "200 12");
  // The session is gone once completed.
  r = Send(Req("GET", location));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "BLOB_UPLOAD_UNKNOWN");
}

TEST_F(UploadsTest, LastChunkWithThePut) {
  const std::string location = Start("a");
  ASSERT_EQ(Patch(location, "abc", "0-2").status, 202);
  http::Request req = WithBody(Req("PUT", location, {{"digest", DigestOf("abcdef")}}), "def",
                               "application/octet-stream");
  req.headers.emplace_back("Content-Range", "3-5");
  http::Response r = Send(req, "def");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(BlobStatus("a", DigestOf("abcdef")), "200 6");
}

TEST_F(UploadsTest, OutOfOrderChunkIs416WithWhereToResume) {
  const std::string location = Start("a");
  const std::string uuid = location.substr(location.rfind('/') + 1);
  for (const std::string range : {"5-9", "1-5", "bytes=4-8"}) {
    SCOPED_TRACE(range);
    http::Response r = Patch(location, "01234", range);
    EXPECT_EQ(r.status, 416);
    EXPECT_EQ(Code(r), "BLOB_UPLOAD_INVALID");
    EXPECT_EQ(Header(r, "Location"), location);
    EXPECT_EQ(Header(r, "Range"), "0-0");
    EXPECT_EQ(Header(r, "Docker-Upload-UUID"), uuid);
  }
  ASSERT_EQ(Patch(location, "01234", "0-4").status, 202);
  // The same chunk again, a gap, a length that disagrees, nonsense.
  for (const std::string range : {"0-4", "6-10", "5-6", "x-y", "9-5"}) {
    SCOPED_TRACE(range);
    http::Response r = Patch(location, "56789", range);
    EXPECT_EQ(r.status, 416);
    EXPECT_EQ(Header(r, "Range"), "0-4");
  }
  // None of the refused chunks was written.
  http::Response r = Patch(location, "56789", "5-9");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Header(r, "Range"), "0-9");
}

// The session hands a PATCH body to the sink in pieces, and tells it when
// the body broke off (client gone, too slow): the pieces already written are
// rolled back, so the client resumes from the last acknowledged byte.
TEST_F(UploadsTest, BodyThatBreaksOffIsRolledBack) {
  const std::string location = Start("a");
  ASSERT_EQ(Patch(location, "abc", "0-2").status, 202);
  {
    http::Request req = WithBody(Req("PATCH", location), "defghi", "application/octet-stream");
    req.headers.emplace_back("Content-Range", "3-8");
    http::Outcome out = registry_->Handle(req);
    ASSERT_TRUE(out.sink) << out.response.body;
    ASSERT_TRUE(out.sink->Write({"def", 3}).ok());
    ASSERT_TRUE(out.sink->Write({"g", 1}).ok());
    http::Response r =
        out.sink->Finish(Status(Errc::kBlobUploadInvalid, "client went away mid-body"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(Code(r), "BLOB_UPLOAD_INVALID");
  }
  http::Response r = Send(Req("GET", location));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Header(r, "Range"), "0-2");
  // Resuming where the server says works; the broken bytes are not in the blob.
  r = Patch(location, "DEF", "3-5");
  EXPECT_EQ(r.status, 202) << r.body;
  r = Put(location, DigestOf("abcDEF"));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(BlobStatus("a", DigestOf("abcDEF")), "200 6");
}

// A streamed PATCH (no Content-Range) in many pieces, and a monolithic PUT
// whose body breaks off: nothing is published.
TEST_F(UploadsTest, PiecesAddUpAndABrokenPutPublishesNothing) {
  const std::string location = Start("a");
  const std::string content(10000, 'q');
  {
    http::Outcome out =
        registry_->Handle(WithBody(Req("PATCH", location), content, "application/octet-stream"));
    ASSERT_TRUE(out.sink);
    for (size_t i = 0; i < content.size(); i += 999) {
      const size_t n = std::min<size_t>(999, content.size() - i);
      ASSERT_TRUE(out.sink->Write({content.data() + i, n}).ok());
    }
    http::Response r = out.sink->Finish(Status::Ok());
    EXPECT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(Header(r, "Range"), "0-9999");
  }
  const std::string digest = DigestOf(content + "tail");
  {
    http::Outcome out = registry_->Handle(
        WithBody(Req("PUT", location, {{"digest", digest}}), "tail", "application/octet-stream"));
    ASSERT_TRUE(out.sink);
    ASSERT_TRUE(out.sink->Write({"ta", 2}).ok());
    http::Response r =
        out.sink->Finish(Status(Errc::kBlobUploadInvalid, "client went away mid-body"));
    EXPECT_EQ(r.status, 400);
  }
  EXPECT_EQ(BlobStatus("a", digest), "404 0");
  EXPECT_EQ(Header(Send(Req("GET", location)), "Range"), "0-9999");
  http::Response r = Put(location, digest, "tail");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(BlobStatus("a", digest), "200 10004");
}

TEST_F(UploadsTest, StatusReportsTheSession) {
  const std::string location = Start("a");
  ASSERT_EQ(Patch(location, "abc").status, 202);
  http::Response r = Send(Req("GET", location));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Header(r, "Location"), location);
  EXPECT_EQ(Header(r, "Range"), "0-2");
  EXPECT_EQ(Header(r, "Docker-Upload-UUID"), location.substr(location.rfind('/') + 1));
}

TEST_F(UploadsTest, SessionBelongsToItsRepository) {
  const std::string location = Start("a");
  const std::string uuid = location.substr(location.rfind('/') + 1);
  for (const char* method : {"GET", "DELETE"}) {
    SCOPED_TRACE(method);
    http::Response r = Send(Req(method, "/v2/other/blobs/uploads/" + uuid));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Code(r), "BLOB_UPLOAD_UNKNOWN");
  }
  EXPECT_EQ(Send(Req("GET", location)).status, 204);
}

TEST_F(UploadsTest, UnknownSessionIsBlobUploadUnknown) {
  const std::string location = "/v2/a/blobs/uploads/00000000-0000-0000-0000-000000000000";
  for (const char* method : {"GET", "PATCH", "PUT", "DELETE"}) {
    SCOPED_TRACE(method);
    http::Response r = Send(Req(method, location, {{"digest", DigestOf("")}}));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Code(r), "BLOB_UPLOAD_UNKNOWN");
  }
}

TEST_F(UploadsTest, CancelEndsTheSession) {
  const std::string location = Start("a");
  ASSERT_EQ(Patch(location, "abc").status, 202);
  EXPECT_EQ(Send(Req("DELETE", location)).status, 204);
  http::Response r = Send(Req("GET", location));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "BLOB_UPLOAD_UNKNOWN");
  r = Send(Req("DELETE", location));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "BLOB_UPLOAD_UNKNOWN");
}

TEST_F(UploadsTest, MountFromARepositoryThatHasTheBlob) {
  const std::string digest = PushBlob("src", "shared layer");
  http::Response r =
      Send(Req("POST", "/v2/dst/blobs/uploads/", {{"mount", digest}, {"from", "src"}}));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Header(r, "Location"), "/v2/dst/blobs/" + digest);
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest);
  EXPECT_EQ(BlobStatus("dst", digest), "200 12");
}

TEST_F(UploadsTest, MountThatCannotHappenStartsAnUpload) {
  const std::string digest = PushBlob("src", "shared layer");
  const http::Fields cases[] = {
      {{"mount", digest}, {"from", "empty"}},     // the source lacks it
      {{"mount", digest}, {"from", "Bad Name"}},  // invalid source
      {{"mount", digest}},                        // no source
  };
  for (const auto& query : cases) {
    http::Response r = Send(Req("POST", "/v2/dst/blobs/uploads/", query));
    EXPECT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(Header(r, "Location").rfind("/v2/dst/blobs/uploads/", 0), 0u);
  }
  EXPECT_EQ(BlobStatus("dst", digest), "404 0");
  http::Response r =
      Send(Req("POST", "/v2/dst/blobs/uploads/", {{"mount", "sha256:bad"}, {"from", "src"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
}

}  // namespace
}  // namespace berth::registry
