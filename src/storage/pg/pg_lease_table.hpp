// PgLeaseTable: LeaseTable on table leases of the shared PostgreSQL
// database. Expiry is computed on the database server's clock, so nodes
// with skewed clocks still agree on when a lease lapsed.
//
// Thread-safety: safe from many threads; each call takes a pooled connection.
#pragma once

#include <memory>

#include "storage/lease_table.hpp"
#include "storage/pg/pg.hpp"

namespace berth::storage {

class PgLeaseTable final : public LeaseTable {
 public:
  // REQUIRES: the schema is migrated (pg::Migrate).
  explicit PgLeaseTable(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  Result<bool> TryAcquire(const std::string& key, const std::string& holder,
                          int64_t ttl_seconds) override;
  Status Release(const std::string& key, const std::string& holder) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace berth::storage
