// Incremental SHA-256 / SHA-512 over OpenSSL's EVP interface, used to hash
// blob bodies as they stream in so that no blob is ever read back to verify.
//
// Thread-safety: one Hasher per thread at a time; distinct Hashers are
// independent.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "common/digest.hpp"

namespace berth::crypto {

class Hasher {
 public:
  explicit Hasher(DigestAlgorithm algorithm);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  void Update(std::span<const char> data);
  // Returns the digest of everything fed so far. The hasher is left usable:
  // it finalizes a copy, so Update may continue afterwards.
  Digest Peek() const;

  // An independent hasher in the same state.
  Hasher Clone() const;

  DigestAlgorithm algorithm() const { return algorithm_; }

 private:
  union Ctx;
  DigestAlgorithm algorithm_;
  std::unique_ptr<Ctx> ctx_;
};

// Digest of a whole buffer.
Digest HashBytes(DigestAlgorithm algorithm, std::string_view data);

// Lower-case hex of raw bytes.
std::string ToHex(std::span<const unsigned char> bytes);

}  // namespace berth::crypto
