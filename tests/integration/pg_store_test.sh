#!/usr/bin/env bash
# The PostgreSQL metadata stores against a real PostgreSQL 15: starts a
# throwaway server (tests/support/postgres.sh), runs the store conformance
# suite's PostgreSQL half and migration cases with BERTH_PG_DSN set (none
# may be skipped), then checks the migrations from outside: run twice (the
# second is a no-op) and from several processes at once (all succeed, each
# migration applied once). Needs the postgresql package (as root: the
# server runs as the postgres user).
source "$(dirname "$0")/lib.sh"

BUILD=${BUILD:-$TOP/build}
CONFORMANCE=${CONFORMANCE_BIN:-$BUILD/tests/unit/berth_store_conformance_tests}
MIGRATE=${PG_MIGRATE_BIN:-$BUILD/tests/unit/berth_pg_migrate_tool}
PGDIR=$WORK/pg

cleanup_pg() {
  "$TOP/tests/support/postgres.sh" stop "$PGDIR" 2>/dev/null
  cleanup
}
trap cleanup_pg EXIT

for bin in "$CONFORMANCE" "$MIGRATE"; do
  if [[ ! -x $bin ]]; then
    fail "$(basename "$bin") is not built (make berth_store_conformance_tests berth_pg_migrate_tool)"
    summary
    exit 1
  fi
done

if ! timeout 60 "$TOP/tests/support/postgres.sh" start "$PGDIR" >"$WORK/pg-start.log" 2>&1; then
  fail "PostgreSQL started"
  cat "$WORK/pg-start.log"
  summary
  exit 1
fi
pass "PostgreSQL started"
# shellcheck disable=SC1091
source "$PGDIR/pg.env"
export BERTH_PG_DSN

# --- the conformance suite, PostgreSQL half ---
out=$(timeout 600 "$CONFORMANCE" --gtest_filter='*/Postgres:PgMigration*:PgPool*' 2>&1)
rc=$?
echo "$out" | grep -E '^\[  (FAILED|SKIPPED) ' | sort -u
ran=$(sed -nE 's/^\[==========\] ([0-9]+) tests? from .* ran\..*/\1/p' <<<"$out")
passed=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\./\1/p' <<<"$out")
skipped=$(sed -nE 's/^\[  SKIPPED \] ([0-9]+) tests?, listed below:/\1/p' <<<"$out")
expect_eq "conformance suite exits 0" 0 "$rc"
expect_eq "no conformance case skipped" 0 "${skipped:-0}"
expect_eq "every conformance case passed" "${ran:-?}" "${passed:-none}"
if [[ ${ran:-0} -ge 61 ]]; then
  pass "conformance: $ran PostgreSQL cases ran"
else
  fail "conformance: only ${ran:-0} PostgreSQL cases ran (61 or more expected)"
fi

psql_q() { timeout 20 psql "$BERTH_PG_DSN" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# Each case's schema, and every GC dry-run copy (berth_copy_*), is gone.
expect_eq "no schema left behind by the suite or by dry-run copies" 0 \
  "$(psql_q "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'berth\_%'")"

# --- migrations twice, in the default schema (as `berth migrate` runs) ---
check "first migration run succeeds" timeout 60 "$MIGRATE"
first=$(psql_q "SELECT count(*), max(applied_at) FROM schema_migrations")
check "second migration run succeeds" timeout 60 "$MIGRATE"
second=$(psql_q "SELECT count(*), max(applied_at) FROM schema_migrations")
expect_eq "second run is a no-op (same rows, same times)" "$first" "$second"
# Versions 1 (initial schema), 2 (shared login failure counts) and 3
# (refresh_tokens.sealed_session).
expect_eq "each migration recorded once" "1 2 3" \
  "$(psql_q "SELECT version FROM schema_migrations ORDER BY version" | xargs)"
tables=$(psql_q "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
expect_eq "all tables of the schema exist" 12 "$tables"

# --- migrations from several processes at once, on a fresh schema ---
psql_q "CREATE SCHEMA racing" || fail "create schema racing"
pids=()
for i in 1 2 3 4; do
  timeout 60 "$MIGRATE" racing >"$WORK/migrate-$i.log" 2>&1 &
  pids+=($!)
done
ok=0
for p in "${pids[@]}"; do
  if wait "$p"; then ok=$((ok + 1)); fi
done
expect_eq "4 concurrent migration runs all succeed" 4 "$ok"
cat "$WORK"/migrate-*.log
expect_eq "concurrent runs applied each migration once" "1 2 3" \
  "$(psql_q "SELECT version FROM racing.schema_migrations ORDER BY version" | xargs)"
expect_eq "concurrent runs made every table" 12 \
  "$(psql_q "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'racing'")"

"$TOP/tests/support/postgres.sh" stop "$PGDIR"
if [[ -f $PGDIR/data/postmaster.pid ]]; then
  fail "PostgreSQL stopped"
else
  pass "PostgreSQL stopped"
fi
summary
