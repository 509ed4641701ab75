// Tests for Runtime (http/server.hpp): its shutdown. A regression test for
// the heap-use-after-free that integration-asan found on SIGTERM under load;
// it only shows under ASan (make unit-asan).

#include "http/server.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <csignal>
#include <future>
#include <string_view>
#include <thread>

namespace berth::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

class NullHandler : public Handler {
 public:
  Outcome Handle(const Request&) override { return Outcome::Reply(Response{}); }
  Response Reject(int status, std::string_view) override {
    Response r;
    r.status = status;
    return r;
  }
};

// A session still open when the grace period runs out is a coroutine frame
// that ~Runtime destroys with its io_context; destroying it touched the
// listener's SessionContext, which ~Runtime had already freed.
TEST(RuntimeTest, SessionOpenPastGracePeriodIssueUseAfterFreeAtShutdown) {
  NullHandler handler;
  std::promise<void> run_returned;
  {
    Runtime runtime(1, 1, std::chrono::seconds(0));
    ListenerOptions options;
    options.name = "test";
    options.address = "127.0.0.1";
    options.port = 0;
    options.tls = false;
    const uint16_t port = runtime.AddListener(options, Limits{}, handler);
    std::thread client([port, done = run_returned.get_future()] {
      asio::io_context io;
      tcp::socket socket(io);
      boost::system::error_code ec;
      socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
      ASSERT_FALSE(ec) << ec.message();
      // Half a request head: the session waits for the rest.
      asio::write(socket, asio::buffer(std::string_view("GET /v2/ HTTP/1.1\r\n")), ec);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      ::kill(::getpid(), SIGTERM);  // Run's signal set catches it
      done.wait();                  // keep the connection open until Run has given up on it
    });
    runtime.Run();
    run_returned.set_value();
    client.join();
  }  // ~Runtime destroys the session's coroutine here
  SUCCEED();
}

// A client that resets a plain connection while sendfile(2) sends it a blob
// raised SIGPIPE (sendfile passes no MSG_NOSIGNAL), and its default action
// ended the process; a streamed blob's producer writing into a pipe the
// session closed does the same. The Runtime ignores the signal, so both are
// EPIPE errors.
TEST(RuntimeTest, IgnoresSigpipeIssueResetDuringSendfileKilledTheProcess) {
  std::signal(SIGPIPE, SIG_DFL);
  { Runtime runtime(1, 1, std::chrono::seconds(0)); }
  struct sigaction current {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &current), 0);
  EXPECT_EQ(current.sa_handler, SIG_IGN);
}

}  // namespace
}  // namespace berth::http
