#include "storage/digest_locks.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "crypto/random.hpp"

namespace berth::storage {

std::string DigestLocks::NewHolder() {
  if (auto r = crypto::RandomHex(16)) return *r;
  // Without randomness, the host, process and a counter are unique enough
  // for a lease holder (it only has to differ from every other guard's).
  static std::atomic<uint64_t> n{0};
  char host[64] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

void DigestLocks::Guard::TakeLeases(const std::vector<Digest>& digests) {
  std::vector<std::pair<std::string, const Digest*>> keys;
  keys.reserve(digests.size());
  for (const auto& d : digests) keys.emplace_back("blob:" + d.str(), &d);
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  keys.erase(std::unique(keys.begin(), keys.end(),
                         [](const auto& a, const auto& b) { return a.first == b.first; }),
             keys.end());
  holder_ = locks_.NewHolder();
  const auto deadline = std::chrono::steady_clock::now() + locks_.lease_wait_;
  for (const auto& [key, digest] : keys) {
    auto pause = std::chrono::milliseconds(5);
    bool skipped = false;
    while (true) {
      auto got = locks_.leases_->TryAcquire(key, holder_, kLeaseTtlSeconds);
      if (!got) {
        status_ = got.status();
        break;
      }
      if (*got) break;
      if (!wait_) {
        skipped = true;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        status_ = Status(Errc::kBusy, "another registry node holds " + key + "; retry");
        break;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(200));
    }
    if (!status_.ok()) break;
    if (skipped) continue;
    leased_.push_back(key);
    held_.push_back(*digest);
  }
  if (status_.ok()) return;
  held_.clear();
  // A guard that failed holds no lease: other nodes need not wait for it.
  for (const auto& k : leased_) locks_.leases_->Release(k, holder_).IgnoreError();
  leased_.clear();
}

}  // namespace berth::storage
