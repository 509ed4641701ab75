#include "storage/pg/pg_stores.hpp"

#include "storage/pg/pg_schema.hpp"

namespace berth::storage {
namespace {

Result<std::shared_ptr<pg::Pool>> OpenPool(const PgOptions& o) {
  pg::PoolOptions p;
  p.dsn = o.dsn;
  p.size = o.pool_size;
  p.connect_timeout_s = o.connect_timeout_s;
  p.statement_timeout_ms = o.statement_timeout_ms;
  p.acquire_timeout = std::chrono::milliseconds(o.acquire_timeout_ms);
  p.schema = o.schema;
  auto pool = pg::Pool::Open(p);
  if (!pool) return pool.status();
  return std::shared_ptr<pg::Pool>(std::move(pool).value());
}

}  // namespace

Result<PgStores> OpenPostgres(const PgOptions& options) {
  auto pool = OpenPool(options);
  if (!pool) return pool.status();
  Status s = options.migrate ? pg::Migrate(**pool) : pg::CheckSchemaVersion(**pool);
  if (!s.ok()) return s;
  PgStores stores;
  stores.pool = *pool;
  stores.metadata = std::make_unique<PgMetadataStore>(*pool);
  stores.refresh_tokens = std::make_unique<PgRefreshTokenStore>(*pool);
  stores.login_failures = std::make_unique<PgLoginFailureStore>(*pool);
  stores.leases = std::make_unique<PgLeaseTable>(*pool);
  stores.cluster_locks = std::make_unique<PgClusterLocks>(*pool);
  return stores;
}

Status MigratePostgres(const PgOptions& options) {
  PgOptions one = options;
  one.pool_size = 1;
  auto pool = OpenPool(one);
  if (!pool) return pool.status();
  return pg::Migrate(**pool);
}

}  // namespace berth::storage
