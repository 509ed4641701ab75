// Tests for auth::HttpPost (auth/keystone/http_post.hpp) against servers on
// 127.0.0.1: what is sent, statuses passed through, redirects not followed,
// and each transport failure (silence, oversized answer, refused connection,
// bad URL) reported within the timeout; over TLS, a self-signed certificate
// refused unless its own file is the CA bundle.

#include "auth/keystone/http_post.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "crypto/self_signed.hpp"
#include "fake_http_server.hpp"
#include "test_keys.hpp"

namespace berth::auth {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using std::chrono::milliseconds;
using testutil::FakeHttpServer;
using testutil::FakeReply;
using testutil::FakeRequest;
using Clock = std::chrono::steady_clock;

constexpr const char* kJson = R"({"auth":{"identity":{"methods":["password"]}}})";

milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

PostOptions Timeout(int64_t ms) {
  PostOptions o;
  o.timeout_ms = ms;
  return o;
}

// A loopback port whose connections the kernel completes but nobody ever
// reads or answers: a hung server.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 8) != 0) {
      std::abort();
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// An HTTPS server on a loopback address with the given certificate, one
// connection at a time, answering every request 200 {"tls":true}. A client
// that refuses the certificate just ends its connection.
class FakeTlsServer {
 public:
  FakeTlsServer(const std::string& cert_file, const std::string& key_file,
                const char* address = "127.0.0.1")
      : tls_(asio::ssl::context::tls_server),
        acceptor_(ioc_, {asio::ip::make_address(address), 0}) {
    tls_.use_certificate_chain_file(cert_file);
    tls_.use_private_key_file(key_file, asio::ssl::context::pem);
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeTlsServer() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_; }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{acceptor_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      boost::system::error_code ec;
      asio::ssl::stream<asio::ip::tcp::socket> s(acceptor_.accept(ec), tls_);
      if (ec) continue;
      s.handshake(asio::ssl::stream_base::server, ec);
      if (ec) continue;
      boost::beast::flat_buffer buffer;
      bhttp::request<bhttp::string_body> req;
      bhttp::read(s, buffer, req, ec);
      if (ec) continue;
      ++requests_;  // before answering: the client may check it as soon as it has the answer
      bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
      res.set(bhttp::field::content_type, "application/json");
      res.body() = R"({"tls":true})";
      res.prepare_payload();
      bhttp::write(s, res, ec);
    }
  }

  asio::io_context ioc_;
  asio::ssl::context tls_;
  asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

TEST(HttpPost, SendsJsonPostAndReturnsStatusAndBody) {
  FakeRequest seen;
  FakeHttpServer s([&](const FakeRequest& r) {
    seen = r;
    return FakeReply{201, R"({"token":{}})"};
  });
  const auto start = Clock::now();
  PostReply r = HttpPost(s.url() + "/v3/auth/tokens?nocatalog", kJson, Timeout(2000));
  EXPECT_LT(Since(start), milliseconds(1000));  // not held until the deadline
  ASSERT_TRUE(r.transport_ok) << r.error;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"token":{}})");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/v3/auth/tokens?nocatalog");
  EXPECT_EQ(seen.body, kJson);
  for (std::string h : {"Host: 127.0.0.1:" + std::to_string(s.port()),
                        std::string("Content-Type: application/json"),
                        std::string("Accept: application/json"), std::string("User-Agent: berth"),
                        "Content-Length: " + std::to_string(std::string(kJson).size())}) {
    EXPECT_NE((seen.head + "\r\n").find("\r\n" + h + "\r\n"), std::string::npos) << h << " in\n"
                                                                                 << seen.head;
  }
}

TEST(HttpPost, EmptyPathIsSlash) {
  FakeRequest seen;
  FakeHttpServer s([&](const FakeRequest& r) {
    seen = r;
    return FakeReply{200, "{}"};
  });
  EXPECT_TRUE(HttpPost(s.url(), kJson, Timeout(2000)).transport_ok);
  EXPECT_EQ(seen.target, "/");
}

TEST(HttpPost, ErrorStatusesPassThrough) {
  FakeHttpServer s([](const FakeRequest&) { return FakeReply{401, R"({"error":{}})"}; });
  PostReply r = HttpPost(s.url() + "/v3", kJson, Timeout(2000));
  ASSERT_TRUE(r.transport_ok) << r.error;
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"error":{}})");
}

TEST(HttpPost, RedirectIsNotFollowed) {
  FakeHttpServer s([](const FakeRequest&) {
    FakeReply reply{302, "{}"};
    reply.headers = "Location: /elsewhere\r\n";
    return reply;
  });
  PostReply r = HttpPost(s.url() + "/v3", kJson, Timeout(2000));
  ASSERT_TRUE(r.transport_ok) << r.error;
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(s.requests(), 1);
}

TEST(HttpPost, SilentServerTimesOutWithinTimeout) {
  SilentListener silent;
  const auto start = Clock::now();
  PostReply r =
      HttpPost("http://127.0.0.1:" + std::to_string(silent.port()) + "/v3", kJson, Timeout(300));
  const milliseconds took = Since(start);
  EXPECT_FALSE(r.transport_ok);
  EXPECT_NE(r.error.find("timed out after 300 ms"), std::string::npos) << r.error;
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(300 + 400)) << r.error;
}

TEST(HttpPost, SlowAnswerTimesOut) {
  FakeHttpServer s([](const FakeRequest&) { return FakeReply{200, "{}", 800}; });
  const auto start = Clock::now();
  PostReply r = HttpPost(s.url(), kJson, Timeout(200));
  EXPECT_FALSE(r.transport_ok);
  EXPECT_NE(r.error.find("timed out after 200 ms, reading the answer"), std::string::npos)
      << r.error;
  EXPECT_LT(Since(start), milliseconds(200 + 400));
}

TEST(HttpPost, AnswerLargerThanLimitFails) {
  FakeHttpServer s([](const FakeRequest& r) {
    return FakeReply{200, std::string(r.target == "/big" ? 1025 : 1024, 'a')};
  });
  PostOptions o = Timeout(2000);
  o.max_response_bytes = 1024;
  PostReply fits = HttpPost(s.url() + "/fits", kJson, o);
  ASSERT_TRUE(fits.transport_ok) << fits.error;
  EXPECT_EQ(fits.body.size(), 1024u);
  PostReply big = HttpPost(s.url() + "/big", kJson, o);
  EXPECT_FALSE(big.transport_ok);
  EXPECT_EQ(big.error, "answer larger than 1024 bytes");
  EXPECT_EQ(big.body, "");
}

TEST(HttpPost, RefusedConnectionFails) {
  PostReply r = HttpPost("http://127.0.0.1:" + std::to_string(FakeHttpServer::ClosedPort()), kJson,
                         Timeout(2000));
  EXPECT_FALSE(r.transport_ok);
  EXPECT_NE(r.error.find("connecting: Connection refused"), std::string::npos) << r.error;
}

TEST(HttpPost, UnsupportedSchemeOrBadUrlFails) {
  PostReply r = HttpPost("ftp://127.0.0.1/v3", kJson, Timeout(2000));
  EXPECT_FALSE(r.transport_ok);
  EXPECT_NE(r.error.find("unsupported scheme \"ftp\""), std::string::npos) << r.error;
  for (const char* url : {"", "127.0.0.1:5000/v3", "http:///v3", "http://user:pw@127.0.0.1/"}) {
    PostReply bad = HttpPost(url, kJson, Timeout(2000));
    EXPECT_FALSE(bad.transport_ok) << url;
    EXPECT_FALSE(bad.error.empty()) << url;
  }
}

TEST(HttpPost, UnknownHostFails) {
  PostReply r = HttpPost("http://berth-no-such-host.invalid/v3", kJson, Timeout(2000));
  EXPECT_FALSE(r.transport_ok);
  EXPECT_NE(r.error.find("berth-no-such-host.invalid"), std::string::npos) << r.error;
}

TEST(HttpPost, ManyThreadsAtOnce) {
  FakeHttpServer s([](const FakeRequest& r) { return FakeReply{200, r.body}; });
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      const std::string body = R"({"n":)" + std::to_string(i) + "}";
      PostReply r = HttpPost(s.url(), body, Timeout(5000));
      if (r.transport_ok && r.status == 200 && r.body == body) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(s.requests(), 8);
}

class HttpPostTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    cert_ = dir_.path() + "/cert.pem";
    key_ = dir_.path() + "/key.pem";
    // SANs localhost, 127.0.0.1 and ::1, as berth makes for itself.
    crypto::WriteSelfSignedCertificate(cert_, key_, {});
  }
  testkeys::TempDir dir_;
  std::string cert_, key_;
};

TEST_F(HttpPostTls, SelfSignedIsRefusedWithTheSystemStore) {
  FakeTlsServer s(cert_, key_);
  PostReply r = HttpPost("https://127.0.0.1:" + std::to_string(s.port()), kJson, Timeout(2000));
  EXPECT_FALSE(r.transport_ok);
  EXPECT_NE(r.error.find("TLS handshake"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("self-signed certificate"), std::string::npos) << r.error;
  EXPECT_EQ(s.requests(), 0);
}

TEST_F(HttpPostTls, SelfSignedIsTrustedAsItsOwnCa) {
  FakeTlsServer s(cert_, key_);
  PostOptions o = Timeout(2000);
  o.ca_file = cert_;
  // By address (checked against the IP SANs) and by name (SNI, DNS SANs).
  for (std::string host : {"127.0.0.1", "localhost"}) {
    PostReply r = HttpPost("https://" + host + ":" + std::to_string(s.port()) + "/v3", kJson, o);
    ASSERT_TRUE(r.transport_ok) << host << ": " << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"tls":true})");
  }
  EXPECT_EQ(s.requests(), 2);
}

TEST_F(HttpPostTls, AddressNotInTheCertificateIsRefused) {
  FakeTlsServer s(cert_, key_, "127.0.0.2");  // Linux routes all of 127/8 to lo
  PostOptions o = Timeout(2000);
  o.ca_file = cert_;
  PostReply r = HttpPost("https://127.0.0.2:" + std::to_string(s.port()), kJson, o);
  EXPECT_FALSE(r.transport_ok);
  EXPECT_NE(r.error.find("TLS handshake"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("IP address mismatch"), std::string::npos) << r.error;
  EXPECT_EQ(s.requests(), 0);
}

TEST_F(HttpPostTls, VerifyOffAcceptsAnyCertificate) {
  FakeTlsServer s(cert_, key_);
  PostOptions o = Timeout(2000);
  o.verify_tls = false;
  o.ca_file = dir_.path() + "/missing.pem";  // not even read
  PostReply r = HttpPost("https://127.0.0.1:" + std::to_string(s.port()), kJson, o);
  ASSERT_TRUE(r.transport_ok) << r.error;
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpPostTls, MissingCaFileFails) {
  PostOptions o = Timeout(2000);
  o.ca_file = dir_.path() + "/missing.pem";
  PostReply r = HttpPost("https://127.0.0.1:1/", kJson, o);
  EXPECT_FALSE(r.transport_ok);
  EXPECT_NE(r.error.find("missing.pem"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace berth::auth
