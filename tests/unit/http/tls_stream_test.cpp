// Tests for TlsStream (http/tls_stream.hpp): the server side runs on its own
// I/O thread; a real OpenSSL client (asio::ssl::stream, blocking) talks to it
// over loopback.

#include "http/tls_stream.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <stdlib.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>

#include "crypto/self_signed.hpp"

namespace berth::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using Error = boost::system::error_code;
using Client = asio::ssl::stream<tcp::socket>;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string RandomBytes(size_t n) {
  std::mt19937_64 gen(42);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

class TlsStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = (fs::temp_directory_path() / "berth-tls-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    crypto::WriteSelfSignedCertificate(dir_ + "/tls.crt", dir_ + "/tls.key", {});
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void SetUp() override {
    server_tls_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    server_tls_->use_certificate_chain_file(dir_ + "/tls.crt");
    server_tls_->use_private_key_file(dir_ + "/tls.key", asio::ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    thread_ = std::thread([this] { server_ioc_.run(); });
  }

  void TearDown() override {
    work_.reset();
    thread_.join();
  }

  // Accepts one connection on the server thread and runs `body` on a
  // TlsStream over it. The future fails when `body` throws.
  template <typename Body>
  std::future<void> Serve(Body body) {
    auto done = std::make_shared<std::promise<void>>();
    auto result = done->get_future();
    asio::co_spawn(
        server_ioc_,
        [this, body]() -> asio::awaitable<void> {
          tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
          TlsStream stream(std::move(socket), server_tls_);
          co_await body(stream);
        },
        [done](std::exception_ptr e) {
          if (e) {
            done->set_exception(e);
          } else {
            done->set_value();
          }
        });
    return result;
  }

  // A connected, handshaken client that does not check the certificate.
  std::unique_ptr<Client> Connect() {
    auto c = std::make_unique<Client>(client_ioc_, client_tls_);
    c->next_layer().connect(acceptor_.local_endpoint());
    c->handshake(asio::ssl::stream_base::client);
    return c;
  }

  static void Wait(std::future<void>& f) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    f.get();
  }

  static std::string dir_;
  std::shared_ptr<asio::ssl::context> server_tls_;
  asio::io_context server_ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{server_ioc_.get_executor()};
  tcp::acceptor acceptor_{server_ioc_};
  std::thread thread_;
  asio::io_context client_ioc_;
  asio::ssl::context client_tls_{asio::ssl::context::tls_client};
};

std::string TlsStreamTest::dir_;

// Counts the application-data records a client receives (TLS 1.3: the inner
// content type of each decrypted record).
void CountRecords(int write_p, int, int content_type, const void* buf, size_t len, SSL*,
                  void* arg) {
  if (!write_p && content_type == SSL3_RT_INNER_CONTENT_TYPE && len == 1 &&
      *static_cast<const unsigned char*>(buf) == SSL3_RT_APPLICATION_DATA) {
    ++*static_cast<int*>(arg);
  }
}

TEST_F(TlsStreamTest, BeastRequestAndResponseThenCloseNotify) {
  std::string target;
  Error end;
  auto server = Serve([&](TlsStream& s) -> asio::awaitable<void> {
    auto [hec] = co_await s.async_handshake(kAwait);
    if (hec) throw boost::system::system_error(hec);
    beast::flat_buffer buf;
    bhttp::request<bhttp::string_body> req;
    co_await bhttp::async_read(s, buf, req, asio::use_awaitable);
    target = std::string(req.target());
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, "text/plain");
    res.set(bhttp::field::server, "berth");
    res.set("Docker-Distribution-Api-Version", "registry/2.0");
    res.body() = "hello";
    res.prepare_payload();
    co_await bhttp::async_write(s, res, asio::use_awaitable);
    bhttp::request<bhttp::string_body> next;
    std::tie(end, std::ignore) = co_await bhttp::async_read(s, buf, next, kAwait);
    co_await s.async_shutdown(kAwait);
  });

  auto c = Connect();
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/v2/", 11};
  req.set(bhttp::field::host, "localhost");
  bhttp::write(*c, req);
  int records = 0;
  SSL_set_msg_callback(c->native_handle(), CountRecords);
  SSL_set_msg_callback_arg(c->native_handle(), &records);
  beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(*c, buf, res);
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.body(), "hello");
  EXPECT_EQ(records, 1) << "the response head and its small body should be one record";
  Error ec;
  c->shutdown(ec);  // sends close_notify, then waits for the server's
  EXPECT_FALSE(ec) << ec.message();
  Wait(server);
  EXPECT_EQ(target, "/v2/");
  EXPECT_EQ(end, bhttp::error::end_of_stream) << end.message();
}

TEST_F(TlsStreamTest, LargeBodiesBothWaysArriveIntact) {
  const std::string up = RandomBytes(8 << 20);
  std::string down = up;
  std::reverse(down.begin(), down.end());
  std::string received(up.size(), '\0');
  auto server = Serve([&](TlsStream& s) -> asio::awaitable<void> {
    co_await s.async_handshake(asio::use_awaitable);
    co_await asio::async_read(s, asio::buffer(received), asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(down), asio::use_awaitable);
    co_await s.async_shutdown(asio::use_awaitable);
  });

  auto c = Connect();
  asio::write(*c, asio::buffer(up));
  std::string got(down.size(), '\0');
  asio::read(*c, asio::buffer(got));
  Wait(server);
  EXPECT_TRUE(received == up);
  EXPECT_TRUE(got == down);
}

TEST_F(TlsStreamTest, PeerClosingWithoutCloseNotifyIsTruncation) {
  std::string received;
  Error ec;
  auto server = Serve([&](TlsStream& s) -> asio::awaitable<void> {
    co_await s.async_handshake(asio::use_awaitable);
    char buf[64];
    while (true) {
      auto [rec, n] = co_await s.async_read_some(asio::buffer(buf), kAwait);
      received.append(buf, n);
      if (rec) {
        ec = rec;
        break;
      }
    }
  });

  auto c = Connect();
  asio::write(*c, asio::buffer(std::string("partial")));
  // A FIN, not a close: the session tickets the client never read would
  // turn a close into a reset.
  c->next_layer().shutdown(tcp::socket::shutdown_send);
  Wait(server);
  EXPECT_EQ(received, "partial");
  EXPECT_EQ(ec, asio::ssl::error::stream_truncated) << ec.message();
}

TEST_F(TlsStreamTest, GarbageInsteadOfHandshakeFailsCleanly) {
  Error ec;
  auto server = Serve([&](TlsStream& s) -> asio::awaitable<void> {
    std::tie(ec) = co_await s.async_handshake(kAwait);
  });

  tcp::socket raw(client_ioc_);
  raw.connect(acceptor_.local_endpoint());
  asio::write(raw, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
  Wait(server);
  EXPECT_EQ(ec.category(), asio::error::get_ssl_category()) << ec.message();
  // The server dropped the connection: the client sees at most an alert, then the end.
  char buf[256];
  Error rec;
  while (!rec) raw.read_some(asio::buffer(buf), rec);
  EXPECT_TRUE(rec == asio::error::eof || rec == asio::error::connection_reset) << rec.message();
}

TEST_F(TlsStreamTest, ReadOfBufferedDataCompletesOutsideTheInitiatingCall) {
  bool initiated = false;
  bool inline_completion = true;
  std::string rest;
  auto server = Serve([&](TlsStream& s) -> asio::awaitable<void> {
    co_await s.async_handshake(asio::use_awaitable);
    char first;
    co_await s.async_read_some(asio::buffer(&first, 1), asio::use_awaitable);
    // The other bytes of that record are already decrypted and waiting.
    static char buf[16];
    s.async_read_some(asio::buffer(buf), [&](Error ec, size_t n) {
      inline_completion = !initiated;
      rest.assign(buf, n);
    });
    initiated = true;
    asio::steady_timer timer(s.get_executor(), std::chrono::milliseconds(200));
    co_await timer.async_wait(asio::use_awaitable);
  });

  auto c = Connect();
  asio::write(*c, asio::buffer(std::string("abc")));
  Wait(server);
  EXPECT_FALSE(inline_completion);
  EXPECT_EQ(rest, "bc");
}

TEST_F(TlsStreamTest, TcpStreamTimeoutCoversReads) {
  Error ec;
  auto server = Serve([&](TlsStream& s) -> asio::awaitable<void> {
    co_await s.async_handshake(asio::use_awaitable);
    beast::get_lowest_layer(s).expires_after(std::chrono::milliseconds(100));
    char buf[16];
    std::tie(ec, std::ignore) = co_await s.async_read_some(asio::buffer(buf), kAwait);
  });

  auto c = Connect();
  Wait(server);
  EXPECT_EQ(ec, beast::error::timeout) << ec.message();
}

}  // namespace
}  // namespace berth::http
