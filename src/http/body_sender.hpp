// Sends a FileRegion as a response body, after its head: a regular file with
// sendfile(2) (plain connections) or pread (TLS, in memory), a pipe (a
// streamed blob, FileRegion::stream) with non-blocking reads on the I/O
// thread. A watchdog cuts the connection when the body makes no progress for
// write_timeout, whether the client or a pipe's producer stalls. Split out of
// session.cpp, which instantiates it for its three stream types. Internal to
// http/.
//
// Thread-safety: one call per connection at a time, on its executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/message.hpp"

namespace berth::http {

struct BodySendContext {
  const std::string& name;    // the listener's, for logs
  const std::string& remote;  // the client's, for logs
  std::chrono::seconds write_timeout;
  char* chunk;  // scratch buffer of chunk_size bytes, for pread and pipe reads
  size_t chunk_size;
};

// Writes `head` (status and fields set; its Content-Length is set here to
// file.length), then exactly file.length bytes of `file`. Returns false when
// the connection must close: write failure, no progress for write_timeout,
// or a body that ended early or failed to read (logged), since the announced
// length can then no longer be honoured. `sent` (may be null) counts the
// body bytes written. A pipe's read end is left open for the caller's
// FileRegion to close, which tells its producer (EPIPE) when we stopped early.
template <typename Stream>
boost::asio::awaitable<bool> SendFileBody(
    Stream& stream, boost::beast::http::response<boost::beast::http::buffer_body>& head,
    FileRegion& file, const BodySendContext& ctx, uint64_t* sent);

}  // namespace berth::http
