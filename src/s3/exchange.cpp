#include "s3/exchange.hpp"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace berth::s3::detail {
namespace {

// The trimmed value of header line `line` when its name is `name` (with the
// colon, lower-case).
std::optional<std::string_view> HeaderValue(std::string_view line, std::string_view name) {
  if (line.size() < name.size() || strncasecmp(line.data(), name.data(), name.size()) != 0) {
    return std::nullopt;
  }
  std::string_view v = line.substr(name.size());
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
    v.remove_suffix(1);
  return v;
}

}  // namespace

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  size_t len = size * n;
  if (x->status == 0) curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
  bool ok = x->status >= 200 && x->status < 300;
  if (ok && x->call->want_partial && x->status != 206) {
    x->not_partial = true;
    return 0;
  }
  if (ok && x->call->sink) {
    if (!(*x->call->sink)(std::span<const char>(data, len))) {
      x->sink_aborted = true;
      return 0;
    }
    x->delivered += len;
    return len;
  }
  size_t limit = ok ? x->call->keep_limit : kErrorBodyLimit;
  if (x->body.size() + len > limit) {
    x->too_large = true;
    return 0;
  }
  x->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  if (line.starts_with("HTTP/")) {
    // A new response (after a 100 Continue, say): forget the last one's.
    x->status = 0;
    x->etag.clear();
    x->content_length.reset();
  } else if (auto v = HeaderValue(line, "etag:")) {
    x->etag = *v;
  } else if (auto v = HeaderValue(line, "content-length:")) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec == std::errc() && end == v->data() + v->size()) x->content_length = n;
  }
  return len;
}

size_t OnRead(char* buf, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const Body& b = *x->call->body;
  uint64_t total = b.fd >= 0 ? b.length : b.mem.size();
  size_t want = static_cast<size_t>(std::min<uint64_t>(size * n, total - x->sent));
  if (want == 0) return 0;
  if (b.fd < 0) {
    std::memcpy(buf, b.mem.data() + x->sent, want);
    x->sent += want;
    return want;
  }
  // pread, so the caller's file offset never moves and a retry can rewind.
  ssize_t got;
  do {
    got = ::pread(b.fd, buf, want, static_cast<off_t>(b.offset + x->sent));
  } while (got < 0 && errno == EINTR);
  if (got <= 0) {
    x->read_errno = got < 0 ? errno : EIO;  // 0: the file is shorter than promised
    return CURL_READFUNC_ABORT;
  }
  x->sent += static_cast<uint64_t>(got);
  return static_cast<size_t>(got);
}

// Lets curl rewind the body itself when it resends a request (after a
// redirect or a dead reused connection it detects on its own).
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* x = static_cast<Exchange*>(user);
  const Body& b = *x->call->body;
  uint64_t total = b.fd >= 0 ? b.length : b.mem.size();
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > total) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  x->sent = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// The Errc for an S3 error answer.
Errc MapS3Error(long status, const std::string& code) {
  if (code == "NoSuchKey") return Errc::kBlobUnknown;
  if (code == "NoSuchUpload") return Errc::kBlobUploadUnknown;
  if (code == "QuotaExceeded" || code == "EntityTooLarge" || code == "InsufficientCapacity" ||
      status == 507) {
    return Errc::kNoSpace;
  }
  if (code == "SlowDown" || code == "InternalError" || code == "ServiceUnavailable" ||
      code == "RequestTimeout" || status >= 500) {
    return Errc::kUnavailable;
  }
  if (status == 404 && code.empty()) return Errc::kBlobUnknown;  // HEAD has no body
  return Errc::kInternal;
}

Errc MapCurlError(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Errc::kUnavailable;
    default:
      return Errc::kInternal;
  }
}

}  // namespace berth::s3::detail
