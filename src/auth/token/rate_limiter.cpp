#include "auth/token/rate_limiter.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "crypto/hasher.hpp"
#include "crypto/random.hpp"

namespace berth::auth {
namespace {

// Made with the limiter, at start-up: failing here is a start-up failure.
std::string Salt() {
  auto salt = crypto::RandomHex(16);
  if (!salt) throw std::runtime_error("failure limiter: " + salt.status().message());
  return std::move(salt).value();
}

// Hashes a length-prefixed part, so that ("ab", "c") and ("a", "bc") differ
// whatever bytes a client puts in a name.
void UpdatePart(crypto::Hasher& h, std::string_view part) {
  const uint64_t n = part.size();
  char len[sizeof n];
  std::memcpy(len, &n, sizeof n);
  h.Update(len);
  h.Update(part);
}

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

}  // namespace

FailureKey MakeFailureKey(std::string_view salt, char kind, std::string_view a,
                          std::string_view b) {
  crypto::Hasher h(DigestAlgorithm::kSha256);
  h.Update(salt);
  h.Update(std::string_view(&kind, 1));
  UpdatePart(h, a);
  UpdatePart(h, b);
  const std::string hex = h.Peek().hex();  // 64 lower-case hex digits
  FailureKey key;
  for (size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<unsigned char>(HexValue(hex[2 * i]) << 4 | HexValue(hex[2 * i + 1]));
  }
  return key;
}

int64_t FailureWait(int64_t failures, int64_t allowance, int64_t max_wait) {
  const int64_t over = failures - allowance;
  if (over <= 0) return 0;
  return over >= 20 ? max_wait : std::min<int64_t>(max_wait, int64_t{1} << (over - 1));
}

size_t FailureLimiter::KeyHash::operator()(const Key& k) const {
  // The key is already a salted hash: any 8 of its bytes are uniform.
  size_t h;
  std::memcpy(&h, k.data(), sizeof h);
  return h;
}

FailureLimiter::FailureLimiter(FailureLimiterOptions options) : options_(options), salt_(Salt()) {}

void FailureLimiter::EraseLocked(Order::iterator it) {
  if (it->user != Key{}) {
    auto u = by_user_.find(it->user);
    if (u != by_user_.end()) {
      std::erase(u->second, it->key);
      if (u->second.empty()) by_user_.erase(u);
    }
  }
  index_.erase(it->key);
  order_.erase(it);
}

// The list is roughly in time order (a blocked entry moves to the back when
// asked about), so expired entries gather at the front; stopping at the
// first live one may keep a few expired ones until they reach the front,
// which only delays their drop.
void FailureLimiter::DropExpiredLocked(int64_t now) {
  while (!order_.empty()) {
    const Entry& e = order_.front();
    if (now - e.last <= options_.window_seconds || e.blocked_until > now) break;
    EraseLocked(order_.begin());
  }
}

int64_t FailureLimiter::WaitLocked(const Key& key, int64_t now) {
  auto it = index_.find(key);
  if (it == index_.end()) return 0;
  const int64_t wait = std::max<int64_t>(0, it->second->blocked_until - now);
  // A client that keeps knocking while blocked keeps its entry fresh, so a
  // sprayer cannot push a running block out of the table.
  if (wait > 0) order_.splice(order_.end(), order_, it->second);
  return wait;
}

Result<int64_t> FailureLimiter::RetryAfter(std::string_view user, std::string_view address,
                                           int64_t now) {
  const Key ua = UserAddressKey(salt_, user, address);
  const Key a = AddressKey(salt_, address);
  MutexLock lock(mu_);
  return std::max(WaitLocked(ua, now), WaitLocked(a, now));
}

void FailureLimiter::CountLocked(const Key& key, const Key* user, int64_t allowance, int64_t now) {
  auto found = index_.find(key);
  Order::iterator it;
  if (found != index_.end()) {
    it = found->second;
    order_.splice(order_.end(), order_, it);
  } else {
    if (options_.max_entries == 0) return;
    while (order_.size() >= options_.max_entries) EraseLocked(order_.begin());
    order_.push_back(Entry{key, user ? *user : Key{}, 0, 0, 0});
    it = std::prev(order_.end());
    index_.emplace(key, it);
    if (user) by_user_[*user].push_back(key);
  }
  Entry& e = *it;
  if (now - e.last > options_.window_seconds) e.failures = 0;
  e.failures++;
  e.last = now;
  if (int64_t wait = FailureWait(e.failures, allowance, options_.max_wait_seconds); wait > 0) {
    e.blocked_until = now + wait;
  }
}

Status FailureLimiter::Failed(std::string_view user, std::string_view address, int64_t now) {
  const Key ua = UserAddressKey(salt_, user, address);
  const Key u = UserKey(salt_, user);
  const Key a = AddressKey(salt_, address);
  MutexLock lock(mu_);
  DropExpiredLocked(now);
  CountLocked(ua, &u, options_.free_failures, now);
  CountLocked(a, nullptr, options_.free_failures * options_.address_factor, now);
  return Status::Ok();
}

Status FailureLimiter::Succeeded(std::string_view user) {
  const Key u = UserKey(salt_, user);
  MutexLock lock(mu_);
  auto found = by_user_.find(u);
  if (found == by_user_.end()) return Status::Ok();
  const std::vector<Key> keys = std::move(found->second);
  by_user_.erase(found);
  for (const Key& k : keys) {
    if (auto it = index_.find(k); it != index_.end()) {
      order_.erase(it->second);
      index_.erase(it);
    }
  }
  return Status::Ok();
}

size_t FailureLimiter::size() const {
  MutexLock lock(mu_);
  return order_.size();
}

}  // namespace berth::auth
