// DigestLocks: locks by blob digest. Publishing an upload (rename into
// blobs/, then the link transaction) and removing an unlinked blob (its row,
// then its file) hold the lock of that digest, so GC never removes a file
// that a push is about to link (docs/lifecycle.md).
//
// In one process they are striped mutexes. When several berths share the
// stores, a LeaseTable (shared by all of them) extends them across nodes:
// a guard then also holds the lease "blob:<digest>" of each digest, taken
// after the local stripes, in digest order, waiting up to kLeaseWait (or
// the wait given). A guard
// that could not get them is not ok(), and its holder must give up (kBusy).
//
// Thread-safety: safe from many threads. Lock stripes (and leases) in
// ascending order only (Guard does), so two holders cannot deadlock.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.hpp"
#include "storage/lease_table.hpp"

namespace berth::storage {

class DigestLocks {
 public:
  // Enough that a GC batch (gc.batch digests, 256 by default) holds a few
  // percent of the stripes, so pushes rarely meet it; 4096 mutexes are 160 KiB.
  static constexpr size_t kStripes = 4096;
  // Longest a guard waits for another node's lease; longer than any publish.
  static constexpr std::chrono::seconds kLeaseWait{60};
  // A lease outlives a node that died holding it by at most this.
  static constexpr int64_t kLeaseTtlSeconds = 300;

  DigestLocks() = default;
  // `leases` (may be null: this process alone) must outlive the locks.
  explicit DigestLocks(LeaseTable* leases, std::chrono::milliseconds lease_wait = kLeaseWait)
      : leases_(leases), lease_wait_(lease_wait) {}

  // Holds the stripes of some digests until destroyed.
  class Guard {
   public:
    // `wait` false: a digest whose lease another node holds is left out
    // (see held()) instead of waited for.
    Guard(DigestLocks& locks, const std::vector<Digest>& digests, bool wait = true)
        : locks_(locks), wait_(wait) {
      for (const auto& d : digests) stripes_.push_back(locks.StripeOf(d));
      std::sort(stripes_.begin(), stripes_.end());
      stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
      for (size_t s : stripes_) locks_.mu_[s].lock();
      if (locks_.leases_) {
        TakeLeases(digests);
      } else {
        held_ = digests;
      }
    }
    ~Guard() {
      for (auto it = leased_.rbegin(); it != leased_.rend(); ++it) {
        locks_.leases_->Release(*it, holder_).IgnoreError();  // else it lapses after its TTL
      }
      for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) locks_.mu_[*it].unlock();
    }
    // False when another node kept a digest's lease past kLeaseWait, or the
    // lease table failed: the caller must not act on the digests.
    bool ok() const { return status_.ok(); }
    const Status& status() const { return status_; }
    // The digests this guard holds: all of them, except those a guard made
    // with `wait` false left to another node.
    const std::vector<Digest>& held() const { return held_; }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    void TakeLeases(const std::vector<Digest>& digests);

    DigestLocks& locks_;
    std::vector<size_t> stripes_;
    const bool wait_ = true;
    std::vector<std::string> leased_;
    std::vector<Digest> held_;
    std::string holder_;
    Status status_;
  };

  Guard Lock(const Digest& digest) { return Guard(*this, {digest}); }
  Guard Lock(const std::vector<Digest>& digests) { return Guard(*this, digests); }
  // For GC: what another node is publishing right now is not garbage; the
  // guard holds the rest (Guard::held) and waits for no lease.
  Guard LockAvailable(const std::vector<Digest>& digests) { return Guard(*this, digests, false); }

 private:
  size_t StripeOf(const Digest& d) const {
    return std::hash<std::string_view>()(d.hex()) % kStripes;
  }

  // Unique per guard across nodes and restarts.
  std::string NewHolder();

  std::array<std::mutex, kStripes> mu_;
  LeaseTable* leases_ = nullptr;
  std::chrono::milliseconds lease_wait_ = kLeaseWait;
};

}  // namespace berth::storage
