#include "auth/token/shared_failure_limiter.hpp"

#include <limits>

#include "crypto/random.hpp"

namespace berth::auth {
namespace {

std::string Hex(const FailureKey& key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * key.size());
  for (unsigned char b : key) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

// How many failures on one node between two trims of the store to its size.
constexpr uint64_t kSizeTrimEvery = 64;

}  // namespace

Result<std::unique_ptr<SharedFailureLimiter>> SharedFailureLimiter::Open(
    storage::LoginFailureStore& store, FailureLimiterOptions options) {
  auto proposal = crypto::RandomHex(16);
  if (!proposal) return proposal.status();
  auto salt = store.Salt(*proposal);
  if (!salt) return salt.status();
  return std::unique_ptr<SharedFailureLimiter>(
      new SharedFailureLimiter(store, options, std::move(salt).value()));
}

Result<int64_t> SharedFailureLimiter::RetryAfter(std::string_view user, std::string_view address,
                                                 int64_t now) {
  auto until = store_.BlockedUntil(
      {Hex(UserAddressKey(salt_, user, address)), Hex(AddressKey(salt_, address))});
  if (!until) return until.status();
  return std::max<int64_t>(0, *until - now);
}

Status SharedFailureLimiter::Count(const std::string& key, const std::string& user_key,
                                   int64_t allowance, int64_t now) {
  auto failures = store_.Count(key, user_key, options_.window_seconds, now);
  if (!failures) return failures.status();
  if (int64_t wait = FailureWait(*failures, allowance, options_.max_wait_seconds); wait > 0) {
    return store_.Block(key, now + wait);
  }
  return Status::Ok();
}

Status SharedFailureLimiter::Failed(std::string_view user, std::string_view address, int64_t now) {
  // max_entries 0 keeps nothing, as in FailureLimiter.
  if (options_.max_entries == 0) return Status::Ok();
  const bool size_trim = failures_.fetch_add(1) % kSizeTrimEvery == 0;
  if (Status s = store_.Trim(now - options_.window_seconds, now,
                             size_trim ? options_.max_entries : std::numeric_limits<size_t>::max());
      !s.ok()) {
    return s;
  }
  if (Status s = Count(Hex(UserAddressKey(salt_, user, address)), Hex(UserKey(salt_, user)),
                       options_.free_failures, now);
      !s.ok()) {
    return s;
  }
  return Count(Hex(AddressKey(salt_, address)), "",
               options_.free_failures * options_.address_factor, now);
}

Status SharedFailureLimiter::Succeeded(std::string_view user) {
  return store_.ForgetUser(Hex(UserKey(salt_, user)));
}

}  // namespace berth::auth
