#include "crypto/hasher.hpp"

// OpenSSL 3 marks the one-shot digest API deprecated in favour of EVP; it is
// still part of 3.x and is used on purpose, see Ctx.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace berth::crypto {

// SHA256_* / SHA512_* rather than EVP: the same assembly (SHA-NI here), but
// no provider machinery. The first EVP digest loads openssl.cnf and registers
// every algorithm of the default provider, which leaves ~2 MiB more of
// libcrypto resident in a registry that does nothing else with OpenSSL
// (plain HTTP, no auth). The state is plain data: no allocation, no failure,
// and a copy is a clone. algorithm_ says which member is in use.
union Hasher::Ctx {
  SHA256_CTX sha256;
  SHA512_CTX sha512;
};

Hasher::Hasher(DigestAlgorithm algorithm) : algorithm_(algorithm), ctx_(std::make_unique<Ctx>()) {
  if (algorithm == DigestAlgorithm::kSha256) {
    SHA256_Init(&ctx_->sha256);
  } else {
    SHA512_Init(&ctx_->sha512);
  }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(std::span<const char> data) {
  if (algorithm_ == DigestAlgorithm::kSha256) {
    SHA256_Update(&ctx_->sha256, data.data(), data.size());
  } else {
    SHA512_Update(&ctx_->sha512, data.data(), data.size());
  }
}

Hasher Hasher::Clone() const {
  Hasher h(algorithm_);
  *h.ctx_ = *ctx_;
  return h;
}

Digest Hasher::Peek() const {
  Ctx copy = *ctx_;  // finalizing consumes the state; the hasher stays usable
  unsigned char out[SHA512_DIGEST_LENGTH];
  if (algorithm_ == DigestAlgorithm::kSha256) {
    SHA256_Final(out, &copy.sha256);
    return Digest(algorithm_, ToHex({out, SHA256_DIGEST_LENGTH}));
  }
  SHA512_Final(out, &copy.sha512);
  return Digest(algorithm_, ToHex({out, SHA512_DIGEST_LENGTH}));
}

Digest HashBytes(DigestAlgorithm algorithm, std::string_view data) {
  Hasher h(algorithm);
  h.Update({data.data(), data.size()});
  return h.Peek();
}

std::string ToHex(std::span<const unsigned char> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

}  // namespace berth::crypto
