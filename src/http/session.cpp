#include "http/session.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstring>
#include <optional>
#include <algorithm>
#include <memory>
#include <vector>

#include "common/log_text.hpp"
#include "http/accepted_connection.hpp"
#include "http/admission.hpp"
#include "http/blocking.hpp"
#include "http/body_sender.hpp"
#include "http/chunked.hpp"
#include "http/memory_stream.hpp"
#include "http/request_head.hpp"
#include "http/tls_stream.hpp"

namespace berth::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Body pieces are read and written in chunks of this size: the memory a
// connection holds whatever the blob size.
constexpr size_t kChunk = 256 * 1024;
// Most bytes the read buffer between requests may hold (request heads are
// bounded by Limits::max_header_bytes, which must fit in it).
constexpr size_t kMaxReadBuffer = 64 * 1024;
// Most header fields in one request; more get 431 like a too-large head.
constexpr size_t kMaxFields = 100;
// A body the handler did not want is read and dropped when at most this big,
// so the connection can be kept; larger ones close it.
constexpr uint64_t kMaxDrain = 64 * 1024;
// Deadline of a connection admitted only for a health check.
constexpr std::chrono::milliseconds kHealthOnlyTimeout{5'000};

// Body chunks are kept per I/O thread between requests, so that an idle
// keep-alive connection holds no chunk and a busy one does not fault in fresh
// memory for every request (fresh pages are the expensive ones here).
class ChunkPool {
 public:
  static std::unique_ptr<char[]> Take() {
    auto& free = List();
    if (free.empty()) return std::make_unique<char[]>(kChunk);
    auto c = std::move(free.back());
    free.pop_back();
    return c;
  }
  static void Give(std::unique_ptr<char[]> c) {
    auto& free = List();
    if (c && free.size() < kKeep) free.push_back(std::move(c));
  }

 private:
  static constexpr size_t kKeep = 8;
  static std::vector<std::unique_ptr<char[]>>& List() {
    thread_local std::vector<std::unique_ptr<char[]>> free;
    return free;
  }
};

template <typename Stream>
auto& Lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

template <typename Stream>
class Session {
 public:
  Session(Stream& stream, SessionContext& ctx, std::string remote, Connection& conn,
          bool health_only)
      : stream_(stream),
        ctx_(ctx),
        remote_(std::move(remote)),
        conn_(conn),
        health_only_(health_only),
        buffer_(std::max(kMaxReadBuffer, ctx.limits.max_header_bytes + 1024)) {}

  ~Session() { ChunkPool::Give(std::move(chunk_)); }

  asio::awaitable<void> Run() {
    while (true) {
      bool keep = false;
      // The session boundary: whatever a request makes throw (a bug, or a
      // library refusing hostile input) ends this connection, never the
      // process or the other connections.
      try {
        keep = co_await One();
      } catch (const std::exception& e) {
        spdlog::error("{} {}: rid={} request failed with an exception, closing the connection: {}",
                      ctx_.name, remote_, rid_.empty() ? "-" : rid_, e.what());
        keep = false;
      }
      ChunkPool::Give(std::move(chunk_));
      if (!keep || health_only_ || ctx_.stopping.load()) break;
    }
  }

 private:
  // Serves one request; returns whether to keep the connection.
  asio::awaitable<bool> One() {
    rid_.clear();
    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.header_limit(static_cast<uint32_t>(ctx_.limits.max_header_bytes));
    parser.body_limit(boost::none);  // the handler's sink enforces its own limit
    // A health-only connection (admitted past the connection limit) gets a
    // short deadline: it exists for one quick check.
    Lowest(stream_).expires_after(health_only_
                                      ? std::min(ctx_.limits.header_timeout, kHealthOnlyTimeout)
                                      : ctx_.limits.header_timeout);
    conn_.idle = buffer_.size() == 0;
    // An idle keep-alive connection keeps no more than a small buffer.
    if (conn_.idle && buffer_.capacity() > 4096) buffer_.shrink_to_fit();
    auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer_, parser, kTuple);
    conn_.idle = false;
    if (ec) {
      // A head that cannot be read is still answered, and observed (with no
      // endpoint or method: there is none to trust).
      std::optional<Response> refusal;
      if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
        refusal = ctx_.handler.Reject(431, "request header fields too large");
      } else if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
                 ec != asio::error::eof && ec != asio::error::connection_reset &&
                 ec != asio::ssl::error::stream_truncated && ec != asio::error::operation_aborted &&
                 ec != asio::error::bad_descriptor) {
        spdlog::debug("{} {}: bad request: {}", ctx_.name, remote_, ec.message());
        refusal = ctx_.handler.Reject(400, "malformed HTTP request");
      }
      if (refusal) {
        const auto start = Clock::now();
        uint64_t sent = 0;
        co_await Send(std::move(*refusal), false, false, &sent);
        if (ctx_.observer) {
          ctx_.observer->Observe({{},
                                  {},
                                  last_status_,
                                  0,
                                  sent,
                                  std::chrono::duration<double>(Clock::now() - start).count()});
        }
      }
      co_return false;
    }
    const auto start = Clock::now();
    Request req;
    req.remote = ctx_.limits.trusted_proxies.empty() ? remote_ : ClientOf(parser.get());
    req.request_id = NextRequestId();
    rid_ = req.request_id;
    const bool is_head = parser.get().method() == bhttp::verb::head;
    http10_ = parser.get().version() < 11;
    bool keep = parser.get().keep_alive() && !ctx_.stopping.load() && !health_only_;
    Response res;
    std::string user;
    std::string_view endpoint;
    body_in_ = 0;
    size_t fields = 0;
    for (auto it = parser.get().begin(); it != parser.get().end() && fields <= kMaxFields; ++it)
      ++fields;
    if (fields > kMaxFields) {
      res = ctx_.handler.Reject(431, "too many header fields");
      keep = false;
    } else if (!BuildRequest(parser, req)) {
      res = ctx_.handler.Reject(400, "malformed request target");
      keep = false;
    } else if (UnframedTransferEncoding(parser)) {
      res = ctx_.handler.Reject(400, "transfer coding other than chunked");
      keep = false;
    } else if (health_only_ && req.path != "/healthz" && req.path != "/readyz") {
      res = ctx_.handler.Reject(503, "server busy: too many connections");
      res.Set("Retry-After", "1");
      keep = false;
    } else {
      // Not a ?: expression: GCC 12 miscompiles co_await inside one.
      Outcome out;
      if (ctx_.handler.Quick(req)) {
        out = ctx_.handler.Handle(req);
      } else {
        out = co_await RunBlocking(ctx_.pool, [&] { return ctx_.handler.Handle(req); });
      }
      user = std::move(out.user);
      endpoint = out.endpoint;
      if (out.sink) {
        bool complete = false;
        auto body = co_await ReadBody(parser, *out.sink, complete);
        if (!body) co_return false;  // connection lost: nobody to answer
        res = co_await RunBlocking(ctx_.pool, [&] { return out.sink->Finish(*body); });
        if (!complete) keep = false;
      } else {
        res = std::move(out.response);
        if (!parser.is_done() && !(co_await Drain(parser))) keep = false;
      }
    }
    if (close_after_) keep = false;
    uint64_t sent = 0;
    bool ok = co_await Send(std::move(res), keep, is_head, &sent);
    Log(req, user, last_status_, sent, start);
    if (ctx_.observer) {
      ctx_.observer->Observe({endpoint, req.method, last_status_, body_in_, sent,
                              std::chrono::duration<double>(Clock::now() - start).count()});
    }
    co_return ok&& keep;
  }

  // Streams the body into `sink`. Returns the body status, or nullopt when
  // the connection failed and the request is abandoned (the sink is then
  // told, so it can roll back). `complete` says whether the whole body was
  // read, so that the connection can be kept.
  asio::awaitable<std::optional<Status>> ReadBody(bhttp::request_parser<bhttp::buffer_body>& parser,
                                                  BodySink& sink, bool& complete) {
    const auto& msg = parser.get();
    if (auto expect = msg[bhttp::field::expect]; beast::iequals(expect, "100-continue")) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
      Lowest(stream_).expires_after(ctx_.limits.write_timeout);
      auto [ec, n] = co_await bhttp::async_write(stream_, cont, kTuple);
      if (ec) {
        co_await Abandon(sink);
        co_return std::nullopt;
      }
    }
    if (!chunk_) chunk_ = ChunkPool::Take();
    std::optional<Status> result;
    if (parser.chunked()) {
      result = co_await ReadChunked(sink);
    } else {
      result = co_await ReadSized(parser.content_length().value_or(0), sink);
    }
    if (!result) {
      co_await Abandon(sink);
      co_return std::nullopt;
    }
    // Both readers return ok only after the last byte of the body.
    complete = result->ok();
    co_return result;
  }

  // Reaps bodies that trickle in: over each window of body_timeout the body
  // must arrive at min_body_rate on average (a byte per minute would
  // otherwise hold a connection and its buffers for as long as it likes).
  class RateCheck {
   public:
    explicit RateCheck(const Limits& l) : limits_(l), start_(Clock::now()) {}
    // Counts `n` more bytes; false when the body is too slow.
    bool Add(size_t n) {
      bytes_ += n;
      if (limits_.min_body_rate == 0) return true;
      const auto elapsed = Clock::now() - start_;
      if (elapsed < limits_.body_timeout) return true;
      const double seconds = std::chrono::duration<double>(elapsed).count();
      if (static_cast<double>(bytes_) < seconds * static_cast<double>(limits_.min_body_rate))
        return false;
      start_ = Clock::now();
      bytes_ = 0;
      return true;
    }

   private:
    const Limits& limits_;
    Clock::time_point start_;
    uint64_t bytes_ = 0;
  };

  // A body of known length: straight from the socket into the chunk, past
  // Beast's parser, so each byte is copied once on its way to the sink.
  // nullopt when the connection failed.
  asio::awaitable<std::optional<Status>> ReadSized(uint64_t length, BodySink& sink) {
    uint64_t left = length;
    // Body bytes that arrived with the head.
    if (size_t early = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), left)); early > 0) {
      Status s = Feed(sink, {static_cast<const char*>(buffer_.data().data()), early});
      buffer_.consume(early);
      left -= early;
      if (!s.ok()) co_return s;
    }
    RateCheck rate(ctx_.limits);
    while (left > 0) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, left));
      size_t got = 0;
      while (got < want) {  // fill the chunk: fewer, larger appends and hash updates
        Lowest(stream_).expires_after(ctx_.limits.body_timeout);
        auto [ec, n] =
            co_await stream_.async_read_some(asio::buffer(chunk_.get() + got, want - got), kTuple);
        if (ec) {
          spdlog::debug("{} {}: body read failed: {}", ctx_.name, remote_, ec.message());
          co_return std::nullopt;
        }
        got += n;
        if (!rate.Add(n)) co_return TooSlow();
      }
      left -= got;
      if (Status s = Feed(sink, {chunk_.get(), got}); !s.ok()) co_return s;
    }
    co_return Status::Ok();
  }

  // A chunked body, decoded in place in the chunk by our own bounded decoder
  // (see chunked.hpp for why not Beast's parser).
  asio::awaitable<std::optional<Status>> ReadChunked(BodySink& sink) {
    ChunkedDecoder decoder;
    RateCheck rate(ctx_.limits);
    // Bytes that arrived with the head; the buffer's maximum is below kChunk.
    size_t have = std::min(buffer_.size(), kChunk);
    std::memcpy(chunk_.get(), buffer_.data().data(), have);
    buffer_.consume(have);
    while (true) {
      if (have > 0) {
        auto decoded = decoder.Decode(chunk_.get(), have);
        if (!decoded) {
          close_after_ = true;
          co_return decoded.status();
        }
        if (decoded->body > 0) {
          if (Status s = Feed(sink, {chunk_.get(), decoded->body}); !s.ok()) co_return s;
        }
        if (decoder.done()) {
          KeepPipelined(chunk_.get() + decoded->consumed, have - decoded->consumed);
          co_return Status::Ok();
        }
      }
      Lowest(stream_).expires_after(ctx_.limits.body_timeout);
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(chunk_.get(), kChunk), kTuple);
      if (ec) {
        spdlog::debug("{} {}: body read failed: {}", ctx_.name, remote_, ec.message());
        co_return std::nullopt;
      }
      have = n;
      if (!rate.Add(n)) co_return TooSlow();
    }
  }

  // Bytes after a chunked body belong to the next request: back into the
  // read buffer, or, when they do not fit, the connection ends after this
  // answer.
  void KeepPipelined(const char* data, size_t n) {
    if (n == 0) return;
    if (n > buffer_.max_size() - buffer_.size()) {
      close_after_ = true;
      return;
    }
    auto space = buffer_.prepare(n);
    std::memcpy(space.data(), data, n);
    buffer_.commit(n);
  }

  Status TooSlow() {
    close_after_ = true;
    spdlog::info("{} {}: rid={} body slower than {} bytes/s; closing", ctx_.name, remote_, rid_,
                 ctx_.limits.min_body_rate);
    return Status(Errc::kBlobUploadInvalid, "request body too slow");
  }

  asio::awaitable<void> Abandon(BodySink& sink) {
    co_await RunBlocking(ctx_.pool, [&] {
      return sink.Finish(Status(Errc::kBlobUploadInvalid, "client went away mid-body")).status;
    });
  }

  // Reads and drops a small unwanted body; false when it should close instead.
  asio::awaitable<bool> Drain(bhttp::request_parser<bhttp::buffer_body>& parser) {
    auto cl = parser.content_length();
    if (!cl || *cl > kMaxDrain) co_return false;
    std::array<char, 4096> sink{};
    while (!parser.is_done()) {
      auto& body = parser.get().body();
      body.data = sink.data();
      body.size = sink.size();
      Lowest(stream_).expires_after(ctx_.limits.body_timeout);
      auto [ec, n] = co_await bhttp::async_read(stream_, buffer_, parser, kTuple);
      if (ec && ec != bhttp::error::need_buffer) co_return false;
    }
    co_return true;
  }

  // Sends `res`; for HEAD only the head with the announced length.
  asio::awaitable<bool> Send(Response res, bool keep, bool head_only, uint64_t* sent = nullptr) {
    last_status_ = res.status;
    Lowest(stream_).expires_after(ctx_.limits.write_timeout);
    // Takes the response explicitly: SendFile gets `res` moved into it.
    auto fill = [keep, http10 = http10_](auto& m, const Response& r) {
      m.result(static_cast<unsigned>(r.status));
      m.version(11);
      for (const auto& [k, v] : r.headers) m.insert(k, v);
      m.keep_alive(keep);
      // An HTTP/1.0 client takes an answer without "Connection: keep-alive"
      // as the last one and waits for the close (RFC 9112 §9.3); an HTTP/1.1
      // answer keeps the connection without saying so.
      if (keep && http10) m.set(bhttp::field::connection, "keep-alive");
    };
    if (head_only) {
      bhttp::response<bhttp::empty_body> m;
      fill(m, res);
      uint64_t len =
          res.head_length ? *res.head_length : (res.file ? res.file->length : res.body.size());
      m.content_length(len);
      auto [ec, n] = co_await bhttp::async_write(stream_, m, kTuple);
      co_return !ec;
    }
    if (!res.file) {
      bhttp::response<bhttp::string_body> m;
      fill(m, res);
      m.body() = std::move(res.body);
      m.prepare_payload();
      auto [ec, n] = co_await bhttp::async_write(stream_, m, kTuple);
      if (sent) *sent = m.body().size();
      co_return !ec;
    }
    co_return co_await SendFile(std::move(res), fill, sent);
  }

  template <typename Fill>
  asio::awaitable<bool> SendFile(Response res, Fill& fill, uint64_t* sent) {
    bhttp::response<bhttp::buffer_body> m;
    fill(m, res);
    if (!chunk_) chunk_ = ChunkPool::Take();
    const BodySendContext body{ctx_.name, remote_, ctx_.limits.write_timeout, chunk_.get(), kChunk};
    // `res` owns the file: returning closes it (a pipe's producer then stops).
    co_return co_await SendFileBody(stream_, m, *res.file, body, sent);
  }

  // Hands a piece of the body to the sink, counting it for the observer.
  Status Feed(BodySink& sink, std::span<const char> data) {
    body_in_ += data.size();
    return sink.Write(data);
  }

  // One access line. Method, target and user come from the client (the user
  // from a token's subject), so they are escaped and capped: a newline must
  // not be able to forge a line.
  void Log(const Request& req, const std::string& user, int status, uint64_t bytes,
           Clock::time_point start) {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    // Behind a trusted proxy the client comes from X-Forwarded-For; the
    // proxy's own address follows as via=.
    const std::string client = req.remote == remote_ ? remote_ : req.remote + " via=" + remote_;
    spdlog::info(
        "access {} rid={} client={} user={} method={} target=\"{}\" status={} bytes={} "
        "dur_ms={:.2f}",
        ctx_.name, req.request_id, client, LogSafe(user), LogSafe(req.method, 16),
        LogSafe(req.target, 1024), status, bytes, ms);
  }

  Stream& stream_;
  SessionContext& ctx_;
  // The client behind a trusted proxy: every X-Forwarded-For field of the
  // request, joined in order, read from the right (trusted_proxies.hpp).
  template <class Message>
  std::string ClientOf(const Message& m) const {
    std::string joined;
    for (const auto& f : m) {
      if (!beast::iequals(f.name_string(), "x-forwarded-for")) continue;
      if (!joined.empty()) joined += ',';
      joined.append(f.value().data(), f.value().size());
    }
    return ctx_.limits.trusted_proxies.ClientOf(remote_, joined);
  }

  const std::string remote_;
  Connection& conn_;
  const bool health_only_;
  beast::flat_buffer buffer_;  // bounded: see the constructor
  std::unique_ptr<char[]> chunk_;
  std::string rid_;  // id of the request being served, for logs
  bool close_after_ = false;
  bool http10_ = false;  // the request being answered is HTTP/1.0
  int last_status_ = 0;
  uint64_t body_in_ = 0;  // body bytes of the request being served
};

}  // namespace

asio::awaitable<void> ServePlain(asio::ip::tcp::socket socket, SessionContext& ctx) {
  Admitted admitted(ctx, socket);
  if (admitted.how() == Admit::kRefuse) {
    LogRefused(ctx, admitted.address());
    co_return;
  }
  std::string remote = RemoteOf(socket);
  beast::tcp_stream stream(std::move(socket));
  admitted.Arm(stream.socket());
  Session<beast::tcp_stream> session(stream, ctx, remote, admitted.connection(),
                                     admitted.how() == Admit::kHealthOnly);
  co_await session.Run();
  co_await LingeringClose(stream);
}

asio::awaitable<void> ServeTls(asio::ip::tcp::socket socket,
                               std::shared_ptr<asio::ssl::context> tls, SessionContext& ctx) {
  Admitted admitted(ctx, socket);
  if (admitted.how() == Admit::kRefuse) {
    LogRefused(ctx, admitted.address());
    co_return;
  }
  std::string remote = RemoteOf(socket);
  TlsStream stream(std::move(socket), std::move(tls));
  admitted.Arm(Lowest(stream).socket());
  const bool health_only = admitted.how() == Admit::kHealthOnly;
  admitted.connection().idle = true;  // a shutdown need not wait for a handshake
  Lowest(stream).expires_after(health_only ? std::min(ctx.limits.header_timeout, kHealthOnlyTimeout)
                                           : ctx.limits.header_timeout);
  auto [ec] = co_await stream.async_handshake(kTuple);
  if (ec) {
    spdlog::debug("{} {}: TLS handshake failed: {}", ctx.name, remote, ec.message());
    co_return;
  }
  Session<TlsStream> session(stream, ctx, remote, admitted.connection(), health_only);
  co_await session.Run();
  Lowest(stream).expires_after(std::chrono::seconds(2));
  auto [sec] = co_await stream.async_shutdown(kTuple);
  (void)sec;  // a peer that closes without close_notify is common and harmless
  co_await LingeringClose(Lowest(stream));
}

asio::awaitable<std::string> ServeBytes(std::string input, size_t piece, SessionContext& ctx) {
  MemoryStream stream(co_await asio::this_coro::executor, std::move(input), piece);
  Connection conn;
  Session<MemoryStream> session(stream, ctx, "memory", conn, false);
  co_await session.Run();
  co_return stream.output();
}

}  // namespace berth::http
