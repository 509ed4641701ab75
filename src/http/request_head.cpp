#include "http/request_head.hpp"

#include <atomic>
#include <boost/url/parse.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>

namespace berth::http {

namespace bhttp = boost::beast::http;

std::string NextRequestId() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t prefix =
      static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%06llx-%06llx",
                static_cast<unsigned long long>(prefix & 0xffffff),
                static_cast<unsigned long long>(++counter));
  return buf;
}

bool BuildRequest(const bhttp::request_parser<bhttp::buffer_body>& parser, Request& out) {
  const auto& msg = parser.get();
  out.method = std::string(msg.method_string());
  out.target = std::string(msg.target());
  auto url = boost::urls::parse_origin_form(msg.target());
  if (!url) return false;
  out.path = std::string(url->encoded_path());
  for (auto param : url->params()) out.query.emplace_back(param.key, param.value);
  for (const auto& f : msg) out.headers.emplace_back(f.name_string(), f.value());
  if (auto cl = parser.content_length()) out.content_length = *cl;
  out.has_body = !parser.is_done();
  return true;
}

bool UnframedTransferEncoding(const bhttp::request_parser<bhttp::buffer_body>& parser) {
  return parser.get().count(bhttp::field::transfer_encoding) > 0 && !parser.chunked();
}

}  // namespace berth::http
