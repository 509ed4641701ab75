// ClusterLock: "one node acts alone" for work that must not run on two
// berths at once (garbage collection). A lock is held from TryLock until
// the returned object is dropped. LocalClusterLocks is the single-node
// implementation (a set of names in this process); the PostgreSQL one
// (storage/pg/pg_cluster_lock.hpp) holds a session advisory lock on a
// connection of its own, so a node that dies loses its locks with its
// connection.
//
// Thread-safety: ClusterLocks implementations are safe from many threads; a
// ClusterLock belongs to the thread that uses it.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/result.hpp"
#include "common/thread_annotations.hpp"

namespace berth::storage {

class ClusterLock {
 public:
  virtual ~ClusterLock() = default;  // releases the lock
  // OK while the lock is surely still held; kUnavailable when it may have
  // been lost (the database connection behind it broke): stop the work.
  // Long runs call it between batches.
  virtual Status Check() = 0;
};
using ClusterLockPtr = std::unique_ptr<ClusterLock>;

class ClusterLocks {
 public:
  virtual ~ClusterLocks() = default;
  // Takes the lock `name` without waiting. kBusy when another holder
  // (another node, or another caller here) has it; kUnavailable when the
  // lock service cannot be reached.
  virtual Result<ClusterLockPtr> TryLock(const std::string& name) = 0;
};
using ClusterLocksPtr = std::unique_ptr<ClusterLocks>;

// For a single berth: the locks live in this process.
// REQUIRES: the LocalClusterLocks outlives every lock it gave.
class LocalClusterLocks final : public ClusterLocks {
 public:
  Result<ClusterLockPtr> TryLock(const std::string& name) override {
    MutexLock lock(mu_);
    if (!held_.insert(name).second) return Status(Errc::kBusy, "lock " + name + " is held");
    return ClusterLockPtr(new Held(*this, name));
  }

 private:
  class Held final : public ClusterLock {
   public:
    Held(LocalClusterLocks& owner, std::string name) : owner_(owner), name_(std::move(name)) {}
    ~Held() override {
      MutexLock lock(owner_.mu_);
      owner_.held_.erase(name_);
    }
    Status Check() override { return Status::Ok(); }

   private:
    LocalClusterLocks& owner_;
    const std::string name_;
  };
  Mutex mu_;
  std::set<std::string> held_ GUARDED_BY(mu_);
};

}  // namespace berth::storage
