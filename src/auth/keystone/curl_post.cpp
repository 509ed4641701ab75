#include "auth/keystone/curl_post.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace berth::auth {

namespace {

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Sink {
  std::string* body;
  size_t max;
  bool overflow = false;
};

// libcurl's write callback: returning less than given aborts the transfer
// (CURLE_WRITE_ERROR), which is how an oversized answer is cut off.
size_t Write(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->body->size() + n > sink->max) {
    sink->overflow = true;
    return 0;
  }
  sink->body->append(data, n);
  return n;
}

}  // namespace

void InitCurlOnce() {
  static std::once_flag once;
  // curl_global_init is not thread-safe; call_once makes it so. Its failure
  // shows up later as curl_easy_init returning null.
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

PostReply CurlPost(const std::string& url, const std::string& json_body,
                   const PostOptions& options) {
  PostReply reply;
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) {
    reply.error = "curl_easy_init failed";
    return reply;
  }
  curl_slist* raw = nullptr;
  for (const char* h : {"Content-Type: application/json", "Accept: application/json",
                        "Expect:"}) {  // "Expect:" drops 100-continue: one round trip
    curl_slist* next = curl_slist_append(raw, h);
    if (next == nullptr) {
      curl_slist_free_all(raw);
      reply.error = "out of memory";
      return reply;
    }
    raw = next;
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw);

  Sink sink{&reply.body, options.max_response_bytes};
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  // Signals (the default for DNS timeouts) are process-wide and unsafe with
  // threads: https://curl.se/libcurl/c/CURLOPT_NOSIGNAL.html
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout_ms));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  if (!options.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());

  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    if (sink.overflow) {
      reply.error = "answer larger than " + std::to_string(options.max_response_bytes) + " bytes";
    } else {
      reply.error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    }
    return reply;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  reply.transport_ok = true;
  return reply;
}

}  // namespace berth::auth
