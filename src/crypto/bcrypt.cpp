#include "crypto/bcrypt.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace berth::crypto {
namespace {

constexpr size_t kBcryptHashLength = 60;
constexpr size_t kBcryptPrefixLength = 7;  // "$2b$10$"

bool IsBcryptBase64(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

// crypt_data holds the password-derived key schedule: wipe it before freeing.
struct CryptDataDeleter {
  void operator()(crypt_data* data) const {
    OPENSSL_cleanse(data, sizeof(*data));
    delete data;
  }
};
using CryptDataPtr = std::unique_ptr<crypt_data, CryptDataDeleter>;

// crypt_data must start zeroed (crypt(3) reads `initialized`); `new T()`
// value-initializes, i.e. zeroes, the whole 32 KiB struct.
CryptDataPtr NewCryptData() { return CryptDataPtr(new crypt_data()); }

}  // namespace

std::optional<int> BcryptCost(std::string_view hash) {
  if (hash.size() != kBcryptHashLength) return std::nullopt;
  if (hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') return std::nullopt;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return std::nullopt;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return std::nullopt;
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < kBcryptMinCost || cost > kBcryptMaxCost) return std::nullopt;
  for (size_t i = kBcryptPrefixLength; i < hash.size(); ++i) {
    if (!IsBcryptBase64(hash[i])) return std::nullopt;
  }
  return cost;
}

bool IsBcryptHash(std::string_view hash) { return BcryptCost(hash).has_value(); }

bool BcryptVerify(const std::string& password, const std::string& hash) {
  if (!IsBcryptHash(hash)) return false;
  if (password.find('\0') != std::string::npos) return false;
  CryptDataPtr data = NewCryptData();
  // crypt_rn returns nullptr on failure (never crypt_r's "*0" token).
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(*data));
  if (out == nullptr) return false;
  // libxcrypt echoes the input's variant ($2y$ stays $2y$), so a match is a
  // byte-for-byte equal string of the same length.
  if (std::strlen(out) != hash.size()) return false;
  return CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

Result<std::string> BcryptHash(const std::string& password, int cost) {
  if (cost < kBcryptMinCost || cost > kBcryptMaxCost) {
    return Status(Errc::kUnsupported, "bcrypt cost must be between " +
                                          std::to_string(kBcryptMinCost) + " and " +
                                          std::to_string(kBcryptMaxCost));
  }
  if (password.size() > kBcryptMaxPasswordBytes) {
    return Status(Errc::kUnsupported, "bcrypt passwords are limited to " +
                                          std::to_string(kBcryptMaxPasswordBytes) + " bytes");
  }
  if (password.find('\0') != std::string::npos) {
    return Status(Errc::kUnsupported, "a bcrypt password cannot contain a NUL byte");
  }
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  // nullptr random bytes: libxcrypt draws the salt from the OS (getrandom).
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, salt, sizeof(salt)) ==
      nullptr) {
    return Status(Errc::kInternal, std::string("crypt_gensalt_rn failed: ") + std::strerror(errno));
  }
  CryptDataPtr data = NewCryptData();
  const char* out = crypt_rn(password.c_str(), salt, data.get(), sizeof(*data));
  if (out == nullptr) {
    return Status(Errc::kInternal, std::string("crypt_rn failed: ") + std::strerror(errno));
  }
  std::string hash(out);
  if (!IsBcryptHash(hash))
    return Status(Errc::kInternal, "crypt_rn returned a malformed bcrypt hash");
  return hash;
}

}  // namespace berth::crypto
