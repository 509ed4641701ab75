#include "crypto/sealed_secret.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <array>
#include <memory>

#include "crypto/openssl_ptr.hpp"

namespace berth::crypto {
namespace {

constexpr unsigned char kVersion = 0x01;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kKeyBytes = 32;
// Fixed: the refresh token is already uniformly random (RFC 5869, 3.1).
constexpr std::string_view kSalt = "berth refresh token seal";
// Changes with the format, so a key of one version never opens another's.
constexpr std::string_view kInfo = "berth sealed secret v1 aes-256-gcm";

using Kdf = std::unique_ptr<EVP_KDF, ossl::Free<EVP_KDF_free>>;
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, ossl::Free<EVP_KDF_CTX_free>>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, ossl::Free<EVP_CIPHER_CTX_free>>;
using Key = std::array<unsigned char, kKeyBytes>;

Status OpenSslError(std::string_view what) {
  return {Errc::kInternal, "sealing: " + std::string(what) + " failed"};
}

Status Undecipherable() { return {Errc::kUnauthorized, "sealed secret does not open"}; }

// The AES key for `key_material`, wiped by its holder.
Result<Key> DeriveKey(std::string_view key_material) {
  Kdf kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return OpenSslError("HKDF fetch");
  KdfCtx ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return OpenSslError("HKDF context");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(key_material.data()),
                                        key_material.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(kSalt.data()),
                                        kSalt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(kInfo.data()),
                                        kInfo.size()),
      OSSL_PARAM_construct_end()};
  Key key{};
  if (EVP_KDF_derive(ctx.get(), key.data(), key.size(), params) != 1) {
    return OpenSslError("HKDF derive");
  }
  return key;
}

// Wipes a derived key when it goes out of scope.
struct KeyWiper {
  Key& key;
  ~KeyWiper() { OPENSSL_cleanse(key.data(), key.size()); }
};

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool FromHex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<std::string> SealSecret(std::string_view key_material, std::string_view context,
                               const Secret& secret) {
  auto key = DeriveKey(key_material);
  if (!key) return key.status();
  KeyWiper wipe{*key};
  std::array<unsigned char, kNonceBytes> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return OpenSslError("random nonce");
  }
  const std::string& plain = secret.reveal();
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return OpenSslError("cipher context");
  std::string out(1 + kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  o[0] = kVersion;
  std::copy(nonce.begin(), nonce.end(), o + 1);
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key->data(), nonce.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(context),
                        static_cast<int>(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + 1 + kNonceBytes, &len, Bytes(plain),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + 1 + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          o + 1 + kNonceBytes + plain.size()) != 1) {
    return OpenSslError("AES-256-GCM encrypt");
  }
  return ToHex(out);
}

Result<Secret> OpenSealed(std::string_view key_material, std::string_view context,
                          std::string_view sealed) {
  std::string raw;
  if (!FromHex(sealed, raw) || raw.size() < 1 + kNonceBytes + kTagBytes ||
      static_cast<unsigned char>(raw[0]) != kVersion) {
    return Undecipherable();
  }
  auto key = DeriveKey(key_material);
  if (!key) return key.status();
  KeyWiper wipe{*key};
  const auto* r = Bytes(raw);
  const size_t text_bytes = raw.size() - 1 - kNonceBytes - kTagBytes;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return OpenSslError("cipher context");
  std::string plain(text_bytes, '\0');
  auto* p = reinterpret_cast<unsigned char*>(plain.data());
  int len = 0;
  if (EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key->data(), r + 1, nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(context),
                        static_cast<int>(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), p, &len, r + 1 + kNonceBytes, static_cast<int>(text_bytes)) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                          const_cast<unsigned char*>(r + 1 + kNonceBytes + text_bytes)) != 1) {
    return OpenSslError("AES-256-GCM decrypt");
  }
  // The tag check: the only failure a wrong key or a changed byte produces.
  if (EVP_DecryptFinal_ex(ctx.get(), p + len, &len) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return Undecipherable();
  }
  return Secret(std::move(plain));
}

}  // namespace berth::crypto
