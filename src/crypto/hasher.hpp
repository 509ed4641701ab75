// Incremental SHA-256 / SHA-512 over OpenSSL's EVP interface, used to hash
// blob bodies as they stream in so that no blob is ever read back to verify.
//
// Thread-safety: one Hasher per thread at a time; distinct Hashers are
// independent.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

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

  // The running state as bytes, so that another process (another berth
  // sharing an S3 bucket) can continue the hash: a version byte, the
  // algorithm, then the context's fields in a fixed little-endian layout
  // (never the raw struct). 110 bytes for sha256, 214 for sha512.
  std::string SaveState() const;

  // A hasher in the state `saved` (from SaveState). The bytes may come from
  // remote storage, so they are checked, not trusted: kInternal when the
  // version, algorithm or length is not the expected one, or when the
  // buffered-byte count is out of bounds or disagrees with the bit count.
  static Result<Hasher> LoadState(DigestAlgorithm algorithm, std::string_view saved);

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
