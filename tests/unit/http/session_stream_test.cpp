// A streamed body (FileRegion::stream: the read end of a pipe a producer
// thread writes) through the real Session: over the in-memory connection
// (ServeBytes) for sizes 0, 1 and 1 MiB + 1, a pipe that ends early, and a
// producer that stalls; over loopback sockets, plain and TLS, for a whole
// body and for a client that goes away (the producer must see EPIPE).
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crypto/self_signed.hpp"
#include "http/session.hpp"

namespace berth::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

char PatternAt(uint64_t i) { return static_cast<char>('a' + i % 23); }
std::string Pattern(uint64_t n) {
  std::string s(n, '\0');
  for (uint64_t i = 0; i < n; ++i) s[i] = PatternAt(i);
  return s;
}

// Answers /pipe?announce=A&write=W with a streamed region of length A whose
// producer thread writes the first W bytes of Pattern() and closes its end;
// with &stall=1 it then keeps the pipe open until Release() and writes one
// more byte. The producer records the errno of a failed write (EPIPE: the
// session closed the read end). Anything else: 200 "path=<path>".
class PipeHandler final : public Handler {
 public:
  ~PipeHandler() override {
    Release();
    for (auto& t : threads_) t.join();
  }

  Outcome Handle(const Request& request) override {
    Response r;
    if (request.path != "/pipe") {
      r.body = "path=" + request.path;
      return Outcome::Reply(std::move(r));
    }
    const uint64_t announce = std::stoull(std::string(request.Query("announce").value_or("0")));
    const uint64_t write = std::stoull(std::string(request.Query("write").value_or("0")));
    const bool stall = request.Query("stall").has_value();
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    {
      std::lock_guard lock(mu_);
      ++started_;
      threads_.emplace_back(&PipeHandler::Produce, this, UniqueFd(ends[1]), write, stall);
    }
    r.file = FileRegion{UniqueFd(ends[0]), 12345, announce, true};  // offset ignored
    return Outcome::Reply(std::move(r));
  }
  Response Reject(int status, std::string_view reason) override {
    Response r;
    r.status = status;
    r.body = std::string(reason);
    return r;
  }

  void Release() {
    std::call_once(released_, [this] { release_.set_value(); });
  }
  // Waits (bounded) until every producer returned.
  bool ProducersDone(std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (finished_.load() < started_.load()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  std::atomic<int> producer_errno{0};

 private:
  void Produce(UniqueFd out, uint64_t n, bool stall) {
    // As in a store's fetch thread: a closed reader must be EPIPE, not death.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    std::vector<char> buf(64 * 1024);
    uint64_t i = 0;
    while (i < n) {
      const size_t k = static_cast<size_t>(std::min<uint64_t>(buf.size(), n - i));
      for (size_t j = 0; j < k; ++j) buf[j] = PatternAt(i + j);
      ssize_t w = ::write(out.get(), buf.data(), k);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        producer_errno = errno;
        ++finished_;
        return;
      }
      i += static_cast<uint64_t>(w);
    }
    if (stall) {
      release_future_.wait();
      char c = 'x';
      if (::write(out.get(), &c, 1) < 0) producer_errno = errno;
    }
    ++finished_;
  }

  std::mutex mu_;
  std::vector<std::thread> threads_;  // GUARDED_BY(mu_)
  std::promise<void> release_;
  std::shared_future<void> release_future_{release_.get_future().share()};
  std::once_flag released_;
  std::atomic<int> started_{0}, finished_{0};
};

class Recorder final : public RequestObserver {
 public:
  void Observe(const RequestRecord& r) override { seen.push_back({r.status, r.bytes_out}); }
  std::vector<std::pair<int, uint64_t>> seen;
};

std::string Serve(const std::string& input, PipeHandler& handler, Recorder& rec,
                  Limits limits = {}) {
  asio::io_context ioc;
  asio::thread_pool pool(1);
  SessionContext ctx{handler, limits, pool, "test", Admission({})};
  ctx.observer = &rec;
  auto done = asio::co_spawn(ioc, ServeBytes(input, 4096, ctx), asio::use_future);
  ioc.run();
  pool.join();
  return done.get();
}

std::string Get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

TEST(SessionStream, WholeBodyOfEverySizeThenTheNextRequest) {
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{(1 << 20) + 1}}) {
    SCOPED_TRACE(n);
    PipeHandler h;
    Recorder rec;
    const std::string q = "/pipe?announce=" + std::to_string(n) + "&write=" + std::to_string(n);
    std::string out = Serve(Get(q) + Get("/next"), h, rec);
    ASSERT_NE(out.find("Content-Length: " + std::to_string(n) + "\r\n"), std::string::npos)
        << out.substr(0, 300);
    const size_t body = out.find("\r\n\r\n") + 4;
    // MemoryStream keeps the first MiB of output: compare what it kept.
    const std::string expected = Pattern(n);
    const size_t compare = std::min<size_t>(expected.size(), out.size() - body);
    EXPECT_TRUE(out.compare(body, compare, expected, 0, compare) == 0);
    // Both answered: the body ended exactly where it was announced to.
    ASSERT_EQ(rec.seen.size(), 2u);
    EXPECT_EQ(rec.seen[0], (std::pair<int, uint64_t>{200, n}));
    EXPECT_EQ(rec.seen[1].first, 200);
    if (n < 1000) {
      EXPECT_NE(out.find("path=/next"), std::string::npos) << out;
    }
    EXPECT_TRUE(h.ProducersDone(std::chrono::seconds(10)));
    EXPECT_EQ(h.producer_errno.load(), 0);
  }
}

TEST(SessionStream, EarlyEndClosesWithoutSendingMoreThanAnnounced) {
  for (uint64_t written : {uint64_t{0}, uint64_t{500}, uint64_t{300000}}) {
    SCOPED_TRACE(written);
    PipeHandler h;
    Recorder rec;
    const std::string q = "/pipe?announce=400000&write=" + std::to_string(written);
    std::string out = Serve(Get(q) + Get("/never"), h, rec);
    ASSERT_NE(out.find("Content-Length: 400000\r\n"), std::string::npos);
    const size_t body = out.find("\r\n\r\n") + 4;
    EXPECT_EQ(out.size() - body, written);  // what the pipe gave, and then the end
    EXPECT_EQ(out.find("path=/never"), std::string::npos);
    ASSERT_EQ(rec.seen.size(), 1u);  // the connection closed: /never was not read
    EXPECT_EQ(rec.seen[0].second, written);
  }
}

TEST(SessionStream, StalledProducerIsCutAfterTheWriteTimeoutAndSeesEpipe) {
  PipeHandler h;
  Recorder rec;
  Limits limits;
  limits.write_timeout = std::chrono::seconds(1);
  const auto start = std::chrono::steady_clock::now();
  std::string out =
      Serve(Get("/pipe?announce=100&write=10&stall=1") + Get("/never"), h, rec, limits);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(out.size() - (out.find("\r\n\r\n") + 4), 10u);
  EXPECT_EQ(out.find("path=/never"), std::string::npos);
  h.Release();  // the producer writes again, into a pipe nobody reads
  ASSERT_TRUE(h.ProducersDone(std::chrono::seconds(10)));
  EXPECT_EQ(h.producer_errno.load(), EPIPE);
}

// The same over real loopback connections, plain (the sendfile path is not
// taken for a pipe) and TLS.
class SessionStreamSocket : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = (fs::temp_directory_path() / "berth-stream-XXXXXX").string();
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
    asio::co_spawn(
        server_ioc_,
        [this]() -> asio::awaitable<void> {
          tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
          if (GetParam()) {
            co_await ServeTls(std::move(socket), server_tls_, ctx_);
          } else {
            co_await ServePlain(std::move(socket), ctx_);
          }
        },
        asio::detached);
    server_ = std::thread([this] { server_ioc_.run(); });
  }
  void TearDown() override {
    server_.join();  // the one session ends when the client has closed
    pool_.join();
  }

  // Sends a GET of `target` and reads the answer's head; the caller reads the body.
  template <typename Stream>
  void SendGet(Stream& s, const std::string& target,
               bhttp::response_parser<bhttp::string_body>& parser,
               boost::beast::flat_buffer& buffer) {
    asio::write(s, asio::buffer(Get(target)));
    bhttp::read_header(s, buffer, parser);
  }

  // Runs `client` on a connected plain socket or TLS stream.
  template <typename Client>
  void WithConnection(Client client) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(acceptor_.local_endpoint());
    if (!GetParam()) {
      client(socket);
      return;
    }
    asio::ssl::context tls(asio::ssl::context::tls_client);
    asio::ssl::stream<tcp::socket&> stream(socket, tls);
    stream.handshake(asio::ssl::stream_base::client);
    client(stream);
  }

  static std::string dir_;
  PipeHandler handler_;
  asio::thread_pool pool_{1};
  SessionContext ctx_{handler_, Limits{}, pool_, "test", Admission({})};
  std::shared_ptr<asio::ssl::context> server_tls_;
  asio::io_context server_ioc_;
  tcp::acceptor acceptor_{server_ioc_};
  std::thread server_;
};

std::string SessionStreamSocket::dir_;

TEST_P(SessionStreamSocket, WholeBodyArrives) {
  const uint64_t n = (1 << 20) + 1;
  WithConnection([&](auto& s) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 << 20);
    boost::beast::flat_buffer buffer;
    const std::string q = "/pipe?announce=" + std::to_string(n) + "&write=" + std::to_string(n);
    SendGet(s, q, parser, buffer);
    bhttp::read(s, buffer, parser);
    EXPECT_EQ(parser.get().result_int(), 200);
    EXPECT_TRUE(parser.get().body() == Pattern(n)) << parser.get().body().size();
  });
  EXPECT_TRUE(handler_.ProducersDone(std::chrono::seconds(10)));
  EXPECT_EQ(handler_.producer_errno.load(), 0);
}

TEST_P(SessionStreamSocket, ClientGoneMakesTheProducerSeeEpipe) {
  WithConnection([&](auto& s) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(128 << 20);
    boost::beast::flat_buffer buffer;
    SendGet(s, "/pipe?announce=67108864&write=67108864", parser, buffer);
    EXPECT_EQ(parser.get().result_int(), 200);
    char some[4096];
    size_t got = 0;
    while (got < 100000) got += s.read_some(asio::buffer(some));
  });  // closed mid-body
  ASSERT_TRUE(handler_.ProducersDone(std::chrono::seconds(20)));
  EXPECT_EQ(handler_.producer_errno.load(), EPIPE);
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, SessionStreamSocket, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "tls" : "plain"; });

}  // namespace
}  // namespace berth::http
