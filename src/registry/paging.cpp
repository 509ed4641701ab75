#include "registry/paging.hpp"

#include <algorithm>
#include <charconv>

namespace berth::registry {

Result<Page> ParsePage(const http::Request& req) {
  Page p;
  if (auto n = req.Query("n")) {
    size_t v = 0;
    auto [ptr, ec] = std::from_chars(n->data(), n->data() + n->size(), v);
    if (n->empty() || ec != std::errc() || ptr != n->data() + n->size()) {
      return Status(Errc::kPaginationInvalid, "n must be a non-negative integer");
    }
    p.n = std::min(v, kMaxPageSize);
  }
  if (auto last = req.Query("last")) p.last = std::string(*last);
  return p;
}

std::string QueryEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      // '+' too: query decoders read it as a space.
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string NextLink(std::string_view path, const Page& page, std::string_view last,
                     std::string_view extra_query) {
  std::string link = "<" + std::string(path) + "?";
  if (!extra_query.empty()) link += std::string(extra_query) + "&";
  link += "last=" + QueryEscape(last) + "&n=" + std::to_string(page.n) + ">; rel=\"next\"";
  return link;
}

}  // namespace berth::registry
