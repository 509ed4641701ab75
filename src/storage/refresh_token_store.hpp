// RefreshTokenStore: the token server's long-lived refresh tokens, kept only
// as SHA-256 hashes so a copy of the database grants nothing. They live in
// the storage root so they survive a restart and a failover.
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
};

class RefreshTokenStore {
 public:
  virtual ~RefreshTokenStore() = default;
  // Records the token whose hash (hex) is `token_hash`.
  virtual Status Save(const std::string& token_hash, const RefreshGrant& grant, int64_t now) = 0;
  // The grant of a stored token; kUnauthorized when unknown or revoked.
  virtual Result<RefreshGrant> Find(const std::string& token_hash) = 0;
  // Revokes every token of `subject` (all subjects when empty); returns how many.
  virtual Result<int64_t> Revoke(const std::string& subject) = 0;
};

using RefreshTokenStorePtr = std::unique_ptr<RefreshTokenStore>;

}  // namespace berth::storage
