#include "auth/login_cache.hpp"

#include <stdexcept>
#include <utility>

#include "crypto/hasher.hpp"
#include "crypto/random.hpp"

namespace berth::auth {
namespace {

// Made with the cache, at start-up: failing here is a start-up failure.
std::string Salt() {
  auto salt = crypto::RandomHex(32);
  if (!salt) throw std::runtime_error("login cache: " + salt.status().message());
  return std::move(salt).value();
}

}  // namespace

LoginCache::LoginCache(LoginCacheOptions options, Clock clock)
    : options_(options),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      salt_(Salt()) {}

std::optional<std::string> LoginCache::Key(const std::string& user, const Secret& password,
                                           std::string_view generation) const {
  if (user.find('\0') != std::string::npos) return std::nullopt;
  if (generation.find('\0') != std::string_view::npos) return std::nullopt;
  crypto::Hasher h(DigestAlgorithm::kSha256);
  h.Update(salt_);
  h.Update(user);
  static constexpr char kSeparator[1] = {'\0'};
  h.Update(kSeparator);
  h.Update(generation);
  h.Update(kSeparator);
  h.Update(password.reveal());
  return h.Peek().hex();
}

std::optional<Identity> LoginCache::Lookup(const std::string& key) {
  MutexLock lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return std::nullopt;
  }
  if (clock_() >= it->second->expires) {
    order_.erase(it->second);
    index_.erase(it);
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  return it->second->identity;
}

CacheStats LoginCache::Stats() const {
  MutexLock lock(mu_);
  return {hits_, misses_, order_.size()};
}

void LoginCache::Insert(const std::string& key, const Identity& identity) {
  if (options_.ttl.count() <= 0 || options_.max_entries == 0) return;
  const TimePoint now = clock_();
  MutexLock lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    order_.erase(it->second);
    index_.erase(it);
  }
  DropExpiredLocked(now);
  while (order_.size() >= options_.max_entries) {
    index_.erase(order_.front().key);
    order_.pop_front();
  }
  order_.push_back(Entry{key, identity, now + options_.ttl});
  index_[key] = std::prev(order_.end());
}

void LoginCache::Clear() {
  MutexLock lock(mu_);
  index_.clear();
  order_.clear();
}

size_t LoginCache::size() const {
  MutexLock lock(mu_);
  return order_.size();
}

// Every entry has the same ttl, so the list is also in expiry order (unless
// the injected clock went backwards, which only delays the drop).
void LoginCache::DropExpiredLocked(TimePoint now) {
  while (!order_.empty() && now >= order_.front().expires) {
    index_.erase(order_.front().key);
    order_.pop_front();
  }
}

}  // namespace berth::auth
