// Result<T> and Status: errors on the request path are values, never
// exceptions. An Errc names what went wrong in domain terms; the registry maps
// it to an OCI error code and HTTP status in exactly one table
// (registry/errors.cpp).
//
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace berth {

// Keep in sync with the table in registry/errors.cpp.
enum class Errc {
  kOk = 0,
  kNameInvalid,          // repository name breaks the grammar
  kNameUnknown,          // repository does not exist
  kTagInvalid,           // tag breaks the grammar
  kDigestInvalid,        // digest malformed, unsupported, or content mismatch
  kBlobUnknown,          // blob not linked into the repository
  kBlobUploadUnknown,    // no such upload session
  kBlobUploadInvalid,    // upload session in a state that refuses the request
  kRangeInvalid,         // chunk does not start where the last one ended
  kManifestInvalid,      // manifest malformed or of an unsupported kind
  kManifestUnknown,      // manifest / tag not found
  kManifestBlobUnknown,  // manifest references content missing in the repo
  kSizeInvalid,          // declared size does not match content
  kTooLarge,             // body larger than the configured limit
  kPaginationInvalid,    // `n` is not a valid page size
  kUnsupported,          // operation not supported
  kNotFound,             // no such route
  kMethodNotAllowed,     // route exists, method does not
  kScopeInvalid,         // a token scope breaks the scope grammar
  kUnauthorized,         // authentication required or failed
  kDenied,               // authenticated but not allowed
  kTooManyRequests,      // rate limited
  kBusy,                 // resource held by another request; retry
  kNoSpace,              // storage full
  kUnavailable,          // dependency unavailable
  kInternal,             // bug or unexpected I/O failure
};

// A success or an Errc with a human-readable message for the client.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Errc::kOk; }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }

  // Drops the status on purpose. Every call says, in a comment beside it,
  // why ignoring a failure there is right.
  void IgnoreError() const {}

 private:
  Errc code_ = Errc::kOk;
  std::string message_;
};

// Either a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT
  Result(Errc code, std::string message) : v_(Status(code, std::move(message))) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error; an ok Status when the result holds a value.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // Drops the result on purpose, as Status::IgnoreError.
  void IgnoreError() const {}

 private:
  std::variant<T, Status> v_;
};

}  // namespace berth
