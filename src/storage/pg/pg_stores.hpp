// Opening berth's stores on PostgreSQL: one connection pool shared by the
// metadata (MetadataStore + LifecycleStore + EventQueue), the refresh
// tokens, the failed-login counts, the leases and the cluster locks.
//
// Thread-safety: OpenPostgres and MigratePostgres may run in several
// processes at once (migrations are serialised by an advisory lock).
#pragma once

#include <memory>
#include <string>

#include "common/result.hpp"
#include "storage/cluster_lock.hpp"
#include "storage/pg/pg.hpp"
#include "storage/pg/pg_cluster_lock.hpp"
#include "storage/pg/pg_lease_table.hpp"
#include "storage/pg/pg_login_failure_store.hpp"
#include "storage/pg/pg_metadata_store.hpp"
#include "storage/pg/pg_refresh_token_store.hpp"

namespace berth::storage {

struct PgOptions {
  // libpq conninfo string or URI, e.g. "host=db1 dbname=berth user=berth
  // password=...". Its statement_timeout, connect_timeout, keepalives and
  // `options` are overridden by the fields below.
  std::string dsn;
  // Connections at most (each is a server process). A held cluster lock
  // keeps one for itself. Default 8.
  size_t pool_size = 8;
  // Seconds to wait for a TCP connection and the login. Default 5.
  int connect_timeout_s = 5;
  // Longest a statement may run before it is cancelled (kUnavailable). 0 =
  // no limit. Default 30 s.
  int statement_timeout_ms = 30000;
  // How long a call waits for a free connection (kUnavailable after). Default 5 s.
  int acquire_timeout_ms = 5000;
  // Apply pending migrations before returning (the default). When false, a
  // schema that is not exactly at this build's version is refused
  // (kInternal, "run `berth migrate`").
  bool migrate = true;
  // Schema for all tables (empty: the server's search_path, normally
  // "public"). [a-z0-9_] only. Tests use one per case.
  std::string schema;
};

struct PgStores {
  std::shared_ptr<pg::Pool> pool;
  std::unique_ptr<PgMetadataStore> metadata;  // MetadataStore, LifecycleStore, EventQueue
  std::unique_ptr<PgRefreshTokenStore> refresh_tokens;
  std::unique_ptr<PgLoginFailureStore> login_failures;
  std::unique_ptr<PgLeaseTable> leases;
  std::unique_ptr<PgClusterLocks> cluster_locks;
};

// Connects (failing fast: kUnavailable when the server cannot be reached
// within connect_timeout_s), migrates or checks the schema, and returns the
// stores. Start-up only.
Result<PgStores> OpenPostgres(const PgOptions& options);

// Applies pending migrations and returns (for `berth migrate`). Running it
// again, or from several processes at once, applies each migration once.
// kInternal when the database is newer than this build or a migration fails;
// kUnavailable when the server cannot be reached.
Status MigratePostgres(const PgOptions& options);

}  // namespace berth::storage
