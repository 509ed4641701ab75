#include "http/message.hpp"

#include <strings.h>

namespace berth::http {

std::optional<std::string_view> FindField(const Fields& fields, std::string_view name) {
  for (const auto& [k, v] : fields) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return std::nullopt;
}

}  // namespace berth::http
