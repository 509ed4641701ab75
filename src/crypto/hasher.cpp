#include "crypto/hasher.hpp"

// OpenSSL 3 marks the one-shot digest API deprecated in favour of EVP; it is
// still part of 3.x and is used on purpose, see Ctx.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstdint>
#include <cstring>

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

namespace {

constexpr unsigned char kStateVersion = 1;

template <typename T>
void PutLe(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// Reads a little-endian T at `*pos`, advancing it. REQUIRES: enough bytes.
template <typename T>
T GetLe(std::string_view in, size_t* pos) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<T>(static_cast<unsigned char>(in[*pos + i])) << (8 * i);
  }
  *pos += sizeof(T);
  return v;
}

// Both contexts have the same shape (h[8], Nl, Nh, a block buffer, num):
// one writer and one reader for either. The block buffer is bytes however
// OpenSSL declares it, so it is copied as bytes.
template <typename Word, size_t kBlock, typename Ctx>
void SaveCtx(std::string& out, const Ctx& c, const unsigned char* block) {
  for (Word w : c.h) PutLe<Word>(out, w);
  PutLe<Word>(out, c.Nl);
  PutLe<Word>(out, c.Nh);
  PutLe<uint32_t>(out, c.num);
  out.append(reinterpret_cast<const char*>(block), kBlock);
}

template <typename Word, size_t kBlock, typename Ctx>
bool LoadCtx(std::string_view in, Ctx& c, unsigned char* block, unsigned int md_len) {
  if (in.size() != 2 + 10 * sizeof(Word) + 4 + kBlock) return false;
  size_t pos = 2;
  for (auto& w : c.h) w = GetLe<Word>(in, &pos);
  c.Nl = GetLe<Word>(in, &pos);
  c.Nh = GetLe<Word>(in, &pos);
  uint32_t num = GetLe<uint32_t>(in, &pos);
  // num bytes wait in the block buffer; the bit count's low bits must say
  // the same, or Final would pad at the wrong place (or read past the block).
  if (num >= kBlock || (c.Nl & (kBlock * 8 - 1)) != Word{num} * 8) return false;
  c.num = num;
  c.md_len = md_len;
  std::memcpy(block, in.data() + pos, kBlock);
  return true;
}

}  // namespace

std::string Hasher::SaveState() const {
  std::string out;
  out += static_cast<char>(kStateVersion);
  if (algorithm_ == DigestAlgorithm::kSha256) {
    out += static_cast<char>(1);
    SaveCtx<uint32_t, SHA256_CBLOCK>(out, ctx_->sha256,
                                     reinterpret_cast<const unsigned char*>(ctx_->sha256.data));
  } else {
    out += static_cast<char>(2);
    SaveCtx<uint64_t, SHA512_CBLOCK>(out, ctx_->sha512, ctx_->sha512.u.p);
  }
  return out;
}

Result<Hasher> Hasher::LoadState(DigestAlgorithm algorithm, std::string_view saved) {
  const char tag = algorithm == DigestAlgorithm::kSha256 ? 1 : 2;
  if (saved.size() < 2 || static_cast<unsigned char>(saved[0]) != kStateVersion ||
      saved[1] != tag) {
    return Status(Errc::kInternal, "saved hash state: unknown version or algorithm");
  }
  Hasher h(algorithm);
  bool ok = algorithm == DigestAlgorithm::kSha256
                ? LoadCtx<uint32_t, SHA256_CBLOCK>(
                      saved, h.ctx_->sha256, reinterpret_cast<unsigned char*>(h.ctx_->sha256.data),
                      SHA256_DIGEST_LENGTH)
                : LoadCtx<uint64_t, SHA512_CBLOCK>(saved, h.ctx_->sha512, h.ctx_->sha512.u.p,
                                                   SHA512_DIGEST_LENGTH);
  if (!ok) return Status(Errc::kInternal, "saved hash state: corrupt");
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
