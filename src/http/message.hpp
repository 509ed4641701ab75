// Plain request and response types that the rest of berth sees. They carry
// no Boost.Beast or Asio types, so handlers stay pure and testable without
// sockets; the session (session.cpp) converts to and from the wire.
//
// Thread-safety: values; a Request is owned by one session at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/file.hpp"
#include "common/result.hpp"

namespace berth::http {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup of the first field named `name`.
std::optional<std::string_view> FindField(const Fields& fields, std::string_view name);

struct Request {
  std::string method;  // upper case, as sent
  std::string target;  // as sent (path and query), for logs
  std::string path;    // the raw path, not percent-decoded
  Fields query;        // decoded query parameters, in order
  Fields headers;
  std::optional<uint64_t> content_length;  // when the client sent one
  bool has_body = false;                   // Content-Length > 0 or chunked
  std::string remote;                      // client address
  std::string request_id;
  // Who the bearer token names, set by the registry after authorization for
  // the handlers that record it (webhook events); "" = anonymous or unknown.
  std::string user;
  // Set only by in-process callers that read the answer themselves (the web
  // interface), never from the wire. Non-zero: a blob GET or HEAD is served
  // through berth even where the store would redirect the client (an S3
  // presigned URL, which the page's content security policy may not
  // follow), and a blob larger than this many bytes is refused (413)
  // rather than proxied.
  uint64_t inline_blob_limit = 0;

  std::optional<std::string_view> Header(std::string_view name) const {
    return FindField(headers, name);
  }
  std::optional<std::string_view> Query(std::string_view name) const {
    return FindField(query, name);
  }
};

// A region of an open file to send as the body. When `stream` is set, `fd`
// is the read end of a pipe that yields exactly `length` bytes (`offset` is
// ignored): the session reads it without blocking, closes the connection if
// it ends early, and closes `fd` when done or when the client goes away, so
// the producer sees EPIPE.
struct FileRegion {
  UniqueFd fd;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool stream = false;
};

struct Response {
  int status = 200;
  Fields headers;
  std::string body;
  // When set, the body is this file region instead of `body`.
  std::optional<FileRegion> file;
  // For HEAD: the Content-Length to announce though no body is sent.
  std::optional<uint64_t> head_length;

  Response& Set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// Consumes a request body as it arrives. Write is called on the network
// thread for each piece, so it must not block for long (a file append is fine).
// Finish is called at most once; a sink may also be destroyed without it (the
// request failed with an exception), so its destructor must release what it
// holds.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Takes the next piece of the body. A non-ok Status stops the upload: the
  // session reads no more and calls Finish with that Status.
  virtual Status Write(std::span<const char> data) = 0;
  // The whole body was read (`body` ok), or Write or reading failed (`body`
  // says why). Called on the blocking pool; returns the response to send.
  virtual Response Finish(const Status& body) = 0;
};
using BodySinkPtr = std::unique_ptr<BodySink>;

// What a handler decides from the headers: answer now, or stream the body
// into a sink that produces the answer.
struct Outcome {
  Response response;
  BodySinkPtr sink;
  std::string user;  // who made the request, for the access log ("" = anonymous)
  // The handler's name for what was asked ("manifest", "token"), for
  // metrics; static storage. Empty: the request named nothing known.
  std::string_view endpoint;

  static Outcome Reply(Response r) { return {std::move(r), nullptr, {}, {}}; }
  static Outcome Stream(BodySinkPtr s) { return {Response{}, std::move(s), {}, {}}; }
};

// What a session reports of each request it answered.
struct RequestRecord {
  std::string_view endpoint;  // Outcome::endpoint; empty when Handle never ran
  std::string_view method;    // as sent
  int status = 0;
  uint64_t bytes_in = 0;   // request body bytes read
  uint64_t bytes_out = 0;  // response body bytes sent
  double seconds = 0;      // from the end of the head to the last byte sent
};

// Told of every answered request on a listener (metrics). Observe runs on
// the I/O thread of the connection, on the request path: it must be cheap
// and never block.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void Observe(const RequestRecord& record) = 0;
};

// The application behind a listener. Handle runs on the blocking pool (it may
// use the stores), or on the I/O thread when Quick says so; it sees the
// headers only.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual Outcome Handle(const Request& request) = 0;
  // Whether Handle may run `request` on the I/O thread. Only for answers
  // made from memory, the metadata readers and the page cache: never a wait
  // on the network, a lock held across an fsync, or an fsync. It saves the
  // two thread hand-offs of the blocking pool, which were most of the CPU of
  // a small request.
  virtual bool Quick(const Request& request) const {
    (void)request;
    return false;
  }
  // The answer to a request that never reached Handle (malformed, too-large
  // headers): `status` with a short reason.
  virtual Response Reject(int status, std::string_view reason) = 0;
};

}  // namespace berth::http
