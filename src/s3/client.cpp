#include "s3/client.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <mutex>

#include "common/thread_annotations.hpp"
#include "s3/exchange.hpp"
#include "s3/sigv4.hpp"
#include "s3/xml.hpp"

namespace berth::s3 {
namespace {

using detail::Body;
using detail::Call;
using detail::Exchange;
using detail::Is2xx;
using detail::kErrorBodyLimit;

// Idle handles kept for reuse; each holds its connection open.
constexpr size_t kMaxIdleHandles = 16;

std::once_flag curl_init_once;

}  // namespace

struct Client::Impl {
  ClientOptions o;
  std::string base;  // scheme://host[:port], no trailing slash
  std::string host;  // the Host header sent and signed
  sigv4::Credentials creds;

  Mutex mu;
  std::vector<CURL*> idle GUARDED_BY(mu);

  explicit Impl(ClientOptions options) : o(std::move(options)) {
    base = o.endpoint;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string_view rest = base;
    if (auto p = rest.find("://"); p != std::string_view::npos) rest.remove_prefix(p + 3);
    host = std::string(rest.substr(0, rest.find('/')));
    creds = {o.access_key, &o.secret_key, o.region, "s3"};
  }

  ~Impl() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }

  CURL* Acquire() {
    {
      MutexLock lock(mu);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        // Keeps the handle's live connection, clears every option.
        curl_easy_reset(h);
        return h;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* h) {
    MutexLock lock(mu);
    if (idle.size() < kMaxIdleHandles) {
      idle.push_back(h);
      return;
    }
    curl_easy_cleanup(h);
  }

  std::string Path(const std::string& key) const {
    return key.empty() ? "/" + o.bucket : "/" + o.bucket + "/" + key;
  }

  std::string Where(const Call& c) const {
    return std::string("S3 ") + c.op + " " + o.bucket + (c.key.empty() ? "" : "/" + c.key);
  }

  // Sends `c` once on `h`; fills `x`.
  CURLcode Send(CURL* h, const Call& c, Exchange& x, curl_slist** headers) {
    sigv4::Request r;
    r.method = c.method;
    r.host = host;
    r.path = Path(c.key);
    r.query = c.query;
    r.headers = c.signed_headers;
    if (!c.body) {
      r.payload_hash = sigv4::Sha256Hex("");
    } else if (c.body->fd >= 0 || c.body->unsigned_payload) {
      r.payload_hash = std::string(sigv4::kUnsignedPayload);
    } else {
      r.payload_hash = sigv4::Sha256Hex(c.body->mem);
    }
    std::string url = base + sigv4::UriEncode(r.path, true);
    if (!r.query.empty()) url += "?" + sigv4::CanonicalQuery(r.query);

    std::vector<std::string> lines;
    lines.push_back("Host: " + host);
    for (const auto& [n, v] : c.signed_headers) lines.push_back(n + ": " + v);
    for (const auto& [n, v] : sigv4::SignHeaders(r, creds, sigv4::Clock::now())) {
      lines.push_back(n + ": " + v);
    }
    for (const auto& l : c.raw_headers) lines.push_back(l);
    // No 100-continue round trip: RGW answers errors after the body anyway,
    // and the wait would cost up to a second per large PUT.
    lines.emplace_back("Expect:");
    for (const auto& l : lines) *headers = curl_slist_append(*headers, l.c_str());

    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);  // keys may hold "..", "//"
    curl_easy_setopt(h, CURLOPT_USERAGENT, "berth");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout_ms));
    if (c.stream) {
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, o.low_speed_bytes);
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_seconds));
    } else {
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(o.request_timeout_ms));
    }
    if (!o.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, detail::OnWrite);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, detail::OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    if (c.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (c.body) {
      uint64_t len = c.body->fd >= 0 ? c.body->length : c.body->mem.size();
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(len));
      curl_easy_setopt(h, CURLOPT_READFUNCTION, detail::OnRead);
      curl_easy_setopt(h, CURLOPT_READDATA, &x);
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, detail::OnSeek);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
      if (c.method != "PUT") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c.method.c_str());
    } else if (c.method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c.method.c_str());
    }
    return curl_easy_perform(h);
  }

  // Performs `c`. Transport failures and error statuses become a Status;
  // a 2xx answer is returned in `x` for the caller to read.
  //
  // No retries, but one: a connection kept alive from an earlier call may
  // have been closed by the server just as we reused it (a reset, or nothing
  // back); that call is sent once more on a new connection when nothing of
  // it reached the sink. (curl resends such a request itself when it sees
  // the close before any answer, rewinding the body through OnSeek; this
  // covers the resets it reports instead.) Every other retry is the
  // caller's decision.
  Status Perform(const Call& c, Exchange& x) {
    CURL* h = Acquire();
    if (!h) return Status(Errc::kInternal, Where(c) + ": cannot create a curl handle");
    CURLcode rc = CURLE_OK;
    for (int attempt = 0;; ++attempt) {
      x = Exchange{};
      x.h = h;
      x.call = &c;
      curl_slist* headers = nullptr;
      rc = Send(h, c, x, &headers);
      curl_slist_free_all(headers);
      long connects = 1;
      curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
      bool reset = rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING;
      if (attempt == 0 && reset && connects == 0 && x.delivered == 0) {
        spdlog::debug("{}: reused connection failed ({}), sending once more", Where(c),
                      curl_easy_strerror(rc));
        continue;
      }
      break;
    }
    if (rc == CURLE_OK && x.status == 0) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x.status);
    Release(h);

    if (x.sink_aborted) return Status(Errc::kInternal, Where(c) + ": aborted by the reader");
    if (x.not_partial) {
      return Status(Errc::kInternal, Where(c) + ": the server ignored the Range header");
    }
    if (x.too_large) {
      return Status(Is2xx(x.status) ? Errc::kTooLarge : Errc::kInternal,
                    Where(c) + ": response larger than " +
                        std::to_string(Is2xx(x.status) ? c.keep_limit : kErrorBodyLimit) +
                        " bytes");
    }
    if (x.read_errno != 0) {
      return Status(Errc::kInternal,
                    Where(c) + ": reading the local file: " + std::strerror(x.read_errno));
    }
    if (rc != CURLE_OK) {
      return Status(detail::MapCurlError(rc),
                    Where(c) + " via " + host + ": " + curl_easy_strerror(rc));
    }
    if (!Is2xx(x.status)) {
      std::string code, message;
      if (!x.body.empty()) {
        if (auto parsed = xml::Parse(x.body, kErrorBodyLimit); parsed.ok() && parsed->error) {
          code = parsed->error->code;
          message = parsed->error->message;
        }
      }
      std::string text = Where(c) + ": HTTP " + std::to_string(x.status);
      if (!code.empty()) text += " " + code;
      if (!message.empty()) text += " (" + message + ")";
      return Status(detail::MapS3Error(x.status, code), text);
    }
    return Status::Ok();
  }

  // Parses a 2xx XML body; an <Error> in it is a failure.
  Result<xml::Response> ParseOk(const Call& c, const Exchange& x) {
    auto parsed = xml::Parse(x.body);
    if (!parsed.ok()) {
      return Status(parsed.status().code(), Where(c) + ": " + parsed.status().message());
    }
    if (parsed->error) {
      // By its code alone: InternalError or SlowDown may be retried, an
      // InvalidPart may not.
      return Status(detail::MapS3Error(x.status, parsed->error->code),
                    Where(c) + ": HTTP " + std::to_string(x.status) + " with error " +
                        parsed->error->code + " (" + parsed->error->message + ")");
    }
    return parsed;
  }
};

Client::Client(ClientOptions options) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_ = std::make_unique<Impl>(std::move(options));
}

Client::~Client() = default;

Status Client::CheckBucket(bool create) {
  Call head{.op = "HeadBucket", .method = "HEAD"};
  Exchange x;
  Status s = impl_->Perform(head, x);
  if (s.ok() || x.status != 404) return s;
  if (!create) return Status(Errc::kNotFound, s.message() + " (no such bucket)");
  Call put{.op = "CreateBucket", .method = "PUT"};
  std::string body;
  if (impl_->o.region != "us-east-1") {
    body = "<CreateBucketConfiguration><LocationConstraint>" + impl_->o.region +
           "</LocationConstraint></CreateBucketConfiguration>";
  }
  put.body = Body{.mem = body};
  s = impl_->Perform(put, x);
  if (!s.ok() && s.message().find("BucketAlreadyOwnedByYou") != std::string::npos)
    return Status::Ok();
  return s;
}

Result<ObjectInfo> Client::Head(const std::string& key) {
  Call c{.op = "HeadObject", .method = "HEAD", .key = key};
  Exchange x;
  if (Status s = impl_->Perform(c, x); !s.ok()) return s;
  if (!x.content_length) {
    return Status(Errc::kInternal, impl_->Where(c) + ": no Content-Length in the answer");
  }
  return ObjectInfo{*x.content_length, x.etag};
}

Status Client::Put(const std::string& key, std::span<const char> body) {
  Call c{.op = "PutObject", .method = "PUT", .key = key};
  c.body = Body{.mem = std::string_view(body.data(), body.size())};
  Exchange x;
  return impl_->Perform(c, x);
}

Status Client::PutFile(const std::string& key, int fd, uint64_t offset, uint64_t length) {
  Call c{.op = "PutObject", .method = "PUT", .key = key, .stream = true};
  c.body = Body{.fd = fd, .offset = offset, .length = length};
  Exchange x;
  return impl_->Perform(c, x);
}

Status Client::PutData(const std::string& key, std::span<const char> body) {
  Call c{.op = "PutObject", .method = "PUT", .key = key, .stream = true};
  c.body = Body{.mem = std::string_view(body.data(), body.size()), .unsigned_payload = true};
  Exchange x;
  return impl_->Perform(c, x);
}

Result<std::string> Client::GetSmall(const std::string& key, size_t max_bytes) {
  Call c{.op = "GetObject", .method = "GET", .key = key, .keep_limit = max_bytes};
  Exchange x;
  if (Status s = impl_->Perform(c, x); !s.ok()) return s;
  return std::move(x.body);
}

Status Client::Get(const std::string& key, uint64_t offset, uint64_t length,
                   const std::function<bool(std::span<const char>)>& sink) {
  Call c{.op = "GetObject", .method = "GET", .key = key, .stream = true, .sink = &sink};
  bool to_end = length == UINT64_MAX;
  if (!to_end && length == 0) return Status::Ok();
  if (!to_end && offset + length < offset) {
    return Status(Errc::kInternal, impl_->Where(c) + ": range overflows");
  }
  if (offset != 0 || !to_end) {
    c.raw_headers.push_back("Range: bytes=" + std::to_string(offset) + "-" +
                            (to_end ? "" : std::to_string(offset + length - 1)));
    c.want_partial = true;
  }
  Exchange x;
  if (Status s = impl_->Perform(c, x); !s.ok()) return s;
  if (!to_end && x.delivered != length) {
    return Status(Errc::kInternal, impl_->Where(c) + ": got " + std::to_string(x.delivered) +
                                       " of " + std::to_string(length) + " bytes asked for");
  }
  return Status::Ok();
}

Status Client::Delete(const std::string& key) {
  Call c{.op = "DeleteObject", .method = "DELETE", .key = key};
  Exchange x;
  Status s = impl_->Perform(c, x);
  if (s.code() == Errc::kBlobUnknown) return Status::Ok();
  return s;
}

Status Client::Copy(const std::string& from_key, const std::string& to_key) {
  Call c{.op = "CopyObject", .method = "PUT", .key = to_key};
  c.signed_headers.emplace_back("x-amz-copy-source",
                                sigv4::UriEncode("/" + impl_->o.bucket + "/" + from_key, true));
  Exchange x;
  if (Status s = impl_->Perform(c, x); !s.ok()) return s;
  return impl_->ParseOk(c, x).status();
}

Result<ListPage> Client::List(const std::string& prefix, const std::string& token, int max_keys) {
  Call c{.op = "ListObjectsV2", .method = "GET"};
  c.query = {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}};
  if (!prefix.empty()) c.query.emplace_back("prefix", prefix);
  if (!token.empty()) c.query.emplace_back("continuation-token", token);
  Exchange x;
  if (Status s = impl_->Perform(c, x); !s.ok()) return s;
  auto parsed = impl_->ParseOk(c, x);
  if (!parsed.ok()) return parsed.status();
  if (parsed->root != "ListBucketResult") {
    return Status(Errc::kInternal, impl_->Where(c) + ": unexpected <" + parsed->root + "> answer");
  }
  if (parsed->truncated && parsed->next_token.empty()) {
    return Status(Errc::kInternal,
                  impl_->Where(c) + ": truncated listing without a continuation token");
  }
  ListPage page;
  page.objects = std::move(parsed->contents);
  if (parsed->truncated) page.next_token = std::move(parsed->next_token);
  return page;
}

Result<std::string> Client::CreateMultipart(const std::string& key) {
  Call c{.op = "CreateMultipartUpload", .method = "POST", .key = key};
  c.query = {{"uploads", ""}};
  c.body = Body{};
  Exchange x;
  if (Status s = impl_->Perform(c, x); !s.ok()) return s;
  auto parsed = impl_->ParseOk(c, x);
  if (!parsed.ok()) return parsed.status();
  if (parsed->upload_id.empty()) {
    return Status(Errc::kInternal, impl_->Where(c) + ": no UploadId in the answer");
  }
  return std::move(parsed->upload_id);
}

Result<std::string> Client::UploadPart(const std::string& key, const std::string& upload_id,
                                       int number, int fd, uint64_t offset, uint64_t length) {
  Call c{.op = "UploadPart", .method = "PUT", .key = key, .stream = true};
  c.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
  c.body = Body{.fd = fd, .offset = offset, .length = length};
  Exchange x;
  if (Status s = impl_->Perform(c, x); !s.ok()) return s;
  if (x.etag.empty()) return Status(Errc::kInternal, impl_->Where(c) + ": no ETag in the answer");
  return std::move(x.etag);
}

Result<std::string> Client::UploadPart(const std::string& key, const std::string& upload_id,
                                       int number, std::span<const char> data) {
  Call c{.op = "UploadPart", .method = "PUT", .key = key, .stream = true};
  c.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
  c.body = Body{.mem = std::string_view(data.data(), data.size()), .unsigned_payload = true};
  Exchange x;
  if (Status s = impl_->Perform(c, x); !s.ok()) return s;
  if (x.etag.empty()) return Status(Errc::kInternal, impl_->Where(c) + ": no ETag in the answer");
  return std::move(x.etag);
}

Status Client::CompleteMultipart(const std::string& key, const std::string& upload_id,
                                 const std::vector<CompletedPart>& parts) {
  Call c{.op = "CompleteMultipartUpload", .method = "POST", .key = key};
  c.query = {{"uploadId", upload_id}};
  std::vector<std::pair<int, std::string>> list;
  list.reserve(parts.size());
  for (const auto& p : parts) list.emplace_back(p.number, p.etag);
  std::string body = xml::CompleteMultipartBody(list);
  c.body = Body{.mem = body};
  c.raw_headers.emplace_back("Content-Type: application/xml");
  Exchange x;
  if (Status s = impl_->Perform(c, x); !s.ok()) return s;
  return impl_->ParseOk(c, x).status();
}

Status Client::AbortMultipart(const std::string& key, const std::string& upload_id) {
  Call c{.op = "AbortMultipartUpload", .method = "DELETE", .key = key};
  c.query = {{"uploadId", upload_id}};
  Exchange x;
  return impl_->Perform(c, x);
}

std::string Client::Presign(const std::string& method, const std::string& key,
                            int expires_seconds) const {
  sigv4::Request r;
  r.method = method;
  r.host = impl_->host;
  r.path = impl_->Path(key);
  return impl_->base +
         sigv4::PresignPathAndQuery(r, impl_->creds, sigv4::Clock::now(), expires_seconds);
}

}  // namespace berth::s3