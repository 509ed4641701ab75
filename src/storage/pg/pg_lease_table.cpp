#include "storage/pg/pg_lease_table.hpp"

namespace berth::storage {

Result<bool> PgLeaseTable::TryAcquire(const std::string& key, const std::string& holder,
                                      int64_t ttl_seconds) {
  bool taken = false;
  // One statement: the row lock ON CONFLICT takes makes the condition and
  // the update atomic against another node trying at the same moment.
  Status s = pg::InTransaction(*pool_, [&](pg::Conn& c) -> Status {
    auto r = c.Exec(
        "INSERT INTO leases(key, holder, expires_at) "
        "VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3)) "
        "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = "
        "excluded.expires_at "
        "WHERE leases.holder = excluded.holder OR leases.expires_at <= clock_timestamp() "
        "RETURNING 1",
        {key, holder, ttl_seconds});
    if (!r) return r.status();
    taken = !r->empty();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return taken;
}

Status PgLeaseTable::Release(const std::string& key, const std::string& holder) {
  return pg::InTransaction(*pool_, [&](pg::Conn& c) -> Status {
    auto r = c.Exec("DELETE FROM leases WHERE key = $1 AND holder = $2", {key, holder});
    return r ? Status::Ok() : r.status();
  });
}

}  // namespace berth::storage
