// Internal to s3/: one S3 call as libcurl sees it. `Call` says what to send
// and how to read the answer, `Exchange` collects the answer, and the
// callbacks below move bytes between them and curl. Also the two tables that
// turn S3 error codes and curl failures into an Errc.
//
// Thread-safety: a Call and its Exchange belong to one transfer at a time.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "s3/sigv4.hpp"
#include "s3/xml.hpp"

namespace berth::s3::detail {

// Non-2xx bodies are read only to find the S3 error code.
inline constexpr size_t kErrorBodyLimit = 64 * 1024;

struct Body {
  // Either in memory (`mem`) or `length` bytes of `fd` from `offset`.
  std::string_view mem{};
  int fd = -1;
  uint64_t offset = 0;
  uint64_t length = 0;
  // Sent as UNSIGNED-PAYLOAD rather than signed with its SHA-256: large
  // bodies (parts) whose bytes berth verifies by its own digest. A file
  // body is always unsigned.
  bool unsigned_payload = false;
};

// One S3 call: what to send and how to read the answer.
struct Call {
  const char* op = "";  // S3 operation name, for messages: "PutObject"
  std::string method{};
  std::string key{};  // "" for bucket calls
  sigv4::Params query{};
  sigv4::Params signed_headers{};          // x-amz-copy-source...
  std::vector<std::string> raw_headers{};  // unsigned: "Range: bytes=0-9"
  std::optional<Body> body{};
  bool stream = false;  // low-speed limit instead of the total timeout
  // 2xx bodies go to `sink` when set, else are kept up to `keep_limit`.
  const std::function<bool(std::span<const char>)>* sink = nullptr;
  size_t keep_limit = xml::kMaxResponseBytes;
  bool want_partial = false;  // a 200 (not 206) answer is refused
};

struct Exchange {
  CURL* h = nullptr;
  const Call* call = nullptr;
  // Response.
  long status = 0;
  std::string body;
  std::string etag;
  std::optional<uint64_t> content_length;
  uint64_t delivered = 0;  // bytes given to the sink
  bool sink_aborted = false;
  bool too_large = false;
  bool not_partial = false;
  // Request body position.
  uint64_t sent = 0;
  int read_errno = 0;
};

// curl's CURLOPT_WRITEFUNCTION, HEADERFUNCTION, READFUNCTION and
// SEEKFUNCTION; `user` is the Exchange.
size_t OnWrite(char* data, size_t size, size_t n, void* user);
size_t OnHeader(char* data, size_t size, size_t n, void* user);
size_t OnRead(char* buf, size_t size, size_t n, void* user);
int OnSeek(void* user, curl_off_t offset, int origin);

inline bool Is2xx(long status) { return status >= 200 && status < 300; }

// The Errc for an S3 error answer: HTTP status and <Code> ("" when none).
Errc MapS3Error(long status, const std::string& code);

// The Errc for a transfer curl could not finish.
Errc MapCurlError(CURLcode rc);

}  // namespace berth::s3::detail
