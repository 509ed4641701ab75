#include "crypto/hasher.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace berth::crypto {

struct Hasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {
const EVP_MD* Md(DigestAlgorithm a) {
  return a == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_sha512();
}
}  // namespace

Hasher::Hasher(DigestAlgorithm algorithm) : algorithm_(algorithm), ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  // Allocation failure here is out of memory: not a request-path condition.
  if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, Md(algorithm), nullptr) != 1) {
    throw std::bad_alloc();
  }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(std::span<const char> data) {
  EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}

Hasher Hasher::Clone() const {
  Hasher h(algorithm_);
  if (EVP_MD_CTX_copy_ex(h.ctx_->md, ctx_->md) != 1) throw std::bad_alloc();
  return h;
}

Digest Hasher::Peek() const {
  Ctx copy;
  copy.md = EVP_MD_CTX_new();
  if (copy.md == nullptr || EVP_MD_CTX_copy_ex(copy.md, ctx_->md) != 1) throw std::bad_alloc();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(copy.md, out, &len);
  return Digest(algorithm_, ToHex({out, len}));
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
