#include "http/body_sender.hpp"

#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <tuple>
#include <type_traits>

#include "http/memory_stream.hpp"
#include "http/tls_stream.hpp"

namespace berth::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Serializer = bhttp::response_serializer<bhttp::buffer_body>;
using Head = bhttp::response<bhttp::buffer_body>;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What the sender and its watchdog share. Both run on the connection's
// executor, so no lock: the watchdog looks at it only between the sender's
// steps.
struct Progress {
  explicit Progress(const asio::any_io_executor& ex) : timer(ex) {}
  uint64_t bytes = 0;  // body bytes written so far
  bool done = false;   // the sender returned: touch nothing else
  asio::steady_timer timer;
  asio::posix::stream_descriptor* pipe = nullptr;  // while a streamed body is read
};

// A streamed blob's pipe, non-blocking, for the reactor's waits. The
// FileRegion keeps owning the descriptor (its owner closes it, which is what
// tells the producer to stop); this only borrows it, and lets the watchdog
// cancel a waiting read through `progress` meanwhile. `ec` says whether it
// could be set up.
class BorrowedPipe {
 public:
  BorrowedPipe(const asio::any_io_executor& ex, int fd, Progress& progress,
               boost::system::error_code& ec)
      : pipe_(ex), progress_(progress) {
    if (ec) return;
    pipe_.assign(fd, ec);
    if (!ec) pipe_.non_blocking(true, ec);
    if (!ec) progress_.pipe = &pipe_;
  }
  ~BorrowedPipe() {
    progress_.pipe = nullptr;
    if (pipe_.is_open()) (void)pipe_.release();
  }
  BorrowedPipe(const BorrowedPipe&) = delete;
  BorrowedPipe& operator=(const BorrowedPipe&) = delete;
  asio::posix::stream_descriptor& get() { return pipe_; }

 private:
  asio::posix::stream_descriptor pipe_;
  Progress& progress_;
};

// Cuts the connection when a body made no progress for write_timeout: the
// client stopped reading, or a pipe's producer stopped writing. Closing the
// socket ends a waiting write; cancelling the pipe ends a waiting read.
template <typename Stream>
asio::awaitable<void> Watchdog(Stream& stream, std::shared_ptr<Progress> p, std::string name,
                               std::string remote, std::chrono::seconds period) {
  uint64_t seen = 0;
  while (!p->done) {
    p->timer.expires_after(period);
    auto [ec] = co_await p->timer.async_wait(kTuple);
    if (p->done || ec == asio::error::operation_aborted) co_return;
    if (p->bytes == seen) {
      spdlog::info("{} {}: no progress sending a blob for {} s; closing", name, remote,
                   period.count());
      boost::system::error_code ignored;
      beast::get_lowest_layer(stream).socket().close(ignored);
      if (p->pipe) p->pipe->cancel(ignored);
      co_return;
    }
    seen = p->bytes;
  }
}

// The body of a plain connection from a regular file: sendfile(2) moves it
// from the page cache to the socket without passing through this process.
asio::awaitable<bool> SendZeroCopy(beast::tcp_stream& stream, const FileRegion& file,
                                   const BodySendContext& ctx, Progress& progress, uint64_t* sent) {
  auto& socket = stream.socket();
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  if (ec) co_return false;
  off_t off = static_cast<off_t>(file.offset);
  uint64_t left = file.length;
  while (left > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(left, size_t{1} << 30));
    ssize_t n = ::sendfile(socket.native_handle(), file.fd.get(), &off, want);
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
      progress.bytes += static_cast<uint64_t>(n);
      if (sent) *sent += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto [wec] = co_await socket.async_wait(asio::ip::tcp::socket::wait_write, kTuple);
      if (wec) co_return false;  // closed by the watchdog, or the peer went away
      continue;
    }
    if (n == 0) {
      // The file shrank under us: the announced length cannot be honoured.
      spdlog::error("{}: blob file ended early while sending it", ctx.name);
    } else if (errno != EPIPE && errno != ECONNRESET) {
      spdlog::error("{}: sendfile failed: {}", ctx.name, std::strerror(errno));
    }
    co_return false;
  }
  co_return true;
}

// A streamed blob on a plain connection: splice(2) moves the pipe's pages
// to the socket, where reading them into the chunk and sending that would
// copy every byte twice (a pull from S3 was mostly such copies). The waits
// are the reactor's, as in SendPipe; the watchdog bounds them.
asio::awaitable<bool> SplicePipe(beast::tcp_stream& stream, const FileRegion& file,
                                 const BodySendContext& ctx, Progress& progress, uint64_t* sent) {
  auto& socket = stream.socket();
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  BorrowedPipe borrowed(stream.get_executor(), file.fd.get(), progress, ec);
  if (ec) {
    spdlog::error("{}: cannot send a streamed blob: {}", ctx.name, ec.message());
    co_return false;
  }
  asio::posix::stream_descriptor& pipe = borrowed.get();
  uint64_t left = file.length;
  while (left > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(left, size_t{1} << 20));
    ssize_t n = ::splice(file.fd.get(), nullptr, socket.native_handle(), nullptr, want,
                         SPLICE_F_MOVE | SPLICE_F_MORE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
      progress.bytes += static_cast<uint64_t>(n);
      if (sent) *sent += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      // Either side may be the one not ready: an empty pipe waits for its
      // producer, a non-empty one for the socket.
      int queued = 0;
      boost::system::error_code wec;
      if (::ioctl(file.fd.get(), FIONREAD, &queued) == 0 && queued == 0) {
        std::tie(wec) = co_await pipe.async_wait(asio::posix::stream_descriptor::wait_read, kTuple);
      } else {
        std::tie(wec) = co_await socket.async_wait(asio::ip::tcp::socket::wait_write, kTuple);
      }
      if (wec) co_return false;  // the watchdog, or the peer went away
      continue;
    }
    if (n == 0) {
      spdlog::error("{} {}: streamed blob ended {} bytes early; closing the connection", ctx.name,
                    ctx.remote, left);
    } else if (errno != EPIPE && errno != ECONNRESET) {
      spdlog::error("{} {}: splicing a streamed blob failed: {}; closing the connection", ctx.name,
                    ctx.remote, std::strerror(errno));
    }
    co_return false;
  }
  co_return true;
}

// Writes `n` bytes of the chunk as the next piece of the body.
template <typename Stream>
asio::awaitable<bool> WritePiece(Stream& stream, Serializer& sr, Head& m,
                                 const BodySendContext& ctx, size_t n, Progress& progress,
                                 uint64_t* sent) {
  m.body().data = ctx.chunk;
  m.body().size = n;
  m.body().more = true;
  auto [wec, wn] = co_await bhttp::async_write(stream, sr, kTuple);
  if (wec == bhttp::error::need_buffer) wec = {};
  if (wec) co_return false;
  progress.bytes += n;
  if (sent) *sent += n;
  co_return true;
}

// A regular file through the chunk (TLS must encrypt it in this process).
template <typename Stream>
asio::awaitable<bool> SendRead(Stream& stream, Serializer& sr, Head& m, const FileRegion& file,
                               const BodySendContext& ctx, Progress& progress, uint64_t* sent) {
  uint64_t off = file.offset;
  uint64_t left = file.length;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(ctx.chunk_size, left));
    ssize_t got = ::pread(file.fd.get(), ctx.chunk, want, static_cast<off_t>(off));
    if (got <= 0) {
      // The file shrank or failed under us: we cannot honour the length we
      // announced, so the only honest thing is to cut the connection.
      spdlog::error("{}: read failed while sending a blob", ctx.name);
      co_return false;
    }
    if (!co_await WritePiece(stream, sr, m, ctx, static_cast<size_t>(got), progress, sent))
      co_return false;
    off += static_cast<uint64_t>(got);
    left -= static_cast<uint64_t>(got);
  }
  co_return true;
}

// A streamed blob: the read end of a pipe, read without blocking the I/O
// thread. Its producer may be slow (a remote store), so each read waits in
// the reactor like a socket read; the watchdog bounds the wait.
template <typename Stream>
asio::awaitable<bool> SendPipe(Stream& stream, Serializer& sr, Head& m, const FileRegion& file,
                               const BodySendContext& ctx, Progress& progress, uint64_t* sent) {
  boost::system::error_code ec;
  BorrowedPipe borrowed(stream.get_executor(), file.fd.get(), progress, ec);
  if (ec) {
    spdlog::error("{}: cannot read a streamed blob: {}", ctx.name, ec.message());
    co_return false;
  }
  asio::posix::stream_descriptor& pipe = borrowed.get();
  uint64_t left = file.length;
  while (left > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(ctx.chunk_size, left));
    auto [rec, got] = co_await pipe.async_read_some(asio::buffer(ctx.chunk, want), kTuple);
    if (rec) {
      if (rec == asio::error::eof) {
        spdlog::error("{} {}: streamed blob ended {} bytes early; closing the connection", ctx.name,
                      ctx.remote, left);
      } else if (rec != asio::error::operation_aborted) {  // aborted: the watchdog said why
        spdlog::error("{} {}: reading a streamed blob failed: {}; closing the connection", ctx.name,
                      ctx.remote, rec.message());
      }
      co_return false;
    }
    if (!co_await WritePiece(stream, sr, m, ctx, got, progress, sent)) co_return false;
    left -= got;
  }
  co_return true;
}

}  // namespace

template <typename Stream>
asio::awaitable<bool> SendFileBody(Stream& stream, Head& head, FileRegion& file,
                                   const BodySendContext& ctx, uint64_t* sent) {
  head.content_length(file.length);
  head.body().data = nullptr;
  head.body().more = true;
  Serializer sr{head};
  auto [ec, n] = co_await bhttp::async_write_header(stream, sr, kTuple);
  if (ec) co_return false;
  // A per-operation timeout would re-arm a timer for every TLS record
  // (16 KiB): a timerfd_settime, an epoll_ctl and an epoll_wait each, which
  // was most of a TLS pull's CPU. Instead a watchdog checks progress once
  // per write_timeout and cuts a connection that made none.
  beast::get_lowest_layer(stream).expires_never();
  auto progress = std::make_shared<Progress>(stream.get_executor());
  asio::co_spawn(stream.get_executor(),
                 Watchdog(stream, progress, ctx.name, ctx.remote, ctx.write_timeout),
                 asio::detached);
  struct Stop {
    std::shared_ptr<Progress> p;
    // cancel() throws only when the reactor fails (epoll_ctl), a broken
    // process that std::terminate should end.
    // NOLINTNEXTLINE(bugprone-exception-escape)
    ~Stop() {
      p->done = true;
      p->timer.cancel();
    }
  } stop{progress};
  bool ok = false;
  if (file.stream) {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      co_return co_await SplicePipe(stream, file, ctx, *progress, sent);
    } else {
      ok = co_await SendPipe(stream, sr, head, file, ctx, *progress, sent);
    }
  } else if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    co_return co_await SendZeroCopy(stream, file, ctx, *progress, sent);
  } else {
    ok = co_await SendRead(stream, sr, head, file, ctx, *progress, sent);
  }
  if (!ok) co_return false;
  head.body().data = nullptr;
  head.body().size = 0;
  head.body().more = false;
  beast::get_lowest_layer(stream).expires_after(ctx.write_timeout);
  auto [fec, fn] = co_await bhttp::async_write(stream, sr, kTuple);
  co_return !fec;
}

template asio::awaitable<bool> SendFileBody<beast::tcp_stream>(beast::tcp_stream&, Head&,
                                                               FileRegion&, const BodySendContext&,
                                                               uint64_t*);
template asio::awaitable<bool> SendFileBody<TlsStream>(TlsStream&, Head&, FileRegion&,
                                                       const BodySendContext&, uint64_t*);
template asio::awaitable<bool> SendFileBody<MemoryStream>(MemoryStream&, Head&, FileRegion&,
                                                          const BodySendContext&, uint64_t*);

}  // namespace berth::http
