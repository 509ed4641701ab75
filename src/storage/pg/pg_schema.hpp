// The PostgreSQL schema of berth's metadata and its versioned migrations.
// The schema is pictured in docs/storage-format.md ("PostgreSQL"); it holds
// the same tables as the SQLite metadata.db (schema v3) plus refresh_tokens
// (tokens.db in SQLite) and leases (LeaseTable).
//
// Migrations are an ordered list in pg_schema.cpp; each is applied in a
// transaction of its own and recorded in schema_migrations. A session
// advisory lock around the whole run makes several berths starting at once
// apply each migration exactly once: the others wait, then find it recorded.
//
// Thread-safety: functions are safe from many threads and processes.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "storage/pg/pg.hpp"

namespace berth::storage::pg {

// The newest migration this build knows.
int64_t LatestSchemaVersion();

// Applies the migrations not yet recorded, in order. kInternal when the
// database records a version newer than this build knows (an older berth
// must not write to it), or when a migration fails (that migration is rolled
// back; the ones before it stay). kUnavailable when the server is unreachable.
Status Migrate(Pool& pool);

// OK when the schema is exactly at LatestSchemaVersion(); kInternal naming
// the versions otherwise (for a berth started without migrating).
Status CheckSchemaVersion(Pool& pool);

// Every migration's SQL in order: the current schema, with columns in the
// order the migrated one has, for a copy in another schema
// (LifecycleStore::Copy). Unqualified names: runs in the search_path.
std::string CurrentSchemaDdl();

}  // namespace berth::storage::pg
