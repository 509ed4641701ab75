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
    : options_(options), salt_(Salt()), entries_(options.max_entries, std::move(clock)) {}

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

std::optional<Identity> LoginCache::Lookup(const std::string& key) { return entries_.Lookup(key); }

CacheStats LoginCache::Stats() const { return entries_.Stats(); }

void LoginCache::Insert(const std::string& key, const Identity& identity) {
  entries_.Insert(key, identity, options_.ttl);
}

void LoginCache::Clear() { entries_.Clear(); }

size_t LoginCache::size() const { return entries_.size(); }

}  // namespace berth::auth
