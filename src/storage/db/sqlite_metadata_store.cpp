#include "storage/db/sqlite_metadata_store.hpp"

#include <algorithm>
#include <limits>

namespace berth::storage {
namespace {

// Schema version 1. A later version adds a migration step below it; never
// edit a step that has shipped.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE repositories (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE blobs (
  digest TEXT PRIMARY KEY,
  size   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE repo_blobs (
  repo_id INTEGER NOT NULL REFERENCES repositories(id),
  digest  TEXT NOT NULL REFERENCES blobs(digest),
  PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;
CREATE TABLE manifests (
  repo_id       INTEGER NOT NULL REFERENCES repositories(id),
  digest        TEXT NOT NULL,
  media_type    TEXT NOT NULL,
  content       BLOB NOT NULL,
  subject       TEXT,
  artifact_type TEXT,
  annotations   TEXT,
  PRIMARY KEY (repo_id, digest)
);
CREATE INDEX manifests_by_subject ON manifests(repo_id, subject) WHERE subject IS NOT NULL;
CREATE TABLE manifest_refs (
  repo_id INTEGER NOT NULL,
  digest  TEXT NOT NULL,
  ref     TEXT NOT NULL,
  PRIMARY KEY (repo_id, digest, ref)
) WITHOUT ROWID;
CREATE TABLE tags (
  repo_id INTEGER NOT NULL REFERENCES repositories(id),
  name    TEXT NOT NULL,
  digest  TEXT NOT NULL,
  PRIMARY KEY (repo_id, name)
) WITHOUT ROWID;
CREATE INDEX tags_by_digest ON tags(repo_id, digest);
)sql";

// Schema version 2 (storage lifecycle, docs/lifecycle.md): the times GC
// delays count from, the pull and push times retention reads, each
// repository's namespace for quotas, and the indexes GC's lookups use.
// Existing rows are stamped with the upgrade time, so their delays start then.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE repositories ADD COLUMN namespace TEXT NOT NULL DEFAULT '';
UPDATE repositories SET namespace =
  CASE WHEN instr(name, '/') > 0 THEN substr(name, 1, instr(name, '/') - 1) ELSE name END;
CREATE INDEX repositories_by_namespace ON repositories(namespace);
ALTER TABLE repo_blobs ADD COLUMN touched_at INTEGER NOT NULL DEFAULT 0;
UPDATE repo_blobs SET touched_at = strftime('%s', 'now');
CREATE INDEX repo_blobs_by_digest ON repo_blobs(digest);
ALTER TABLE manifests ADD COLUMN touched_at INTEGER NOT NULL DEFAULT 0;
UPDATE manifests SET touched_at = strftime('%s', 'now');
CREATE INDEX manifest_refs_by_ref ON manifest_refs(repo_id, ref);
ALTER TABLE tags ADD COLUMN pushed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tags ADD COLUMN pulled_at INTEGER NOT NULL DEFAULT 0;
UPDATE tags SET pushed_at = strftime('%s', 'now');
)sql";

// Schema version 3 (webhook events, src/events/): the durable outbox, one
// row per event and endpoint until the endpoint acknowledged it. seq is
// AUTOINCREMENT so that a number is never reused after the newest rows
// were delivered and deleted (a receiver may log it).
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE event_queue (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint    TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  payload     TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX event_queue_by_endpoint ON event_queue(endpoint, seq);
)sql";

constexpr int64_t kSchemaVersion = 3;

// `limit` for a LIMIT parameter: past INT64_MAX it would turn negative,
// which SQLite reads as no limit at all.
int64_t SqlLimit(size_t limit) {
  return static_cast<int64_t>(std::min<uint64_t>(limit, std::numeric_limits<int64_t>::max()));
}

// Idle reader connections kept open; more are opened when more threads read
// at once, and closed again when they come back to a full pool.
constexpr size_t kMaxIdleReaders = 4;

// Repository id, or nullopt when it does not exist.
Result<std::optional<int64_t>> FindRepo(sql::Db& db, const std::string& name) {
  auto st = db.Prepare("SELECT id FROM repositories WHERE name = ?");
  if (!st) return st.status();
  st->Bind(1, name);
  auto row = st->Step();
  if (!row) return row.status();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>(st->Int(0));
}

}  // namespace

SqliteMetadataStore::Reader::~Reader() {
  if (!db_) return;
  MutexLock lock(store_->readers_mu_);
  if (store_->idle_readers_.size() < kMaxIdleReaders)
    store_->idle_readers_.push_back(std::move(db_));
}

Result<SqliteMetadataStore::Reader> SqliteMetadataStore::AcquireReader() {
  {
    MutexLock lock(readers_mu_);
    if (!idle_readers_.empty()) {
      auto db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Reader(*this, std::move(db));
    }
  }
  auto db = sql::Db::Open(path_);
  if (!db) return db.status();
  // query_only: a reader that tried to write would be a bug, not a race.
  // A small page cache: the OS page cache holds the file anyway.
  for (const char* pragma : {"PRAGMA query_only=1", "PRAGMA cache_size=-256"}) {
    if (auto s = (*db)->Exec(pragma); !s.ok()) return s;
  }
  return Reader(*this, std::move(db).value());
}

Result<std::unique_ptr<SqliteMetadataStore>> SqliteMetadataStore::Open(const std::string& path) {
  auto db = sql::Db::Open(path);
  if (!db) return db.status();
  auto& d = **db;
  // FULL: a COMMIT returns only after the WAL is fsynced. The page cache is
  // 512 KiB rather than SQLite's 2 MiB: the OS caches the file anyway, and a
  // write touches a few pages; it is most of berth's heap otherwise.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON", "PRAGMA cache_size=-512"}) {
    if (auto s = d.Exec(pragma); !s.ok()) return s;
  }
  int64_t version = 0;
  {  // the statement is finished before the migration writes
    auto v = d.Prepare("PRAGMA user_version");
    if (!v) return v.status();
    auto row = v->Step();
    if (!row) return row.status();
    version = v->Int(0);
  }
  if (version > kSchemaVersion) {
    return Status(Errc::kInternal, path + " has schema version " + std::to_string(version) +
                                       ", newer than this berth understands (" +
                                       std::to_string(kSchemaVersion) + ")");
  }
  if (version < kSchemaVersion) {
    // All steps in one transaction: a crash mid-upgrade leaves the old version.
    sql::Transaction tx(d);
    if (!tx.status().ok()) return tx.status();
    if (version < 1) {
      if (auto s = d.Exec(kSchemaV1); !s.ok()) return s;
    }
    if (version < 2) {
      if (auto s = d.Exec(kSchemaV2); !s.ok()) return s;
    }
    if (auto s = d.Exec(kSchemaV3); !s.ok()) return s;
    if (auto s = d.Exec("PRAGMA user_version=" + std::to_string(kSchemaVersion)); !s.ok()) return s;
    if (auto s = tx.Commit(); !s.ok()) return s;
  }
  return std::unique_ptr<SqliteMetadataStore>(new SqliteMetadataStore(path, std::move(db).value()));
}

Status SqliteMetadataStore::Ping() {
  auto db = AcquireReader();
  if (!db) return db.status();
  auto st = (*db)->Prepare("SELECT count(*) FROM repositories WHERE id = 0");
  if (!st) return st.status();
  auto row = st->Step();
  return row ? Status::Ok() : row.status();
}

Result<int64_t> SqliteMetadataStore::EnsureRepo(const std::string& name) {
  auto st = db_->Prepare(
      "INSERT INTO repositories(name, namespace) VALUES (?, ?) ON CONFLICT(name) DO NOTHING");
  if (!st) return st.status();
  if (auto s = st->Bind(1, name).Bind(2, std::string(NamespaceOf(name))).Run(); !s.ok()) return s;
  auto id = FindRepo(*db_, name);
  if (!id) return id.status();
  if (!*id) return Status(Errc::kInternal, "repository vanished inside a transaction");
  return **id;
}

Status SqliteMetadataStore::LinkBlob(const std::string& repository, const Digest& digest,
                                     uint64_t size, uint64_t quota) {
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  auto repo = EnsureRepo(repository);
  if (!repo) return repo.status();
  if (auto s = InsertLink(*repo, repository, digest, size, quota); !s.ok()) return s;
  return tx.Commit();
}

Status SqliteMetadataStore::InsertLink(int64_t repo, const std::string& repository,
                                       const Digest& digest, uint64_t size, uint64_t quota) {
  if (quota > 0) {
    if (auto s = CheckQuota(*db_, repository, digest, size, quota); !s.ok()) return s;
  }
  auto b = db_->Prepare("INSERT INTO blobs(digest, size) VALUES (?, ?) ON CONFLICT DO NOTHING");
  if (!b) return b.status();
  if (auto s = b->Bind(1, digest.str()).Bind(2, static_cast<int64_t>(size)).Run(); !s.ok())
    return s;
  // A link pushed or mounted again starts its GC delay again.
  auto l = db_->Prepare(
      "INSERT INTO repo_blobs(repo_id, digest, touched_at) VALUES (?, ?, ?) "
      "ON CONFLICT DO UPDATE SET touched_at = excluded.touched_at");
  if (!l) return l.status();
  return l->Bind(1, repo).Bind(2, digest.str()).Bind(3, Now()).Run();
}

Result<uint64_t> SqliteMetadataStore::MountBlob(const std::string& from,
                                                const std::string& repository, const Digest& digest,
                                                uint64_t quota) {
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  uint64_t size = 0;
  {  // the statement is finished before the writes
    auto st = db_->Prepare(
        "SELECT b.size FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
        "JOIN blobs b ON b.digest = rb.digest WHERE r.name = ? AND rb.digest = ?");
    if (!st) return st.status();
    auto row = st->Bind(1, from).Bind(2, digest.str()).Step();
    if (!row) return row.status();
    if (!*row) return Status(Errc::kBlobUnknown, "blob unknown to repository " + from);
    size = static_cast<uint64_t>(st->Int(0));
  }
  auto repo = EnsureRepo(repository);
  if (!repo) return repo.status();
  if (auto s = InsertLink(*repo, repository, digest, size, quota); !s.ok()) return s;
  if (auto s = tx.Commit(); !s.ok()) return s;
  return size;
}

Result<uint64_t> SqliteMetadataStore::LinkedBlobSize(const std::string& repository,
                                                     const Digest& digest) {
  auto db = AcquireReader();
  if (!db) return db.status();
  auto st = (*db)->Prepare(
      "SELECT b.size FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
      "JOIN blobs b ON b.digest = rb.digest WHERE r.name = ? AND rb.digest = ?");
  if (!st) return st.status();
  st->Bind(1, repository).Bind(2, digest.str());
  auto row = st->Step();
  if (!row) return row.status();
  if (!*row) return Status(Errc::kBlobUnknown, "blob unknown to repository");
  return static_cast<uint64_t>(st->Int(0));
}

Status SqliteMetadataStore::UnlinkBlob(const std::string& repository, const Digest& digest) {
  MutexLock lock(mu_);
  auto st = db_->Prepare(
      "DELETE FROM repo_blobs WHERE digest = ? AND repo_id = "
      "(SELECT id FROM repositories WHERE name = ?)");
  if (!st) return st.status();
  if (auto s = st->Bind(1, digest.str()).Bind(2, repository).Run(); !s.ok()) return s;
  if (db_->Changes() == 0) return {Errc::kBlobUnknown, "blob unknown to repository"};
  return Status::Ok();
}

Status SqliteMetadataStore::PutManifest(const std::string& repository, const ManifestPut& put) {
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  auto repo = EnsureRepo(repository);
  if (!repo) return repo.status();
  const std::string digest = put.record.digest.str();

  // References are checked inside the transaction, so a concurrent delete
  // cannot slip between the check and the write.
  for (const auto& ref : put.blob_refs) {
    auto st = db_->Prepare("SELECT 1 FROM repo_blobs WHERE repo_id = ? AND digest = ?");
    if (!st) return st.status();
    auto row = st->Bind(1, *repo).Bind(2, ref).Step();
    if (!row) return row.status();
    if (!*row) return {Errc::kManifestBlobUnknown, "blob " + ref + " is not in " + repository};
  }
  for (const auto& ref : put.manifest_refs) {
    auto st = db_->Prepare("SELECT 1 FROM manifests WHERE repo_id = ? AND digest = ?");
    if (!st) return st.status();
    auto row = st->Bind(1, *repo).Bind(2, ref).Step();
    if (!row) return row.status();
    if (!*row) return {Errc::kManifestBlobUnknown, "manifest " + ref + " is not in " + repository};
  }

  const int64_t now = Now();
  // A manifest pushed again starts its untagged delay again.
  auto ins = db_->Prepare(
      "INSERT INTO manifests(repo_id, digest, media_type, content, subject, artifact_type, "
      "annotations, touched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT DO UPDATE SET touched_at = excluded.touched_at");
  if (!ins) return ins.status();
  ins->Bind(1, *repo).Bind(2, digest).Bind(3, put.record.media_type);
  ins->BindBlob(4, put.record.content);
  ins->BindOpt(5, put.record.subject).BindOpt(6, put.record.artifact_type);
  ins->BindOpt(7, put.record.annotations_json).Bind(8, now);
  if (auto s = ins->Run(); !s.ok()) return s;

  for (const auto* list : {&put.blob_refs, &put.manifest_refs}) {
    for (const auto& ref : *list) {
      auto st = db_->Prepare(
          "INSERT INTO manifest_refs(repo_id, digest, ref) VALUES (?, ?, ?) ON CONFLICT DO "
          "NOTHING");
      if (!st) return st.status();
      if (auto s = st->Bind(1, *repo).Bind(2, digest).Bind(3, ref).Run(); !s.ok()) return s;
    }
  }
  if (put.tag) {
    // The manifest the tag leaves, if any, starts its untagged delay now.
    auto old = db_->Prepare(
        "UPDATE manifests SET touched_at = ?1 WHERE repo_id = ?2 AND digest = "
        "(SELECT digest FROM tags WHERE repo_id = ?2 AND name = ?3 AND digest <> ?4)");
    if (!old) return old.status();
    if (auto s = old->Bind(1, now).Bind(2, *repo).Bind(3, *put.tag).Bind(4, digest).Run();
        !s.ok()) {
      return s;
    }
    auto t = db_->Prepare(
        "INSERT INTO tags(repo_id, name, digest, pushed_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(repo_id, name) DO UPDATE SET digest = excluded.digest, "
        "pushed_at = excluded.pushed_at");
    if (!t) return t.status();
    if (auto s = t->Bind(1, *repo).Bind(2, *put.tag).Bind(3, digest).Bind(4, now).Run(); !s.ok()) {
      return s;
    }
  }
  if (auto s = InsertEvents(put.events); !s.ok()) return s;
  return tx.Commit();
}

Result<ManifestRecord> SqliteMetadataStore::GetManifest(const std::string& repository,
                                                        const Reference& reference) {
  auto db = AcquireReader();
  if (!db) return db.status();
  const bool by_tag = std::holds_alternative<std::string>(reference);
  auto st = (*db)->Prepare(
      by_tag ? "SELECT m.digest, m.media_type, m.content, m.subject, m.artifact_type, "
               "m.annotations FROM tags t JOIN repositories r ON r.id = t.repo_id "
               "JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest "
               "WHERE r.name = ? AND t.name = ?"
             : "SELECT m.digest, m.media_type, m.content, m.subject, m.artifact_type, "
               "m.annotations FROM manifests m JOIN repositories r ON r.id = m.repo_id "
               "WHERE r.name = ? AND m.digest = ?");
  if (!st) return st.status();
  st->Bind(1, repository);
  st->Bind(2, by_tag ? std::get<std::string>(reference) : std::get<Digest>(reference).str());
  auto row = st->Step();
  if (!row) return row.status();
  if (!*row) return Status(Errc::kManifestUnknown, "manifest unknown");
  auto digest = Digest::Parse(st->Text(0));
  if (!digest) return Status(Errc::kInternal, "stored manifest digest is invalid");
  return ManifestRecord{std::move(digest).value(),
                        st->Text(1),
                        st->Text(2),
                        st->OptText(3),
                        st->OptText(4),
                        st->OptText(5)};
}

Status SqliteMetadataStore::DeleteTag(const std::string& repository, const std::string& tag,
                                      const EventRows& events) {
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  auto repo = FindRepo(*db_, repository);
  if (!repo) return repo.status();
  if (!*repo) return {Errc::kManifestUnknown, "tag unknown"};
  auto removed = RemoveTag(**repo, tag, std::nullopt);
  if (!removed) return removed.status();
  if (!*removed) return {Errc::kManifestUnknown, "tag unknown"};
  if (auto s = InsertEvents(events); !s.ok()) return s;
  return tx.Commit();
}

Result<bool> SqliteMetadataStore::RemoveTag(int64_t repo, const std::string& tag,
                                            const std::optional<TagInfo>& expect) {
  // The manifest loses a tag: its untagged delay starts now.
  auto touch = db_->Prepare(
      "UPDATE manifests SET touched_at = ?1 WHERE repo_id = ?2 AND digest = "
      "(SELECT digest FROM tags WHERE repo_id = ?2 AND name = ?3)");
  if (!touch) return touch.status();
  if (auto s = touch->Bind(1, Now()).Bind(2, repo).Bind(3, tag).Run(); !s.ok()) return s;
  auto st = db_->Prepare(
      "DELETE FROM tags WHERE repo_id = ?1 AND name = ?2 AND "
      "(?3 IS NULL OR (digest = ?3 AND pushed_at = ?4))");
  if (!st) return st.status();
  st->Bind(1, repo).Bind(2, tag);
  st->BindOpt(3, expect ? std::optional<std::string>(expect->digest) : std::nullopt);
  st->Bind(4, expect ? expect->pushed_at : 0);
  if (auto s = st->Run(); !s.ok()) return s;
  return db_->Changes() > 0;
}

Status SqliteMetadataStore::DeleteManifest(const std::string& repository, const Digest& digest,
                                           const EventRows& events) {
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  auto repo = FindRepo(*db_, repository);
  if (!repo) return repo.status();
  if (!*repo) return {Errc::kManifestUnknown, "manifest unknown"};
  auto removed = RemoveManifest(**repo, digest.str());
  if (!removed) return removed.status();
  if (!*removed) return {Errc::kManifestUnknown, "manifest unknown"};
  if (auto s = InsertEvents(events); !s.ok()) return s;
  return tx.Commit();
}

Result<bool> SqliteMetadataStore::RemoveManifest(int64_t repo, const std::string& digest) {
  const int64_t now = Now();
  // What it referenced (links, child manifests) and its referrers may become
  // garbage: their delays start now. Done before its refs are deleted.
  for (const char* q :
       {"UPDATE repo_blobs SET touched_at = ?1 WHERE repo_id = ?2 AND digest IN "
        "(SELECT ref FROM manifest_refs WHERE repo_id = ?2 AND digest = ?3)",
        "UPDATE manifests SET touched_at = ?1 WHERE repo_id = ?2 AND digest IN "
        "(SELECT ref FROM manifest_refs WHERE repo_id = ?2 AND digest = ?3)",
        "UPDATE manifests SET touched_at = ?1 WHERE repo_id = ?2 AND subject = ?3"}) {
    auto st = db_->Prepare(q);
    if (!st) return st.status();
    if (auto s = st->Bind(1, now).Bind(2, repo).Bind(3, digest).Run(); !s.ok()) return s;
  }
  auto m = db_->Prepare("DELETE FROM manifests WHERE repo_id = ? AND digest = ?");
  if (!m) return m.status();
  if (auto s = m->Bind(1, repo).Bind(2, digest).Run(); !s.ok()) return s;
  if (db_->Changes() == 0) return false;
  for (const char* q : {"DELETE FROM tags WHERE repo_id = ? AND digest = ?",
                        "DELETE FROM manifest_refs WHERE repo_id = ? AND digest = ?"}) {
    auto st = db_->Prepare(q);
    if (!st) return st.status();
    if (auto s = st->Bind(1, repo).Bind(2, digest).Run(); !s.ok()) return s;
  }
  return true;
}

Result<std::vector<std::string>> SqliteMetadataStore::ListTags(const std::string& repository,
                                                               const std::string& last,
                                                               size_t limit) {
  auto db = AcquireReader();
  if (!db) return db.status();
  auto repo = FindRepo(**db, repository);
  if (!repo) return repo.status();
  if (!*repo) return Status(Errc::kNameUnknown, "repository " + repository + " not known");
  auto st =
      (*db)->Prepare("SELECT name FROM tags WHERE repo_id = ? AND name > ? ORDER BY name LIMIT ?");
  if (!st) return st.status();
  st->Bind(1, **repo).Bind(2, last).Bind(3, SqlLimit(limit));
  std::vector<std::string> out;
  while (true) {
    auto row = st->Step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(st->Text(0));
  }
  return out;
}

Result<std::vector<std::string>> SqliteMetadataStore::ListRepositories(const std::string& last,
                                                                       size_t limit) {
  auto db = AcquireReader();
  if (!db) return db.status();
  auto st = (*db)->Prepare("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?");
  if (!st) return st.status();
  st->Bind(1, last).Bind(2, SqlLimit(limit));
  std::vector<std::string> out;
  while (true) {
    auto row = st->Step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(st->Text(0));
  }
  return out;
}

Result<std::vector<ReferrerRecord>> SqliteMetadataStore::ListReferrers(
    const std::string& repository, const Digest& subject,
    const std::optional<std::string>& artifact_type, const std::string& last, size_t limit) {
  auto db = AcquireReader();
  if (!db) return db.status();
  // The index on (repo_id, subject) finds the referrers; with LIMIT, SQLite
  // sorts them by digest keeping only `limit` rows (a top-N sort).
  auto st = (*db)->Prepare(
      "SELECT m.digest, m.media_type, length(m.content), m.artifact_type, m.annotations "
      "FROM manifests m JOIN repositories r ON r.id = m.repo_id "
      "WHERE r.name = ?1 AND m.subject = ?2 AND (?3 IS NULL OR m.artifact_type = ?3) "
      "AND m.digest > ?4 ORDER BY m.digest LIMIT ?5");
  if (!st) return st.status();
  st->Bind(1, repository).Bind(2, subject.str()).BindOpt(3, artifact_type).Bind(4, last);
  st->Bind(5, SqlLimit(limit));
  std::vector<ReferrerRecord> out;
  while (true) {
    auto row = st->Step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back({st->Text(0), st->Text(1), static_cast<uint64_t>(st->Int(2)), st->OptText(3),
                   st->OptText(4)});
  }
  return out;
}

}  // namespace berth::storage
