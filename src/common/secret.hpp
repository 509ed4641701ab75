// Secret: a string that must never reach a log. It has no stream operator
// and its printable form is "***"; read the value only where it is used.
//
// Thread-safety: a plain value.
#pragma once

#include <string>
#include <utility>

namespace berth {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  // The secret itself. Call only at the point of use (hashing, comparing).
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  // What logs and error messages show.
  static constexpr const char* kPrintable = "***";

 private:
  std::string value_;
};

}  // namespace berth
