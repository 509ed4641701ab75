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
  std::vector<std::string> keys;
  for (const auto& d : digests) keys.push_back("blob:" + d.str());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  holder_ = locks_.NewHolder();
  const auto deadline = std::chrono::steady_clock::now() + locks_.lease_wait_;
  for (const auto& key : keys) {
    auto pause = std::chrono::milliseconds(5);
    while (true) {
      auto got = locks_.leases_->TryAcquire(key, holder_, kLeaseTtlSeconds);
      if (!got) {
        status_ = got.status();
        break;
      }
      if (*got) break;
      if (std::chrono::steady_clock::now() > deadline) {
        status_ = Status(Errc::kBusy, "another registry node holds " + key + "; retry");
        break;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(200));
    }
    if (!status_.ok()) break;
    leased_.push_back(key);
  }
  if (status_.ok()) return;
  // A guard that failed holds no lease: other nodes need not wait for it.
  for (const auto& k : leased_) (void)locks_.leases_->Release(k, holder_);
  leased_.clear();
}

}  // namespace berth::storage
