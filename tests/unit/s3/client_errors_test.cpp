// Tests for how s3::Client maps S3's answers to Errc, against a canned local
// HTTP server (no S3 needed): NoSuchKey, NoSuchUpload, quota and capacity
// errors, 5xx, an <Error> inside a 200, and that the request it sends is
// signed and path-style.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "s3/client.hpp"

namespace berth::s3 {
namespace {

// Answers every request on 127.0.0.1 with `response` and closes; keeps the
// last request head it read.
class CannedServer {
 public:
  // With `drop_second`, each connection gets `response` for its first
  // request and is then closed, unanswered, after its second one: a
  // keep-alive connection the server dropped just as the client reused it.
  explicit CannedServer(std::string response, bool drop_second = false)
      : response_(std::move(response)), drop_second_(drop_second) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string last_head() {
    std::lock_guard lock(mu_);
    return head_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      for (int request = 0; ReadRequest(c, in); ++request) {
        if (drop_second_ && request == 1) break;
        ::send(c, response_.data(), response_.size(), MSG_NOSIGNAL);
        if (!drop_second_) break;
      }
      ::shutdown(c, SHUT_WR);
      ::close(c);
    }
  }

  // Reads one request (head and Content-Length body) from `c`; `in` keeps
  // what arrived beyond it.
  bool ReadRequest(int c, std::string& in) {
    char buf[65536];
    size_t body_start = std::string::npos;
    size_t want = 0;
    while (true) {
      if (body_start == std::string::npos) {
        size_t end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
          body_start = end + 4;
          size_t cl = in.find("Content-Length: ");
          if (cl != std::string::npos && cl < end) want = std::stoul(in.substr(cl + 16));
          std::lock_guard lock(mu_);
          head_ = in.substr(0, end);
        }
      }
      if (body_start != std::string::npos && in.size() - body_start >= want) {
        in.erase(0, body_start + want);
        return true;
      }
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
    }
  }

  std::string response_;
  bool drop_second_ = false;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string head_;
};

std::string Answer(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

std::string ErrorBody(const std::string& code) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code +
         "</Code><Message>m</Message></Error>";
}

ClientOptions Options(int port) {
  ClientOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/";
  o.bucket = "bkt";
  o.access_key = "AKID";
  o.secret_key = Secret("the-secret-key");
  o.request_timeout_ms = 5000;
  return o;
}

TEST(S3ClientErrors, MapsS3ErrorCodes) {
  struct Case {
    int status;
    const char* code;
    Errc want;
  } cases[] = {
      {404, "NoSuchKey", Errc::kBlobUnknown},
      {404, "NoSuchUpload", Errc::kBlobUploadUnknown},
      {403, "QuotaExceeded", Errc::kNoSpace},
      {400, "EntityTooLarge", Errc::kNoSpace},
      {507, "InsufficientCapacity", Errc::kNoSpace},
      {503, "SlowDown", Errc::kUnavailable},
      {500, "InternalError", Errc::kUnavailable},
      {502, "", Errc::kUnavailable},
      {403, "AccessDenied", Errc::kInternal},
      {403, "SignatureDoesNotMatch", Errc::kInternal},
      {416, "InvalidRange", Errc::kInternal},
  };
  for (const auto& c : cases) {
    CannedServer server(Answer(c.status, *c.code ? ErrorBody(c.code) : ""));
    Client client(Options(server.port()));
    Status s = client.Put("a/b", std::span<const char>("xy", 2));
    EXPECT_EQ(s.code(), c.want) << c.status << " " << c.code << ": " << s.message();
    if (*c.code) {
      EXPECT_NE(s.message().find(c.code), std::string::npos) << s.message();
    }
    EXPECT_NE(s.message().find("PutObject bkt/a/b"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("the-secret-key"), std::string::npos);
  }
}

TEST(S3ClientErrors, HeadWithoutBody) {
  CannedServer missing("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(Client(Options(missing.port())).Head("k").status().code(), Errc::kBlobUnknown);
  CannedServer found("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: \"abc\"\r\n\r\n");
  auto info = Client(Options(found.port())).Head("k");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->size, 1234u);
  EXPECT_EQ(info->etag, "\"abc\"");
}

TEST(S3ClientErrors, ErrorInsideA200) {
  CannedServer server(Answer(200, "\n  \n" + ErrorBody("InternalError")));
  Client client(Options(server.port()));
  Status copy = client.Copy("a", "b");
  EXPECT_EQ(copy.code(), Errc::kUnavailable) << copy.message();
  Status done = client.CompleteMultipart("k", "id", {{1, "\"e\""}});
  EXPECT_EQ(done.code(), Errc::kUnavailable) << done.message();
  EXPECT_NE(done.message().find("InternalError"), std::string::npos);
}

TEST(S3ClientErrors, PermanentErrorInsideA200) {
  CannedServer server(Answer(200, ErrorBody("InvalidPart")));
  Status done = Client(Options(server.port())).CompleteMultipart("k", "id", {{1, "\"e\""}});
  EXPECT_EQ(done.code(), Errc::kInternal) << done.message();
  EXPECT_NE(done.message().find("InvalidPart"), std::string::npos) << done.message();
}

TEST(S3ClientErrors, MalformedOkAnswer) {
  CannedServer server(Answer(200, "<ListBucketResult><Contents>"));
  Client client(Options(server.port()));
  EXPECT_EQ(client.List("", "", 10).status().code(), Errc::kInternal);
  EXPECT_EQ(client.CreateMultipart("k").status().code(), Errc::kInternal);
}

TEST(S3ClientErrors, DeleteOfMissingKeyIsOk) {
  CannedServer server(Answer(404, ErrorBody("NoSuchKey")));
  EXPECT_TRUE(Client(Options(server.port())).Delete("k").ok());
}

TEST(S3ClientErrors, RangeIgnoredByServerIsRefused) {
  CannedServer server(Answer(200, "0123456789"));
  Client client(Options(server.port()));
  std::string got;
  Status s = client.Get("k", 2, 3, [&](std::span<const char> b) {
    got.append(b.data(), b.size());
    return true;
  });
  EXPECT_EQ(s.code(), Errc::kInternal) << s.message();
  EXPECT_EQ(got, "");  // nothing of the wrong bytes reached the sink
}

TEST(S3ClientErrors, SendsASignedPathStyleRequest) {
  CannedServer server(Answer(200, ""));
  Client client(Options(server.port()));
  ASSERT_TRUE(client.Put("dir/a b+c", std::span<const char>("xy", 2)).ok());
  std::string head = server.last_head();
  EXPECT_EQ(head.rfind("PUT /bkt/dir/a%20b%2Bc HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Host: 127.0.0.1:" + std::to_string(server.port())), std::string::npos);
  EXPECT_NE(head.find("authorization: AWS4-HMAC-SHA256 Credential=AKID/"), std::string::npos);
  // A small body is signed with its hash.
  EXPECT_NE(head.find("x-amz-content-sha256: "
                      "769a4e6d0003189c7e96c5d9b7e810a0d11c3a12832527ec94b0f86d277f51ca"),
            std::string::npos)
      << head;
  EXPECT_EQ(head.find("Expect:"), std::string::npos);
  EXPECT_EQ(head.find("the-secret-key"), std::string::npos);
}

// The one retry the client makes (or curl makes for it): a reused
// connection the server had dropped. Bodies, from memory or a file, are
// sent again from their start.
TEST(S3ClientErrors, ReusedConnectionDroppedByTheServer) {
  CannedServer server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: \"e\"\r\n\r\n",
                      /*drop_second=*/true);
  Client client(Options(server.port()));
  for (int i = 0; i < 4; ++i) {
    Status s = client.Put("k", std::span<const char>("hello", 5));
    EXPECT_TRUE(s.ok()) << i << ": " << s.message();
    auto info = client.Head("k");
    EXPECT_TRUE(info.ok()) << i << ": " << info.status().message();
  }
  char path[] = "/tmp/berth-s3-drop-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  ASSERT_EQ(::write(fd, "0123456789", 10), 10);
  for (int i = 0; i < 4; ++i) {
    Status s = client.PutFile("k", fd, 2, 8);
    EXPECT_TRUE(s.ok()) << i << ": " << s.message();
    EXPECT_NE(server.last_head().find("Content-Length: 8"), std::string::npos);
  }
  ::close(fd);
}

}  // namespace
}  // namespace berth::s3
