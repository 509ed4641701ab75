// LoginLimiter: what the token server asks before and tells after checking a
// password, so that repeated failures slow a guesser down. Two
// implementations: FailureLimiter keeps the counts in this process (one
// token server), SharedFailureLimiter keeps them in a store every token
// server of a cluster shares (metadata.driver: postgres), so that a guesser
// gains nothing from a load balancer spreading its tries over the nodes.
//
// The rule both follow: failed logins are counted per (user, client address)
// and per client address; past a free allowance each further failure doubles
// a wait (up to a cap) during which attempts get 429 with Retry-After. The
// address allowance is `address_factor` times the user's. A success clears
// that user's counts on every address, not the address counts.
//
// Thread-safety: implementations are safe from many threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.hpp"

namespace berth::auth {

struct FailureLimiterOptions {
  int64_t free_failures = 5;       // per (user, address) before waits start
  int64_t address_factor = 4;      // an address alone gets this many times more
  int64_t window_seconds = 300;    // failures older than this are forgotten
  int64_t max_wait_seconds = 300;  // cap on one wait
  // Bound on remembered keys, user and address entries together (about 150
  // bytes each in memory); the least recently active entry makes room.
  size_t max_entries = 100000;
};

class LoginLimiter {
 public:
  virtual ~LoginLimiter() = default;
  // Seconds the client at `address` must still wait before trying `user`
  // again; 0 = go. Errors: the store could not be asked (kUnavailable).
  virtual Result<int64_t> RetryAfter(std::string_view user, std::string_view address,
                                     int64_t now) = 0;
  // Counts one failed login of `user` from `address`.
  virtual Status Failed(std::string_view user, std::string_view address, int64_t now) = 0;
  // Forgets the failures of `user` on every address (not the address counts).
  virtual Status Succeeded(std::string_view user) = 0;
};

// Names under which failures are counted: SHA-256 of (salt, kind, the
// length-prefixed parts) truncated to 16 bytes, so that a name of any size
// costs 16 bytes and no user name or address is kept.
using FailureKey = std::array<unsigned char, 16>;
FailureKey MakeFailureKey(std::string_view salt, char kind, std::string_view a,
                          std::string_view b = {});
inline FailureKey UserAddressKey(std::string_view salt, std::string_view user,
                                 std::string_view address) {
  return MakeFailureKey(salt, 'u', user, address);
}
inline FailureKey UserKey(std::string_view salt, std::string_view user) {
  return MakeFailureKey(salt, 'n', user);
}
inline FailureKey AddressKey(std::string_view salt, std::string_view address) {
  return MakeFailureKey(salt, 'a', address);
}

// The wait after the `failures`-th failure within a window against
// `allowance` free ones: 0 within the allowance, then 1, 2, 4 ... seconds up
// to `max_wait`.
int64_t FailureWait(int64_t failures, int64_t allowance, int64_t max_wait);

}  // namespace berth::auth
