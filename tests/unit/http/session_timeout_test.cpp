// The session's deadlines over real loopback connections (ServePlain): the
// in-memory connection of session_framing_test.cpp never stalls, so no
// deadline can fire there. A client that says nothing, sends half a head or
// trickles one, an idle keep-alive connection, a body that stops and one that
// trickles below min_body_rate: each must be cut after its timeout, a little
// after it and well before a second. The client side uses raw sockets and
// poll(2) so that every wait is bounded even when the server misbehaves.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "http/session.hpp"

namespace berth::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kTimeout{200};
// Every client wait gives up after this, so a session that never closes
// fails the test instead of hanging it.
constexpr milliseconds kGiveUp{3000};

// /body streams the body into a sink that records how it ended and answers
// 201 "body=..." or 400 with the refusal; anything else is 200 "path=...".
class RecordingHandler final : public Handler {
 public:
  class Sink final : public BodySink {
   public:
    explicit Sink(RecordingHandler& h) : h_(h) {}
    Status Write(std::span<const char> data) override {
      body_.append(data.data(), data.size());
      return Status::Ok();
    }
    Response Finish(const Status& body) override {
      {
        std::lock_guard lock(h_.mu_);
        h_.finished_ = body.ok() ? "ok" : body.message();
      }
      h_.finishes_.fetch_add(1);
      Response r;
      r.status = body.ok() ? 201 : 400;
      r.body = body.ok() ? "body=" + body_ : body.message();
      return r;
    }

   private:
    RecordingHandler& h_;
    std::string body_;
  };

  Outcome Handle(const Request& request) override {
    handled_.fetch_add(1);
    if (request.path == "/body") return Outcome::Stream(std::make_unique<Sink>(*this));
    Response r;
    r.body = "path=" + request.path;
    return Outcome::Reply(std::move(r));
  }
  Response Reject(int status, std::string_view reason) override {
    Response r;
    r.status = status;
    r.body = std::string(reason);
    return r;
  }

  int handled() const { return handled_.load(); }
  // Waits (bounded) for a sink to finish; returns how it ended ("" if none did).
  std::string WaitFinished() {
    const auto until = Clock::now() + kGiveUp;
    while (finishes_.load() == 0 && Clock::now() < until)
      std::this_thread::sleep_for(milliseconds(5));
    std::lock_guard lock(mu_);
    return finished_;
  }

 private:
  std::atomic<int> handled_{0};
  std::atomic<int> finishes_{0};
  std::mutex mu_;
  std::string finished_;  // GUARDED_BY(mu_)
};

// One blocking client connection whose every wait is bounded by poll(2).
class Client {
 public:
  explicit Client(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  // False once the server has closed (EPIPE, ECONNRESET).
  bool Send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }

  // Reads what arrives within `wait`; returns true when the server closed
  // the connection (EOF or reset) in that time. Appends to received().
  bool ReadFor(milliseconds wait) {
    const auto until = Clock::now() + wait;
    while (true) {
      const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return true;
      received_.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads until the server closes, at most kGiveUp; returns the time from
  // `since` to the close, or nullopt if it did not close.
  std::optional<milliseconds> WaitClosed(Clock::time_point since) {
    if (!ReadFor(kGiveUp)) return std::nullopt;
    return std::chrono::duration_cast<milliseconds>(Clock::now() - since);
  }
  // Reads until `received()` holds `what`, at most kGiveUp.
  bool ReadUntil(const std::string& what) {
    const auto until = Clock::now() + kGiveUp;
    while (received_.find(what) == std::string::npos) {
      if (Clock::now() >= until) return false;
      if (ReadFor(milliseconds(20))) return received_.find(what) != std::string::npos;
    }
    return true;
  }
  const std::string& received() const { return received_; }

 private:
  const int fd_;
  bool connected_ = false;
  std::string received_;
};

class SessionTimeoutTest : public ::testing::Test {
 protected:
  // Starts serving with `limits` on 127.0.0.1, a port the kernel picks.
  void Start(Limits limits) {
    ctx_.reset(new SessionContext{handler_, limits, pool_, "test", Admission({})});
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(
        ioc_,
        [this]() -> asio::awaitable<void> {
          while (true) {
            auto [ec, socket] =
                co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            asio::co_spawn(ioc_, ServePlain(std::move(socket), *ctx_), asio::detached);
          }
        },
        asio::detached);
    server_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    // Sessions still open are destroyed with the io_context, after the pool
    // has run its last task (which posts back to the io_context).
    ioc_.stop();
    if (server_.joinable()) server_.join();
    pool_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  static Limits Short() {
    Limits l;
    l.header_timeout = kTimeout;
    l.body_timeout = kTimeout;
    l.min_body_rate = 0;
    return l;
  }
  // The close came after the timeout, and not much after it.
  static void ExpectCutAtTheTimeout(std::optional<milliseconds> took,
                                    milliseconds timeout = kTimeout) {
    ASSERT_TRUE(took.has_value()) << "the server did not close within " << kGiveUp.count() << " ms";
    EXPECT_GE(*took, timeout - milliseconds(20));
    EXPECT_LT(*took, timeout + milliseconds(800));
  }

  RecordingHandler handler_;
  asio::thread_pool pool_{1};
  std::unique_ptr<SessionContext> ctx_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::thread server_;
};

TEST_F(SessionTimeoutTest, SilentOrHalfHeadIsClosedAfterTheHeaderTimeout) {
  Start(Short());
  for (const std::string sent : {"", "GET /x HTTP/1.1\r\nHost: x\r\n"}) {
    SCOPED_TRACE("sent: " + sent);
    Client c(port());
    ASSERT_TRUE(c.connected());
    const auto start = Clock::now();
    ASSERT_TRUE(c.Send(sent));
    ExpectCutAtTheTimeout(c.WaitClosed(start));
    // A head that never ended is not answered and reaches no handler.
    EXPECT_EQ(c.received(), "");
  }
  EXPECT_EQ(handler_.handled(), 0);
}

// The header deadline covers the whole head, not each read: a client that
// sends a byte now and then (slowloris) is cut at the same time.
TEST_F(SessionTimeoutTest, TrickledHeadIsCutAtTheDeadlineNotPerRead) {
  Start(Short());
  Client c(port());
  ASSERT_TRUE(c.connected());
  const std::string head = "GET /x HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(1000, 'v');
  const auto start = Clock::now();
  bool closed = false;
  for (size_t i = 0; i < head.size() && !closed && Clock::now() - start < kGiveUp; ++i) {
    if (!c.Send(head.substr(i, 1))) break;
    closed = c.ReadFor(milliseconds(20));
  }
  if (!closed) closed = c.ReadFor(milliseconds(500));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_TRUE(closed);
  EXPECT_GE(took, kTimeout - milliseconds(20));
  EXPECT_LT(took, kTimeout + milliseconds(800));
  EXPECT_EQ(handler_.handled(), 0);
}

TEST_F(SessionTimeoutTest, IdleKeepAliveConnectionIsClosedAfterTheHeaderTimeout) {
  Start(Short());
  Client c(port());
  ASSERT_TRUE(c.connected());
  // Two requests on the connection within the timeout are both served: the
  // deadline starts again with each request.
  ASSERT_TRUE(c.Send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.ReadUntil("path=/one"));
  std::this_thread::sleep_for(kTimeout / 2);
  ASSERT_TRUE(c.Send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.ReadUntil("path=/two"));
  const auto answered = Clock::now();
  ExpectCutAtTheTimeout(c.WaitClosed(answered));
  EXPECT_EQ(c.received().find("Connection: close"), std::string::npos) << c.received();
  EXPECT_EQ(handler_.handled(), 2);
}

TEST_F(SessionTimeoutTest, StalledBodyIsCutAndTheSinkIsTold) {
  Start(Short());
  Client c(port());
  ASSERT_TRUE(c.connected());
  const auto start = Clock::now();
  ASSERT_TRUE(c.Send("PUT /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"));
  ExpectCutAtTheTimeout(c.WaitClosed(start));
  EXPECT_EQ(c.received(), "");  // nobody left to answer
  // The sink hears that the body will not come, so it can roll back.
  EXPECT_EQ(handler_.WaitFinished(), "client went away mid-body");
}

TEST_F(SessionTimeoutTest, StalledChunkedBodyIsCutAndTheSinkIsTold) {
  Start(Short());
  Client c(port());
  ASSERT_TRUE(c.connected());
  const auto start = Clock::now();
  ASSERT_TRUE(
      c.Send("PUT /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"));
  ExpectCutAtTheTimeout(c.WaitClosed(start));
  EXPECT_EQ(c.received(), "");
  EXPECT_EQ(handler_.WaitFinished(), "client went away mid-body");
}

// Each byte comes within the body timeout, but the average over the window
// is far below min_body_rate: refused with an answer, then closed.
TEST_F(SessionTimeoutTest, BodyBelowTheMinimumRateIsRefusedAndClosed) {
  Limits limits = Short();
  limits.min_body_rate = 10'000;  // bytes/s; the client sends about 50
  Start(limits);
  Client c(port());
  ASSERT_TRUE(c.connected());
  const auto start = Clock::now();
  ASSERT_TRUE(c.Send("PUT /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"));
  bool closed = false;
  for (int i = 0; i < 150 && !closed; ++i) {
    if (!c.Send("z")) break;
    closed = c.ReadFor(milliseconds(20));
  }
  if (!closed) closed = c.ReadFor(milliseconds(500));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_TRUE(closed);
  EXPECT_GE(took, kTimeout - milliseconds(20));
  EXPECT_LT(took, kTimeout + milliseconds(800));
  EXPECT_EQ(c.received().rfind("HTTP/1.1 400", 0), 0u) << c.received();
  EXPECT_NE(c.received().find("Connection: close"), std::string::npos) << c.received();
  EXPECT_NE(c.received().find("request body too slow"), std::string::npos) << c.received();
  EXPECT_EQ(handler_.WaitFinished(), "request body too slow");
}

// The same short deadlines leave a prompt client alone: a body sent in
// pieces, each within the body timeout, is received whole.
TEST_F(SessionTimeoutTest, PromptClientIsServedUnderShortDeadlines) {
  Start(Short());
  Client c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("PUT /body HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc"));
  std::this_thread::sleep_for(kTimeout / 2);
  ASSERT_TRUE(c.Send("def"));
  ASSERT_TRUE(c.ReadUntil("body=abcdef")) << c.received();
  EXPECT_EQ(c.received().rfind("HTTP/1.1 201", 0), 0u) << c.received();
  EXPECT_EQ(handler_.WaitFinished(), "ok");
}

}  // namespace
}  // namespace berth::http
