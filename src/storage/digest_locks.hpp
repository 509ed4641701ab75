// DigestLocks: in-process locks by blob digest, striped. Publishing an upload
// (rename into blobs/, then the link transaction) and removing an unlinked
// blob (its row, then its file) hold the lock of that digest, so GC never
// removes a file that a push is about to link (docs/lifecycle.md).
//
// Thread-safety: safe from many threads. Lock stripes in ascending order
// only (Guard does), so two holders of several stripes cannot deadlock.
#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

#include "common/digest.hpp"

namespace berth::storage {

class DigestLocks {
 public:
  // Enough that a GC batch (gc.batch digests, 256 by default) holds a few
  // percent of the stripes, so pushes rarely meet it; 4096 mutexes are 160 KiB.
  static constexpr size_t kStripes = 4096;

  // Holds the stripes of some digests until destroyed.
  class Guard {
   public:
    Guard(DigestLocks& locks, const std::vector<Digest>& digests) : locks_(locks) {
      for (const auto& d : digests) stripes_.push_back(locks.StripeOf(d));
      std::sort(stripes_.begin(), stripes_.end());
      stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
      for (size_t s : stripes_) locks_.mu_[s].lock();
    }
    ~Guard() {
      for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) locks_.mu_[*it].unlock();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    DigestLocks& locks_;
    std::vector<size_t> stripes_;
  };

  Guard Lock(const Digest& digest) { return Guard(*this, {digest}); }
  Guard Lock(const std::vector<Digest>& digests) { return Guard(*this, digests); }

 private:
  size_t StripeOf(const Digest& d) const { return std::hash<std::string_view>()(d.hex()) % kStripes; }

  std::array<std::mutex, kStripes> mu_;
};

}  // namespace berth::storage
