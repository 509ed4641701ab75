// RefreshTokenStore: the token server's long-lived refresh tokens, kept only
// as SHA-256 hashes so a copy of the database grants nothing. They live in
// the storage root so they survive a restart and a failover, and so that
// `berth user del|passwd` and `berth revoke-tokens` can revoke them while a
// token server runs.
//
// Each grant records the user's credential generation when it was made
// (auth::Authenticator::CredentialGeneration); the token server compares it
// with the current one on every refresh, so a changed password or a deleted
// account ends the token even when nobody revoked it here. `created` and
// `last_used` bound its age and its idle time.
//
// A backend without generations (Keystone) instead leaves its own session
// token with the grant, sealed under a key only the refresh token yields
// (crypto/sealed_secret.hpp), for the token server to re-check with the
// backend on every refresh.
//
// Thread-safety: implementations are safe to call from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"

namespace berth::storage {

// What a refresh token was issued for.
struct RefreshGrant {
  std::string subject;  // the user
  std::string service;  // the audience it is bound to
  bool admin = false;   // whether the login that made it was an admin's
  // The user's credential generation at login; empty when the backend has
  // none (Keystone) and for rows older than this field (never accepted
  // where the backend has generations).
  std::string generation;
  int64_t created = 0;    // Unix seconds; set by Save
  int64_t last_used = 0;  // Unix seconds of the last refresh (Touch), or created
  // The backend's session token (Keystone's X-Subject-Token) sealed with the
  // refresh token (crypto::SealSecret, hex); empty when the backend has
  // generations instead, and for rows from before this field.
  std::string sealed_session{};
};

class RefreshTokenStore {
 public:
  virtual ~RefreshTokenStore() = default;
  // Records the token whose hash (hex) is `token_hash`, created and last
  // used at `now` (grant.created and grant.last_used are ignored).
  virtual Status Save(const std::string& token_hash, const RefreshGrant& grant, int64_t now) = 0;
  // The grant of a stored token; kUnauthorized when unknown or revoked.
  virtual Result<RefreshGrant> Find(const std::string& token_hash) = 0;
  // Sets the token's last use to `now` (no error when it is gone).
  virtual Status Touch(const std::string& token_hash, int64_t now) = 0;
  // Revokes the one token whose hash is `token_hash` (a client's logout,
  // token_service.hpp); returns 1, or 0 when it was unknown.
  virtual Result<int64_t> RevokeOne(const std::string& token_hash) = 0;
  // Revokes every token of `subject` (all subjects when empty); returns how many.
  virtual Result<int64_t> Revoke(const std::string& subject) = 0;
  // Deletes the tokens created before `created_before` or last used before
  // `used_before` (both Unix seconds); returns how many.
  virtual Result<int64_t> DeleteExpired(int64_t created_before, int64_t used_before) = 0;
};

using RefreshTokenStorePtr = std::unique_ptr<RefreshTokenStore>;

}  // namespace berth::storage
