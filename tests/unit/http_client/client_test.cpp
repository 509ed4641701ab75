// Tests for http::Send (http_client/client.hpp) beyond what HttpPost's tests cover
// (tests/unit/auth/http_post_test.cpp): any method, request headers sent,
// answer headers returned, and the connect timeout apart from the total one.

#include "http_client/client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "../auth/fake_http_server.hpp"

namespace berth::http {
namespace {

using std::chrono::milliseconds;
using testutil::FakeHttpServer;
using testutil::FakeReply;
using testutil::FakeRequest;
using Clock = std::chrono::steady_clock;

TEST(HttpClient, SendsMethodAndHeadersAndReturnsAnswerHeaders) {
  FakeRequest seen;
  FakeHttpServer s([&](const FakeRequest& r) {
    seen = r;
    return FakeReply{202, "", 0, "Link: </v2/x?last=a>; rel=\"next\"\r\nX-Two: 1\r\nX-Two: 2\r\n"};
  });
  ClientRequest req;
  req.method = "DELETE";
  req.url = s.url() + "/v2/alice/app/manifests/v1";
  req.headers = {{"Authorization", "Bearer abc"}};
  ClientReply r = Send(req, ClientOptions{});
  ASSERT_TRUE(r.transport_ok) << r.error;
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(seen.method, "DELETE");
  EXPECT_EQ(seen.target, "/v2/alice/app/manifests/v1");
  EXPECT_NE(seen.head.find("\r\nAuthorization: Bearer abc"), std::string::npos) << seen.head;
  EXPECT_EQ(r.Header("link"), "</v2/x?last=a>; rel=\"next\"");  // any case
  EXPECT_EQ(r.Header("X-TWO"), "1");                            // the first
  EXPECT_EQ(r.Header("X-Missing"), std::nullopt);
  EXPECT_FALSE(r.tls_failed);
}

TEST(HttpClient, UnknownMethodIsRefused) {
  ClientRequest req;
  req.method = "FROB NICATE";
  req.url = "http://127.0.0.1:1/";
  ClientReply r = Send(req, ClientOptions{});
  EXPECT_FALSE(r.transport_ok);
  EXPECT_FALSE(r.error.empty());
}

TEST(HttpClient, ConnectTimeoutBoundsAStalledHandshake) {
  // Listening but never accepting: the kernel completes the TCP handshake,
  // the TLS one then gets no answer.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ClientRequest req;
  req.url = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/v2/";
  ClientOptions o;
  o.connect_timeout_ms = 200;
  o.timeout_ms = 5000;
  const auto start = Clock::now();
  ClientReply r = Send(req, o);
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  ::close(fd);
  EXPECT_FALSE(r.transport_ok);
  EXPECT_NE(r.error.find("timed out after 200 ms, TLS handshake"), std::string::npos) << r.error;
  EXPECT_TRUE(r.tls_failed);
  EXPECT_LT(took, milliseconds(200 + 400));
}

TEST(HttpClient, TotalTimeoutBoundsASlowAnswer) {
  FakeHttpServer s([](const FakeRequest&) { return FakeReply{200, "{}", 800}; });
  ClientRequest req;
  req.url = s.url() + "/";
  ClientOptions o;
  o.connect_timeout_ms = 5000;  // clamped to the total
  o.timeout_ms = 200;
  ClientReply r = Send(req, o);
  EXPECT_FALSE(r.transport_ok);
  EXPECT_NE(r.error.find("timed out after 200 ms, reading the answer"), std::string::npos)
      << r.error;
}

}  // namespace
}  // namespace berth::http
