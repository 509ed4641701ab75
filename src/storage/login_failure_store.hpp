// LoginFailureStore: failed-login counts where every token server of a
// cluster sees them (auth::SharedFailureLimiter keeps its counts here; the
// rule is in auth/token/login_limiter.hpp). Keys are opaque strings (hex of
// salted hashes): the store never sees a user name or an address.
//
// Thread-safety: implementations are safe to call from many threads, and
// from several processes sharing one store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace berth::storage {

class LoginFailureStore {
 public:
  virtual ~LoginFailureStore() = default;

  // The salt every node hashes keys with: `proposal` when none is stored
  // yet (the first caller's wins), the stored one otherwise.
  virtual Result<std::string> Salt(const std::string& proposal) = 0;
  // The latest end of a wait among `keys`; 0 when none is recorded.
  virtual Result<int64_t> BlockedUntil(const std::vector<std::string>& keys) = 0;
  // Counts one failure under `key` at `now`, atomically against other
  // nodes; a count whose last failure is more than `window` seconds old
  // starts again from 1. `user_key` (may be empty) groups the keys that
  // ForgetUser drops. Returns the new count.
  virtual Result<int64_t> Count(const std::string& key, const std::string& user_key, int64_t window,
                                int64_t now) = 0;
  // Makes `key` wait until at least `until`.
  virtual Status Block(const std::string& key, int64_t until) = 0;
  // Drops every key counted with `user_key`.
  virtual Status ForgetUser(const std::string& user_key) = 0;
  // Drops counts whose window has passed (last failure before
  // `stale_before`) and whose wait is over at `now`; then, when more than
  // `max_entries` are held, the least recently active ones.
  virtual Status Trim(int64_t stale_before, int64_t now, size_t max_entries) = 0;
  // Counts held, for tests.
  virtual Result<int64_t> Size() = 0;
};

}  // namespace berth::storage
