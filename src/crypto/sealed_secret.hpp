// SealSecret / OpenSealed: keep a secret (the identity backend's own session
// token, e.g. Keystone's X-Subject-Token) next to a refresh token's hash so
// that only whoever holds the refresh token itself can read it back.
//
// The key is HKDF-SHA256 (RFC 5869) of the refresh token, with a fixed salt
// and a versioned info label; the cipher is AES-256-GCM (OpenSSL 3 EVP) with
// a random 96-bit nonce. `context` (the grant's subject and service) is
// authenticated data: a row whose user was rewritten no longer opens. The
// sealed text is lower-case hex of
//
//   0x01 (version) | nonce (12 bytes) | ciphertext | tag (16 bytes)
//
// The store keeps only SHA-256 of the refresh token, so a stolen copy of it
// opens nothing. A refresh token has 256 random bits; HKDF needs no stretching.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/secret.hpp"

namespace berth::crypto {

// Seals `secret` under a key derived from `key_material` (the refresh
// token), binding `context`. Errors: kInternal when OpenSSL or the kernel's
// random source fails. REQUIRES: key_material is not empty.
Result<std::string> SealSecret(std::string_view key_material, std::string_view context,
                               const Secret& secret);

// Opens what SealSecret made with the same `key_material` and `context`.
// Errors: kUnauthorized when the text is malformed, of another version, or
// does not authenticate (wrong key, other context, tampered), never telling
// which; kInternal when OpenSSL fails.
Result<Secret> OpenSealed(std::string_view key_material, std::string_view context,
                          std::string_view sealed);

}  // namespace berth::crypto
