// Quotas per namespace: the configured limit of each, in bytes (0: none).
//
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace berth::lifecycle {

class QuotaPolicy {
 public:
  QuotaPolicy() = default;
  QuotaPolicy(uint64_t default_bytes, std::map<std::string, uint64_t, std::less<>> overrides)
      : default_(default_bytes), overrides_(std::move(overrides)) {}

  // Whether any namespace has a quota.
  bool Any() const { return default_ != 0 || !overrides_.empty(); }

  // The limit of `name_space`: its override, else the default. 0: no quota.
  uint64_t LimitFor(std::string_view name_space) const {
    auto it = overrides_.find(name_space);
    return it != overrides_.end() ? it->second : default_;
  }

 private:
  uint64_t default_ = 0;
  std::map<std::string, uint64_t, std::less<>> overrides_;
};

}  // namespace berth::lifecycle
