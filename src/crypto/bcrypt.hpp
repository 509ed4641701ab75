// bcrypt password hashing and checking, over libxcrypt's crypt_rn (Debian's
// libcrypt1). Only the bcrypt family is accepted: $2a$, $2b$ and $2y$ (the
// last is what `htpasswd -B` from apache2-utils writes). Any other crypt(3)
// scheme (DES, MD5, SHA-crypt, yescrypt) is refused before libcrypt sees it,
// so a stray "ab…" string can never be checked as a DES hash.
//
// bcrypt reads at most 72 bytes of a password and stops at a NUL byte.
// BcryptHash refuses such passwords rather than silently truncating them;
// BcryptVerify answers false for a password holding a NUL.
//
// Thread-safety: pure functions; safe from any thread. Each call allocates its
// own 32 KiB crypt_data on the heap. Calls are deliberately slow (2^cost
// rounds): run them on the blocking pool, never on an I/O thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace berth::crypto {

// bcrypt's limits on the cost (log2 of the rounds).
inline constexpr int kBcryptMinCost = 4;
inline constexpr int kBcryptMaxCost = 31;
// The default cost for new hashes: about 50-100 ms per check on one core of
// a 2020s server. Each +1 doubles the time of every login.
inline constexpr int kBcryptDefaultCost = 10;
// bcrypt ignores every password byte past this many.
inline constexpr size_t kBcryptMaxPasswordBytes = 72;

// True when `hash` has the exact shape of a bcrypt hash:
// "$2a$" | "$2b$" | "$2y$", two cost digits in [04, 31], "$", then 53
// characters of bcrypt's base64 alphabet [./A-Za-z0-9] (60 bytes in all).
bool IsBcryptHash(std::string_view hash);

// The cost encoded in `hash`, or nullopt when !IsBcryptHash(hash).
std::optional<int> BcryptCost(std::string_view hash);

// True when `password` hashes to `hash`. The final comparison is constant
// time (CRYPTO_memcmp). Returns false, without running bcrypt, when `hash` is
// not a bcrypt hash or `password` contains a NUL byte; otherwise the call
// costs 2^cost rounds whatever the answer.
bool BcryptVerify(const std::string& password, const std::string& hash);

// A new "$2b$" hash of `password` with a fresh random salt and `cost`.
// Errors: kUnsupported when cost is outside [kBcryptMinCost, kBcryptMaxCost],
// the password is longer than kBcryptMaxPasswordBytes or contains a NUL;
// kInternal when libcrypt fails (no entropy, out of memory). The message
// never contains the password.
Result<std::string> BcryptHash(const std::string& password, int cost);

}  // namespace berth::crypto
