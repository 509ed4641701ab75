#include "storage/pg/pg_schema.hpp"

#include <vector>

namespace berth::storage::pg {
namespace {

// Version 1: everything the SQLite schema v3 has, plus refresh tokens and
// leases. Text keys are COLLATE "C" so that listings and cursors compare
// bytewise, as the interfaces promise (and SQLite does), whatever the
// database's default collation is. Times are Unix seconds (bigint) as in
// SQLite, except leases, whose expiry is the server's clock so that every
// node agrees on it.
constexpr const char* kV1 = R"sql(
CREATE TABLE repositories (
  id        bigserial PRIMARY KEY,
  name      text COLLATE "C" NOT NULL UNIQUE,
  namespace text COLLATE "C" NOT NULL
);
CREATE INDEX repositories_by_namespace ON repositories(namespace);
CREATE TABLE blobs (
  digest text COLLATE "C" PRIMARY KEY,
  size   bigint NOT NULL
);
CREATE TABLE repo_blobs (
  repo_id    bigint NOT NULL REFERENCES repositories(id),
  digest     text COLLATE "C" NOT NULL REFERENCES blobs(digest),
  touched_at bigint NOT NULL,
  PRIMARY KEY (repo_id, digest)
);
CREATE INDEX repo_blobs_by_digest ON repo_blobs(digest);
CREATE TABLE manifests (
  repo_id       bigint NOT NULL REFERENCES repositories(id),
  digest        text COLLATE "C" NOT NULL,
  media_type    text NOT NULL,
  content       bytea NOT NULL,
  subject       text COLLATE "C",
  artifact_type text,
  annotations   text,
  touched_at    bigint NOT NULL,
  PRIMARY KEY (repo_id, digest)
);
CREATE INDEX manifests_by_subject ON manifests(repo_id, subject) WHERE subject IS NOT NULL;
CREATE TABLE manifest_refs (
  repo_id bigint NOT NULL,
  digest  text COLLATE "C" NOT NULL,
  ref     text COLLATE "C" NOT NULL,
  PRIMARY KEY (repo_id, digest, ref)
);
CREATE INDEX manifest_refs_by_ref ON manifest_refs(repo_id, ref);
CREATE TABLE tags (
  repo_id   bigint NOT NULL REFERENCES repositories(id),
  name      text COLLATE "C" NOT NULL,
  digest    text COLLATE "C" NOT NULL,
  pushed_at bigint NOT NULL,
  pulled_at bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (repo_id, name)
);
CREATE INDEX tags_by_digest ON tags(repo_id, digest);
CREATE TABLE event_queue (
  seq         bigserial PRIMARY KEY,
  endpoint    text NOT NULL,
  event_id    text NOT NULL,
  payload     text NOT NULL,
  recorded_at bigint NOT NULL
);
CREATE INDEX event_queue_by_endpoint ON event_queue(endpoint, seq);
CREATE TABLE refresh_tokens (
  hash       text PRIMARY KEY,
  subject    text NOT NULL,
  service    text NOT NULL,
  admin      boolean NOT NULL,
  generation text NOT NULL,
  created    bigint NOT NULL,
  last_used  bigint NOT NULL
);
CREATE INDEX refresh_tokens_by_subject ON refresh_tokens(subject);
CREATE TABLE leases (
  key        text PRIMARY KEY,
  holder     text NOT NULL,
  expires_at timestamptz NOT NULL
);
)sql";

// Version 2: failed-login counts shared by the token servers
// (PgLoginFailureStore), and the cluster's settings (the salt of their keys).
constexpr const char* kV2 = R"sql(
CREATE TABLE cluster_settings (
  name  text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE login_failures (
  key           text PRIMARY KEY,
  user_key      text NOT NULL,
  failures      bigint NOT NULL,
  last          bigint NOT NULL,
  blocked_until bigint NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures(user_key) WHERE user_key <> '';
CREATE INDEX login_failures_by_last ON login_failures(last);
)sql";

// Version 3: the identity backend's session sealed with a refresh token
// (Keystone's token, RefreshGrant::sealed_session). Existing rows get none,
// and keep working as before.
constexpr const char* kV3 = R"sql(
ALTER TABLE refresh_tokens ADD COLUMN sealed_session text NOT NULL DEFAULT '';
)sql";

struct Migration {
  int64_t version;
  const char* name;
  const char* sql;
};

// Append only: never edit a migration that has shipped.
const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> list = {
      {1, "initial schema", kV1},
      {2, "shared login failure counts", kV2},
      {3, "sealed backend sessions of refresh tokens", kV3},
  };
  return list;
}

constexpr const char* kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version bigint PRIMARY KEY, name text NOT NULL, "
    "applied_at timestamptz NOT NULL DEFAULT now())";

Result<int64_t> AppliedVersion(Conn& c) {
  auto exists = c.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists) return exists.status();
  if (!exists->Bool(0, 0)) return int64_t{0};
  auto v = c.Exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!v) return v.status();
  return v->Int(0, 0);
}

Status TooNew(int64_t version) {
  return {Errc::kInternal, "the PostgreSQL schema is at version " + std::to_string(version) +
                               ", newer than this berth understands (" +
                               std::to_string(LatestSchemaVersion()) + ")"};
}

}  // namespace

int64_t LatestSchemaVersion() { return Migrations().back().version; }

std::string CurrentSchemaDdl() {
  std::string ddl;
  for (const auto& m : Migrations()) ddl += m.sql;
  return ddl;
}

Status Migrate(Pool& pool) {
  auto conn = pool.Acquire();
  if (!conn) return conn.status();
  Conn& c = *conn;
  // Waiting for another berth's migration, and a migration that rewrites a
  // large table, may take longer than a request's statement may: no
  // statement timeout on this connection until the run is over.
  if (Status s = c.ExecScript("SET statement_timeout = 0"); !s.ok()) return s;
  // Keyed on the schema, so that berths using different schemas of one
  // database do not wait for each other.
  const int64_t key = AdvisoryKey("berth.migrate:" + pool.options().schema);
  if (auto r = c.Exec("SELECT pg_advisory_lock($1)", {key}); !r) return r.status();
  Status result = [&]() -> Status {
    if (Status s = c.ExecScript(kMigrationsTable); !s.ok()) return s;
    auto applied = AppliedVersion(c);
    if (!applied) return applied.status();
    if (*applied > LatestSchemaVersion()) return TooNew(*applied);
    for (const auto& m : Migrations()) {
      if (m.version <= *applied) continue;
      if (Status s = c.ExecScript("BEGIN"); !s.ok()) return s;
      Status s = c.ExecScript(m.sql);
      if (s.ok()) {
        auto r = c.Exec("INSERT INTO schema_migrations(version, name) VALUES ($1, $2)",
                        {m.version, m.name});
        if (!r) s = r.status();
      }
      if (s.ok()) s = c.ExecScript("COMMIT");
      if (!s.ok()) {
        // The failure below is what matters; a rollback that fails too means a
        // broken connection, which the server rolls back as it closes.
        c.ExecScript("ROLLBACK").IgnoreError();
        return Status(
            s.code() == Errc::kUnavailable ? Errc::kUnavailable : Errc::kInternal,
            "migration " + std::to_string(m.version) + " (" + m.name + ") failed: " + s.message());
      }
    }
    return Status::Ok();
  }();
  // Released explicitly so the connection can go back to the pool; when the
  // connection is gone the server has released it already.
  if (auto r = c.Exec("SELECT pg_advisory_unlock($1)", {key}); !r && result.ok()) {
    return r.status();
  }
  if (Status s = c.ExecScript("RESET statement_timeout"); !s.ok() && result.ok()) return s;
  return result;
}

Status CheckSchemaVersion(Pool& pool) {
  auto conn = pool.Acquire();
  if (!conn) return conn.status();
  auto applied = AppliedVersion(*conn);
  if (!applied) return applied.status();
  if (*applied > LatestSchemaVersion()) return TooNew(*applied);
  if (*applied < LatestSchemaVersion()) {
    return {Errc::kInternal, "the PostgreSQL schema is at version " + std::to_string(*applied) +
                                 ", this berth needs " + std::to_string(LatestSchemaVersion()) +
                                 ": run `berth migrate`"};
  }
  return Status::Ok();
}

}  // namespace berth::storage::pg
