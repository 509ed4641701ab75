// The registry behind the real Session, over the in-memory connection
// (http::ServeBytes): what the handler tests cannot see because they call
// Handle and the sink directly. A chunked upload split across reads every
// way, HEAD and GET of the blob it made, error answers that keep the
// connection, refusals made before the body is read (drained or closed),
// and a manifest body larger than allowed.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <string>

#include "crypto/hasher.hpp"
#include "http/session.hpp"
#include "open_registry.hpp"

namespace berth::registry {
namespace {

class RegistrySessionTest : public OpenRegistryTest {
 protected:
  // Serves `input` as one connection to `handler` (the registry by default),
  // read `piece` bytes at a time; returns what was answered.
  std::string Serve(const std::string& input, size_t piece = 4096,
                    http::Handler* handler = nullptr) {
    boost::asio::io_context ioc;
    boost::asio::thread_pool pool(1);
    http::Handler& serving = handler ? *handler : static_cast<http::Handler&>(*registry_);
    http::SessionContext ctx{serving, http::Limits{}, pool, "test", http::Admission({})};
    auto done =
        boost::asio::co_spawn(ioc, http::ServeBytes(input, piece, ctx), boost::asio::use_future);
    ioc.run();
    pool.join();
    return done.get();
  }
  // Starts an upload in `repo` on a connection of its own; returns its Location.
  std::string StartUpload(const std::string& repo) {
    std::string out = Serve("POST /v2/" + repo +
                            "/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(out.rfind("HTTP/1.1 202", 0), 0u) << out;
    const size_t at = out.find("Location: ");
    if (at == std::string::npos) return "";
    return out.substr(at + 10, out.find("\r\n", at) - at - 10);
  }
  static size_t Count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + 1)) ++n;
    return n;
  }
};

TEST_F(RegistrySessionTest, ChunkedUploadThenHeadAndGetOnOneConnection) {
  const std::string digest = crypto::HashBytes(DigestAlgorithm::kSha256, "hello world").str();
  for (size_t piece : {1, 7, 4096}) {
    SCOPED_TRACE("piece " + std::to_string(piece));
    const std::string repo = "p" + std::to_string(piece);
    const std::string location = StartUpload(repo);
    ASSERT_FALSE(location.empty());
    std::string out = Serve("PATCH " + location +
                                " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                                "PUT " +
                                location + "?digest=" + digest +
                                " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                                "HEAD /v2/" +
                                repo + "/blobs/" + digest +
                                " HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /v2/" +
                                repo + "/blobs/" + digest + " HTTP/1.1\r\nHost: x\r\n\r\n",
                            piece);
    ASSERT_EQ(out.rfind("HTTP/1.1 202", 0), 0u) << out;
    EXPECT_NE(out.find("Range: 0-10\r\n"), std::string::npos) << out;
    const size_t put = out.find("HTTP/1.1 201");
    ASSERT_NE(put, std::string::npos) << out;
    EXPECT_NE(out.find("Docker-Content-Digest: " + digest, put), std::string::npos);
    // HEAD announces the blob's length and sends nothing of it; the GET that
    // follows sends exactly it, and nothing else ends the output.
    const size_t head = out.find("HTTP/1.1 200", put);
    ASSERT_NE(head, std::string::npos) << out;
    const size_t head_end = out.find("\r\n\r\n", head) + 4;
    EXPECT_NE(out.substr(head, head_end - head).find("Content-Length: 11\r\n"), std::string::npos)
        << out;
    EXPECT_EQ(out.compare(head_end, 12, "HTTP/1.1 200"), 0) << out;
    EXPECT_EQ(out.substr(out.size() - 15), "\r\n\r\nhello world") << out;
    EXPECT_EQ(Count(out, "HTTP/1.1 "), 4u);
  }
}

// An error is an answer like any other: the connection goes on.
TEST_F(RegistrySessionTest, ErrorAnswersKeepTheConnection) {
  std::string out = Serve(
      "GET /v2/a/manifests/nope HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v2/a/blobs/sha256:zz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 404", 0), 0u) << out;
  EXPECT_NE(out.find("\"code\":\"MANIFEST_UNKNOWN\""), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos) << out;
  EXPECT_NE(out.find("\"code\":\"DIGEST_INVALID\""), std::string::npos) << out;
  EXPECT_EQ(Count(out, "HTTP/1.1 "), 3u) << out;
  EXPECT_EQ(out.find("Connection: close"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Type: application/json"), std::string::npos) << out;
}

// A chunk refused before its body was read (416): the small body is read
// and dropped, the connection kept, and the right chunk is taken after it.
TEST_F(RegistrySessionTest, RefusedChunkIsDrainedAndTheConnectionKept) {
  const std::string location = StartUpload("a");
  ASSERT_FALSE(location.empty());
  std::string out =
      Serve("PATCH " + location +
                " HTTP/1.1\r\nHost: x\r\nContent-Range: 5-9\r\nContent-Length: 5\r\n\r\nWRONG"
                "PATCH " +
                location +
                " HTTP/1.1\r\nHost: x\r\nContent-Range: 0-4\r\nContent-Length: 5\r\n\r\nright"
                "GET " +
                location + " HTTP/1.1\r\nHost: x\r\n\r\n",
            3);
  EXPECT_EQ(out.rfind("HTTP/1.1 416", 0), 0u) << out;
  EXPECT_NE(out.find("\"code\":\"BLOB_UPLOAD_INVALID\""), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 202"), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 204"), std::string::npos) << out;
  EXPECT_EQ(Count(out, "Range: 0-4\r\n"), 2u) << out;  // after the PATCH, and the status
  EXPECT_EQ(out.find("WRONG"), std::string::npos);
}

// A manifest body larger than allowed is refused on its declared length,
// before it is read; too large to drain, it ends the connection.
TEST_F(RegistrySessionTest, ManifestLargerThanAllowedIs413AndCloses) {
  Options options;
  options.max_manifest_bytes = 1024;
  Registry small(*blobs_, *uploads_, *meta_, options, nullptr);
  const std::string body(100 * 1024, ' ');
  std::string out = Serve(
      "PUT /v2/a/manifests/v1 HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
      "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body + "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n",
      4096, &small);
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out.substr(0, 300);
  EXPECT_NE(out.find("\"code\":\"SIZE_INVALID\""), std::string::npos) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u) << out;
  // Chunked, the length shows only while reading: refused all the same.
  std::string chunked =
      "PUT /v2/a/manifests/v1 HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) chunked += "200\r\n" + std::string(512, ' ') + "\r\n";
  out = Serve(chunked + "0\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", 4096, &small);
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out.substr(0, 300);
  EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u) << out;
  EXPECT_EQ(Send(Req("GET", "/v2/a/manifests/v1")).status, 404);
}

}  // namespace
}  // namespace berth::registry
