// The real Session over an in-memory connection (ServeBytes), past what
// session_test.cpp covers: sized bodies split every way, zero-length bodies,
// pipelining, keep-alive and Connection: close, HTTP/1.0, the errors that end
// a connection (400, 431, an exception in a handler), HEAD without a body,
// unwanted bodies drained or refused, and what the RequestObserver is told.
//
// Timeouts are not covered here: MemoryStream's input never stalls, so no
// deadline of the session can fire on it.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/session.hpp"

namespace berth::http {
namespace {

// Paths pick the behaviour: /body/... streams the body into a sink that
// answers with it, /refuse/... streams into a sink that refuses after a few
// bytes, /boom throws from Handle, /head answers with an announced length
// and no body; anything else answers "path=<path>" without reading a body.
class ScriptedHandler final : public Handler {
 public:
  class Sink final : public BodySink {
   public:
    explicit Sink(size_t refuse_after) : refuse_after_(refuse_after) {}
    Status Write(std::span<const char> data) override {
      body_.append(data.data(), data.size());
      if (body_.size() > refuse_after_) return Status(Errc::kTooLarge, "body too large");
      return Status::Ok();
    }
    Response Finish(const Status& body) override {
      Response r;
      r.status = body.ok() ? 201 : 413;
      r.body = body.ok() ? "body=" + body_ : "refused";
      return r;
    }

   private:
    const size_t refuse_after_;
    std::string body_;
  };

  Outcome Handle(const Request& request) override {
    paths.push_back(request.path);
    if (request.path == "/boom") throw std::runtime_error("handler bug");
    Outcome out;
    if (request.path.starts_with("/body")) {
      out = Outcome::Stream(std::make_unique<Sink>(SIZE_MAX));
    } else if (request.path.starts_with("/refuse")) {
      out = Outcome::Stream(std::make_unique<Sink>(3));
    } else if (request.path == "/head") {
      Response r;
      r.head_length = 1234;
      out = Outcome::Reply(std::move(r));
    } else {
      Response r;
      r.body = "path=" + request.path;
      out = Outcome::Reply(std::move(r));
    }
    out.endpoint = "scripted";
    return out;
  }
  Response Reject(int status, std::string_view reason) override {
    Response r;
    r.status = status;
    r.body = std::string(reason);
    return r;
  }

  std::vector<std::string> paths;  // touched by the one pool thread only
};

class Recorder final : public RequestObserver {
 public:
  struct Seen {
    std::string endpoint, method;
    int status;
    uint64_t bytes_in, bytes_out;
  };
  void Observe(const RequestRecord& r) override {
    seen.push_back(
        {std::string(r.endpoint), std::string(r.method), r.status, r.bytes_in, r.bytes_out});
  }
  std::vector<Seen> seen;
};

std::string Serve(const std::string& input, size_t piece, ScriptedHandler& handler,
                  Recorder* observer = nullptr, Limits limits = {}) {
  boost::asio::io_context ioc;
  boost::asio::thread_pool pool(1);
  SessionContext ctx{handler, limits, pool, "test", Admission({})};
  ctx.observer = observer;
  auto done = boost::asio::co_spawn(ioc, ServeBytes(input, piece, ctx), boost::asio::use_future);
  ioc.run();
  pool.join();
  return done.get();
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + 1)) ++n;
  return n;
}

TEST(SessionFraming, SizedBodySplitEveryWayThenPipelinedNext) {
  const std::string body = "0123456789abcdefghij";
  const std::string in = "PUT /body HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n" + body +
                         "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t piece = 1; piece <= in.size(); ++piece) {
    ScriptedHandler h;
    std::string out = Serve(in, piece, h);
    SCOPED_TRACE("piece " + std::to_string(piece) + ": " + out);
    ASSERT_EQ(out.rfind("HTTP/1.1 201", 0), 0u);
    EXPECT_NE(out.find("body=" + body), std::string::npos);
    EXPECT_NE(out.find("path=/next"), std::string::npos);
    EXPECT_EQ(h.paths, (std::vector<std::string>{"/body", "/next"}));
  }
}

TEST(SessionFraming, ZeroLengthBodyIsNoBody) {
  ScriptedHandler h;
  Recorder rec;
  std::string out = Serve(
      "PUT /body HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
      "GET /after HTTP/1.1\r\nHost: x\r\n\r\n",
      4096, h, &rec);
  // Nothing to read: the sink finishes at once with an empty body, and the
  // next request is parsed from the very next byte.
  EXPECT_EQ(out.rfind("HTTP/1.1 201", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Length: 5\r\n\r\nbody=HTTP/1.1 200"), std::string::npos) << out;
  EXPECT_NE(out.find("path=/after"), std::string::npos) << out;
  ASSERT_EQ(rec.seen.size(), 2u);
  EXPECT_EQ(rec.seen[0].bytes_in, 0u);
}

TEST(SessionFraming, PipelinedRequestsAnsweredInOrder) {
  ScriptedHandler h;
  std::string in;
  for (int i = 0; i < 5; ++i) in += "GET /r" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t piece : {1, 5, 4096}) {
    ScriptedHandler h2;
    std::string out = Serve(in, piece, h2);
    EXPECT_EQ(Count(out, "HTTP/1.1 200"), 5u) << out;
    size_t last = 0;
    for (int i = 0; i < 5; ++i) {
      size_t pos = out.find("path=/r" + std::to_string(i));
      ASSERT_NE(pos, std::string::npos);
      EXPECT_GE(pos, last);
      last = pos;
    }
  }
}

TEST(SessionFraming, ConnectionCloseEndsAfterTheAnswer) {
  ScriptedHandler h;
  std::string out = Serve(
      "GET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
      "GET /two HTTP/1.1\r\nHost: x\r\n\r\n",
      4096, h);
  EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  EXPECT_EQ(h.paths, std::vector<std::string>{"/one"});
}

TEST(SessionFraming, KeepAliveAnswersSayNoClose) {
  ScriptedHandler h;
  std::string out = Serve("GET /one HTTP/1.1\r\nHost: x\r\n\r\n", 4096, h);
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_EQ(out.find("Connection: close"), std::string::npos) << out;
}

TEST(SessionFraming, Http10ClosesUnlessKeepAliveAsked) {
  {
    ScriptedHandler h;
    std::string out = Serve("GET /one HTTP/1.0\r\n\r\nGET /two HTTP/1.0\r\n\r\n", 4096, h);
    EXPECT_NE(out.find("path=/one"), std::string::npos) << out;
    EXPECT_EQ(out.find("path=/two"), std::string::npos) << out;
    EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  }
  {
    ScriptedHandler h;
    std::string out = Serve(
        "GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        "GET /two HTTP/1.0\r\n\r\n",
        4096, h);
    EXPECT_NE(out.find("path=/one"), std::string::npos) << out;
    EXPECT_NE(out.find("path=/two"), std::string::npos) << out;
  }
}

// An HTTP/1.0 client (ab -k) reads an answer without "Connection:
// keep-alive" as the last one and waits for a close that would never come.
TEST(SessionFraming, Http10KeptConnectionSaysKeepAlive) {
  ScriptedHandler h;
  std::string out = Serve(
      "GET /one HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
      "HEAD /head HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
      "GET /three HTTP/1.0\r\n\r\n",
      4096, h);
  EXPECT_EQ(h.paths, (std::vector<std::string>{"/one", "/head", "/three"}));
  EXPECT_EQ(Count(out, "Connection: keep-alive\r\n"), 2u) << out;
  // The third asked for nothing: it is answered, then the connection closes.
  const size_t third = out.find("HTTP/1.1 ", out.find("Content-Length: 1234"));
  ASSERT_NE(third, std::string::npos) << out;
  EXPECT_NE(out.find("Connection: close", third), std::string::npos) << out;
  EXPECT_EQ(out.find("keep-alive", third), std::string::npos) << out;
}

TEST(SessionFraming, MalformedRequestLineGets400AndCloses) {
  for (const std::string bad : {"GET / XTTP/1.1\r\n\r\n", "GET\r\n\r\n",
                                "GET / HTTP/1.1 extra\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n"}) {
    ScriptedHandler h;
    std::string out = Serve(bad + "GET /never HTTP/1.1\r\nHost: x\r\n\r\n", 4096, h);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << bad << " -> " << out;
    EXPECT_NE(out.find("malformed HTTP request"), std::string::npos);
    EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u) << out;
    EXPECT_TRUE(h.paths.empty());
  }
}

// A request whose body length two parties could read differently is the
// root of request smuggling: refused, and nothing after it is read.
TEST(SessionFraming, ContentLengthAndChunkedTogetherGet400) {
  for (const std::string fields : {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                                   "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"}) {
    SCOPED_TRACE(fields);
    ScriptedHandler h;
    std::string out = Serve("POST /body HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n0\r\n\r\n" +
                                "GET /never HTTP/1.1\r\n\r\n",
                            4096, h);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
    EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u) << out;
    EXPECT_TRUE(h.paths.empty());
  }
}

TEST(SessionFraming, ConflictingOrMalformedContentLengthGets400) {
  for (const std::string fields :
       {"Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: 5, 6\r\n",
        "Content-Length: -1\r\n", "Content-Length: 5x\r\n", "Content-Length: \r\n",
        "Content-Length: 99999999999999999999999\r\n"}) {
    SCOPED_TRACE(fields);
    ScriptedHandler h;
    std::string out = Serve(
        "PUT /body HTTP/1.1\r\nHost: x\r\n" + fields + "\r\nhello" + "GET /never HTTP/1.1\r\n\r\n",
        4096, h);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
    EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u) << out;
    EXPECT_TRUE(h.paths.empty());
  }
}

// RFC 9112 §6.3: a request whose Transfer-Encoding does not end in chunked
// has no length anyone can trust; the server must answer 400 and close. Read
// as a body-less request, its body would be served as the next request: one
// a proxy in front never saw.
TEST(SessionFraming, TransferEncodingNotEndingInChunkedGets400) {
  for (const std::string coding : {"gzip", "chunked, gzip", "identity", "chunked, chunked", ""}) {
    SCOPED_TRACE(coding);
    for (const std::string length : {"", "Content-Length: 26\r\n"}) {
      ScriptedHandler h;
      std::string out = Serve("POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                                  "\r\n" + length + "\r\nGET /smuggled HTTP/1.1\r\n\r\n",
                              4096, h);
      EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
      EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u) << out;
      EXPECT_EQ(out.find("smuggled"), std::string::npos) << out;
      EXPECT_TRUE(h.paths.empty());
    }
  }
}

// Neither Content-Length nor Transfer-Encoding: a request has no body (RFC
// 9112 §6.3), and the next bytes are the next request.
TEST(SessionFraming, NoLengthAtAllMeansNoBody) {
  ScriptedHandler h;
  Recorder rec;
  std::string out = Serve(
      "PUT /body HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n", 3, h, &rec);
  EXPECT_EQ(out.rfind("HTTP/1.1 201", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Length: 5\r\n\r\nbody=HTTP/1.1 200"), std::string::npos) << out;
  EXPECT_NE(out.find("path=/next"), std::string::npos) << out;
  EXPECT_EQ(h.paths, (std::vector<std::string>{"/body", "/next"}));
  ASSERT_EQ(rec.seen.size(), 2u);
  EXPECT_EQ(rec.seen[0].bytes_in, 0u);
}

TEST(SessionFraming, BrokenChunkFramingIsRefusedAndCloses) {
  for (const std::string chunks : {"zz\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n",
                                   "-1\r\n\r\n", "ffffffffffffffffff\r\n"}) {
    SCOPED_TRACE(chunks);
    ScriptedHandler h;
    Recorder rec;
    std::string out = Serve("PUT /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                chunks + "GET /never HTTP/1.1\r\n\r\n",
                            4096, h, &rec);
    // The sink hears the body failed (ScriptedHandler answers 413 to any
    // refusal); the connection closes, as no one knows where the body ends.
    EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
    EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
    EXPECT_EQ(out.find("/never"), std::string::npos) << out;
    EXPECT_EQ(h.paths, std::vector<std::string>{"/body"});
  }
}

TEST(SessionFraming, HeaderLargerThanTheLimitGets431) {
  Limits limits;
  limits.max_header_bytes = 1024;
  for (size_t piece : {7, 4096}) {
    ScriptedHandler h;
    std::string in = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'v') +
                     "\r\n\r\n"
                     "GET /never HTTP/1.1\r\nHost: x\r\n\r\n";
    std::string out = Serve(in, piece, h, nullptr, limits);
    EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
    EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u);
    EXPECT_TRUE(h.paths.empty());
  }
  // Just under the limit passes.
  ScriptedHandler h;
  std::string out = Serve("GET /ok HTTP/1.1\r\nX-Big: " + std::string(900, 'v') + "\r\n\r\n", 4096,
                          h, nullptr, limits);
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out.substr(0, 200);
}

TEST(SessionFraming, HundredFieldsPassAndOneMoreGets431) {
  auto request = [](int fields) {
    std::string in = "GET /f HTTP/1.1\r\n";
    for (int i = 0; i < fields; ++i) in += "X-F" + std::to_string(i) + ": v\r\n";
    return in + "\r\n";
  };
  ScriptedHandler ok;
  EXPECT_EQ(Serve(request(100), 4096, ok).rfind("HTTP/1.1 200", 0), 0u);
  ScriptedHandler over;
  Recorder rec;
  std::string out = Serve(request(101) + "GET /never HTTP/1.1\r\n\r\n", 4096, over, &rec);
  EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
  EXPECT_NE(out.find("too many header fields"), std::string::npos);
  EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u);
  EXPECT_TRUE(over.paths.empty());
  ASSERT_EQ(rec.seen.size(), 1u);
  EXPECT_EQ(rec.seen[0].status, 431);
  EXPECT_EQ(rec.seen[0].endpoint, "");
}

TEST(SessionFraming, TargetNotInOriginFormGets400) {
  for (const std::string target : {"http://x/abs", "*", "/bad%zz", "noslash"}) {
    ScriptedHandler h;
    Recorder rec;
    std::string out = Serve(
        "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\nGET /never HTTP/1.1\r\n\r\n", 4096, h, &rec);
    SCOPED_TRACE(target);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out.substr(0, 200);
    EXPECT_NE(out.find("malformed request target"), std::string::npos);
    EXPECT_EQ(Count(out, "HTTP/1.1 "), 1u);
    EXPECT_TRUE(h.paths.empty());
    ASSERT_EQ(rec.seen.size(), 1u);
    EXPECT_EQ(rec.seen[0].status, 400);
    EXPECT_EQ(rec.seen[0].method, "GET");
  }
}

TEST(SessionFraming, ExceptionInHandlerClosesThatConnectionOnly) {
  ScriptedHandler h;
  Recorder rec;
  boost::asio::io_context ioc;
  boost::asio::thread_pool pool(1);
  SessionContext ctx{h, Limits{}, pool, "test", Admission({})};
  ctx.observer = &rec;
  auto bad = boost::asio::co_spawn(
      ioc,
      ServeBytes("GET /first HTTP/1.1\r\n\r\nGET /boom HTTP/1.1\r\n\r\nGET /never HTTP/1.1\r\n\r\n",
                 3, ctx),
      boost::asio::use_future);
  auto good = boost::asio::co_spawn(
      ioc, ServeBytes("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 3, ctx),
      boost::asio::use_future);
  ioc.run();
  pool.join();
  std::string bad_out = bad.get();
  std::string good_out = good.get();
  // The failed request gets no answer (nothing half-written): the answers
  // before it stand, and nothing after it is read.
  EXPECT_EQ(Count(bad_out, "HTTP/1.1 "), 1u) << bad_out;
  EXPECT_NE(bad_out.find("path=/first"), std::string::npos);
  EXPECT_EQ(bad_out.find("/never"), std::string::npos);
  // The other connection on the same listener is untouched.
  EXPECT_NE(good_out.find("path=/a"), std::string::npos) << good_out;
  EXPECT_NE(good_out.find("path=/b"), std::string::npos) << good_out;
  EXPECT_EQ(std::count(h.paths.begin(), h.paths.end(), "/never"), 0);
  EXPECT_EQ(rec.seen.size(), 3u);  // /first, /a, /b; not /boom
}

TEST(SessionFraming, HeadAnswersCarryTheLengthButNoBody) {
  ScriptedHandler h;
  std::string out =
      Serve("HEAD /head HTTP/1.1\r\n\r\nHEAD /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n", 4096, h);
  // Three answers back to back: nothing of a body sits between them.
  const size_t first_end = out.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos);
  EXPECT_NE(out.substr(0, first_end).find("Content-Length: 1234"), std::string::npos) << out;
  const size_t second = first_end + 4;
  EXPECT_EQ(out.compare(second, 9, "HTTP/1.1 "), 0) << out;
  const size_t second_end = out.find("\r\n\r\n", second);
  // The second HEAD has a body in memory: its size is announced, not sent.
  EXPECT_NE(out.substr(second, second_end - second).find("Content-Length: 7"), std::string::npos)
      << out;
  EXPECT_EQ(out.compare(second_end + 4, 9, "HTTP/1.1 "), 0) << out;
  EXPECT_EQ(out.find("path=/x"), std::string::npos);
  EXPECT_NE(out.find("path=/y"), std::string::npos);
}

TEST(SessionFraming, SmallUnwantedBodyIsDrainedAndTheConnectionKept) {
  ScriptedHandler h;
  std::string body(1000, 'z');
  std::string out = Serve(
      "POST /ignore HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + body + "GET /next HTTP/1.1\r\n\r\n",
      64, h);
  EXPECT_NE(out.find("path=/ignore"), std::string::npos) << out;
  EXPECT_NE(out.find("path=/next"), std::string::npos) << out;
  EXPECT_EQ(out.find("zzz"), std::string::npos);
}

TEST(SessionFraming, LargeUnwantedBodyClosesTheConnection) {
  ScriptedHandler h;
  std::string out = Serve("POST /ignore HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" +
                              std::string(100000, 'z') + "GET /never HTTP/1.1\r\n\r\n",
                          4096, h);
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out.substr(0, 200);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
  EXPECT_EQ(out.find("/never"), std::string::npos);
}

TEST(SessionFraming, SinkRefusalAnswersAndCloses) {
  ScriptedHandler h;
  std::string out = Serve(
      "PUT /refuse HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"
      "GET /never HTTP/1.1\r\n\r\n",
      2, h);
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  EXPECT_EQ(out.find("/never"), std::string::npos);
}

TEST(SessionFraming, ExpectContinueGets100First) {
  ScriptedHandler h;
  std::string out =
      Serve("PUT /body HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", 4096, h);
  EXPECT_EQ(out.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("HTTP/1.1 201"), std::string::npos) << out;
  EXPECT_NE(out.find("body=abc"), std::string::npos);
}

TEST(SessionFraming, BodyCutShortGetsNoAnswer) {
  ScriptedHandler h;
  Recorder rec;
  std::string out = Serve("PUT /body HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 4096, h, &rec);
  EXPECT_EQ(out, "");
  EXPECT_TRUE(rec.seen.empty());
}

TEST(SessionObserver, ToldOfEachRequest) {
  ScriptedHandler h;
  Recorder rec;
  Serve(
      "PUT /body HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      "GET /abc HTTP/1.1\r\n\r\n"
      "HEAD /head HTTP/1.1\r\n\r\n"
      "POST /body2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n",
      5, h, &rec);
  ASSERT_EQ(rec.seen.size(), 4u);
  EXPECT_EQ(rec.seen[0].endpoint, "scripted");
  EXPECT_EQ(rec.seen[0].method, "PUT");
  EXPECT_EQ(rec.seen[0].status, 201);
  EXPECT_EQ(rec.seen[0].bytes_in, 5u);
  EXPECT_EQ(rec.seen[0].bytes_out, std::string("body=hello").size());
  EXPECT_EQ(rec.seen[1].method, "GET");
  EXPECT_EQ(rec.seen[1].status, 200);
  EXPECT_EQ(rec.seen[1].bytes_in, 0u);
  EXPECT_EQ(rec.seen[1].bytes_out, std::string("path=/abc").size());
  EXPECT_EQ(rec.seen[2].method, "HEAD");
  EXPECT_EQ(rec.seen[2].bytes_out, 0u);  // announced 1234, sent nothing
  EXPECT_EQ(rec.seen[3].method, "POST");
  EXPECT_EQ(rec.seen[3].bytes_in, 3u);  // decoded body, not the chunk framing
  EXPECT_EQ(rec.seen[3].bytes_out, std::string("body=xyz").size());
}

TEST(SessionObserver, ToldOfHeadsRefusedWhileReading) {
  {
    ScriptedHandler h;
    Recorder rec;
    std::string out = Serve("GET / XTTP/1.1\r\n\r\n", 4096, h, &rec);
    EXPECT_NE(out.find(" 400 "), std::string::npos) << out;
    ASSERT_EQ(rec.seen.size(), 1u);
    EXPECT_EQ(rec.seen[0].status, 400);
    EXPECT_EQ(rec.seen[0].endpoint, "");
    EXPECT_EQ(rec.seen[0].method, "");
    EXPECT_GT(rec.seen[0].bytes_out, 0u);
  }
  {
    ScriptedHandler h;
    Recorder rec;
    Limits limits;
    limits.max_header_bytes = 1024;
    std::string out = Serve("GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n", 4096,
                            h, &rec, limits);
    EXPECT_NE(out.find(" 431 "), std::string::npos) << out.substr(0, 200);
    ASSERT_EQ(rec.seen.size(), 1u);
    EXPECT_EQ(rec.seen[0].status, 431);
  }
}

}  // namespace
}  // namespace berth::http
