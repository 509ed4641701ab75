#include "storage/pg/pg_cluster_lock.hpp"

namespace berth::storage {
namespace {

class PgClusterLock final : public ClusterLock {
 public:
  PgClusterLock(std::shared_ptr<pg::Pool> pool, pg::Conn conn, int64_t key)
      : pool_(std::move(pool)), conn_(std::move(conn)), key_(key) {}
  ~PgClusterLock() override {
    // A failed unlock marks the connection broken, and closing it releases
    // the lock on the server anyway.
    conn_.Exec("SELECT pg_advisory_unlock($1)", {key_}).IgnoreError();
  }
  Status Check() override {
    // Held by this session? (It is gone with the session if the connection broke.)
    auto r = conn_.Exec(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND pid = pg_backend_pid() AND objsubid = 1 "
        "AND ((classid::bigint << 32) | objid::bigint) = $1::bigint",
        {key_});
    if (!r) return Status(Errc::kUnavailable, "cluster lock may be lost: " + r.status().message());
    if (r->Int(0, 0) == 0) return Status(Errc::kUnavailable, "cluster lock is no longer held");
    return Status::Ok();
  }

 private:
  std::shared_ptr<pg::Pool> pool_;  // outlives conn_
  pg::Conn conn_;
  const int64_t key_;
};

}  // namespace

Result<ClusterLockPtr> PgClusterLocks::TryLock(const std::string& name) {
  auto conn = pool_->Acquire();
  if (!conn) return conn.status();
  const int64_t key = pg::AdvisoryKey("berth.cluster:" + pool_->options().schema + ":" + name);
  auto r = conn->Exec("SELECT pg_try_advisory_lock($1)", {key});
  if (!r) return r.status();
  if (!r->Bool(0, 0)) return Status(Errc::kBusy, "lock " + name + " is held by another berth");
  return ClusterLockPtr(new PgClusterLock(pool_, std::move(conn).value(), key));
}

}  // namespace berth::storage
