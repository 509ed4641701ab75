// Test helper: applies berth's PostgreSQL migrations to the database named
// by BERTH_PG_DSN (schema: argv[1], if given) and exits 0, or prints the
// error and exits 1. tests/integration/pg_store_test.sh runs several at once.

#include <cstdio>
#include <cstdlib>

#include "storage/pg/pg_stores.hpp"

int main(int argc, char** argv) {
  const char* dsn = std::getenv("BERTH_PG_DSN");
  if (!dsn) {
    std::fprintf(stderr, "BERTH_PG_DSN is not set\n");
    return 2;
  }
  berth::storage::PgOptions o;
  o.dsn = dsn;
  if (argc > 1) o.schema = argv[1];
  berth::Status s = berth::storage::MigratePostgres(o);
  if (!s.ok()) {
    std::fprintf(stderr, "migrate: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
