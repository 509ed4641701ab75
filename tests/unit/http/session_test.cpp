// The real Session over an in-memory connection (ServeBytes): chunked bodies
// split every way, pipelining after a chunked body, and hostile framing that
// must end in an answer, never a crash.
#include "http/session.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <string>
#include <vector>

namespace berth::http {
namespace {

// Answers every request with 200 and the body it received.
class EchoHandler final : public Handler {
 public:
  class Sink final : public BodySink {
   public:
    Status Write(std::span<const char> data) override {
      body_.append(data.data(), data.size());
      return Status::Ok();
    }
    Response Finish(const Status& body) override {
      Response r;
      r.status = body.ok() ? 200 : 400;
      r.body = body.ok() ? "body=" + body_ : body.message();
      return r;
    }

   private:
    std::string body_;
  };

  Outcome Handle(const Request& request) override {
    paths.push_back(request.path);
    if (request.has_body) return Outcome::Stream(std::make_unique<Sink>());
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

  std::vector<std::string> paths;
};

std::string Serve(const std::string& input, size_t piece, EchoHandler& handler) {
  boost::asio::io_context ioc;
  boost::asio::thread_pool pool(1);
  SessionContext ctx{handler, Limits{}, pool, "test", Admission({})};
  auto done = boost::asio::co_spawn(ioc, ServeBytes(input, piece, ctx), boost::asio::use_future);
  ioc.run();
  pool.join();
  return done.get();
}

const std::string kChunked =
    "PATCH /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: ok\r\n\r\n"
    "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(Session, ChunkedBodyWhateverTheReadsAndPipelinedNext) {
  for (size_t piece : {1, 2, 3, 7, 16, 64, 4096}) {
    EchoHandler h;
    std::string out = Serve(kChunked, piece, h);
    EXPECT_NE(out.find("body=hello world"), std::string::npos) << "piece " << piece << ": " << out;
    EXPECT_NE(out.find("path=/next"), std::string::npos) << "piece " << piece;
    EXPECT_EQ(h.paths.size(), 2u);
  }
}

TEST(Session, OversizedTrailerIsRefusedNotThrown) {
  EchoHandler h;
  std::string in =
      "PATCH /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1\r\na\r\n0\r\nX-Big: " +
      std::string(70 * 1024, 'v') +
      "\r\n\r\n"
      "GET /never HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string out = Serve(in, 4096, h);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out.substr(0, 200);
  EXPECT_NE(out.find("trailer section too large"), std::string::npos);
  EXPECT_EQ(out.find("/never"), std::string::npos) << "the connection must close";
}

TEST(Session, TooManyFieldsGet431) {
  EchoHandler h;
  std::string in = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 150; ++i) in += "X-F" + std::to_string(i) + ": v\r\n";
  std::string out = Serve(in + "\r\n", 4096, h);
  EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
  EXPECT_TRUE(h.paths.empty());
}

TEST(Session, GarbageGets400) {
  EchoHandler h;
  std::string out = Serve(std::string("\x16\x03\x01\x02\x00 not http\r\n\r\n"), 4096, h);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out.substr(0, 200);
}

TEST(Session, SizedBodyArrivesWhole) {
  EchoHandler h;
  std::string out = Serve("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde", 2, h);
  EXPECT_NE(out.find("body=abcde"), std::string::npos) << out;
}

}  // namespace
}  // namespace berth::http
