// PgClusterLocks: ClusterLocks (storage/cluster_lock.hpp) as PostgreSQL
// session advisory locks. A held lock keeps one connection of the pool for
// itself until released (size the pool for it); when that connection dies,
// the server releases the lock, and Check() then answers kUnavailable.
//
// Thread-safety: TryLock is safe from many threads.
#pragma once

#include <memory>

#include "storage/cluster_lock.hpp"
#include "storage/pg/pg.hpp"

namespace berth::storage {

class PgClusterLocks final : public ClusterLocks {
 public:
  explicit PgClusterLocks(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}
  // kBusy when another session (another berth, or another lock object
  // here) holds `name`.
  Result<ClusterLockPtr> TryLock(const std::string& name) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace berth::storage
