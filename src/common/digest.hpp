// Digest: a validated content address, "algorithm:encoded".
//
// Only sha256 (64 lower-case hex) and sha512 (128 lower-case hex) are
// accepted; anything else, including algorithms that the OCI grammar allows but
// we do not implement, is rejected with kDigestInvalid. Because the encoded part
// is plain hex once parsed, a Digest is safe to turn into a file name.
//
// Thread-safety: immutable value.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace berth {

enum class DigestAlgorithm { kSha256, kSha512 };

class Digest {
 public:
  // Parses "sha256:<64 hex>" or "sha512:<128 hex>".
  // Returns kDigestInvalid naming the problem otherwise.
  static Result<Digest> Parse(std::string_view text);

  // REQUIRES: hex is lower-case hex of the right length for the algorithm.
  Digest(DigestAlgorithm algorithm, std::string hex);

  DigestAlgorithm algorithm() const { return algorithm_; }
  std::string_view algorithm_name() const;
  // The lower-case hex part.
  const std::string& hex() const { return hex_; }
  // "algorithm:hex".
  std::string str() const;

  friend bool operator==(const Digest&, const Digest&) = default;

 private:
  DigestAlgorithm algorithm_;
  std::string hex_;
};

}  // namespace berth
