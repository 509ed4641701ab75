#include "storage/migrate/snapshot.hpp"

#include <map>
#include <set>
#include <utility>

#include "storage/db/sqlite.hpp"

namespace berth::storage::migrate {
namespace {

// The newest metadata.db schema this reader knows (sqlite_metadata_store.cpp).
// Every column it reads exists since version 1.
constexpr int64_t kNewestSchema = 3;

// Runs `sql` and calls `row` for each result row.
template <typename Fn>
Status EachRow(sql::Db& db, const char* sql, Fn&& row) {
  auto st = db.Prepare(sql);
  if (!st) return st.status();
  while (true) {
    auto more = st->Step();
    if (!more) return more.status();
    if (!*more) return Status::Ok();
    row(*st);
  }
}

Status ReadRows(sql::Db& db, SourceSnapshot* snap, uint64_t* bad_rows) {
  auto s = EachRow(db,
                   "SELECT r.name, rb.digest, b.size FROM repo_blobs rb "
                   "JOIN repositories r ON r.id = rb.repo_id JOIN blobs b ON b.digest = rb.digest "
                   "ORDER BY r.name, rb.digest",
                   [&](sql::Stmt& st) {
                     auto d = Digest::Parse(st.Text(1));
                     if (!d) {
                       ++*bad_rows;
                       return;
                     }
                     snap->links.push_back({st.Text(0), *d, static_cast<uint64_t>(st.Int(2))});
                   });
  if (!s.ok()) return s;
  s = EachRow(db,
              "SELECT count(*) FROM blobs b WHERE NOT EXISTS "
              "(SELECT 1 FROM repo_blobs rb WHERE rb.digest = b.digest)",
              [&](sql::Stmt& st) { snap->unlinked_blobs = static_cast<uint64_t>(st.Int(0)); });
  if (!s.ok()) return s;
  s = EachRow(db,
              "SELECT r.name, m.digest, m.media_type, m.content, m.subject, m.artifact_type, "
              "m.annotations FROM manifests m JOIN repositories r ON r.id = m.repo_id "
              "ORDER BY r.name, m.digest",
              [&](sql::Stmt& st) {
                auto d = Digest::Parse(st.Text(1));
                if (!d) {
                  ++*bad_rows;
                  return;
                }
                SnapshotManifest m;
                m.repository = st.Text(0);
                m.record.digest = *d;
                m.record.media_type = st.Text(2);
                m.record.content = st.Text(3);
                m.record.subject = st.OptText(4);
                m.record.artifact_type = st.OptText(5);
                m.record.annotations_json = st.OptText(6);
                snap->manifests.push_back(std::move(m));
              });
  if (!s.ok()) return s;
  std::map<std::pair<std::string, std::string>, size_t> by_key;
  for (size_t i = 0; i < snap->manifests.size(); ++i) {
    by_key.emplace(
        std::make_pair(snap->manifests[i].repository, snap->manifests[i].record.digest.str()), i);
  }
  s = EachRow(db,
              "SELECT r.name, mr.digest, mr.ref FROM manifest_refs mr "
              "JOIN repositories r ON r.id = mr.repo_id ORDER BY r.name, mr.digest, mr.ref",
              [&](sql::Stmt& st) {
                std::string repo = st.Text(0), ref = st.Text(2);
                auto owner = by_key.find({repo, st.Text(1)});
                if (owner == by_key.end()) return;  // refs of a manifest already gone
                auto& m = snap->manifests[owner->second];
                // The table does not say which kind a ref is; PutManifest only
                // needs it to be in the repository, and the order only cares
                // about manifests.
                if (by_key.count({repo, ref})) {
                  m.manifest_refs.push_back(std::move(ref));
                } else {
                  m.blob_refs.push_back(std::move(ref));
                }
              });
  if (!s.ok()) return s;
  s = EachRow(db,
              "SELECT r.name, t.name, t.digest FROM tags t JOIN repositories r ON r.id = t.repo_id "
              "ORDER BY r.name, t.name",
              [&](sql::Stmt& st) {
                snap->tags.push_back({st.Text(0), st.Text(1), st.Text(2)});
              });
  return s;
}

}  // namespace

Result<SourceSnapshot> ReadSnapshot(const std::string& db_path, uint64_t* bad_rows) {
  auto db = sql::Db::OpenReadOnly(db_path);
  if (!db) return db.status();
  int64_t version = 0;
  auto s = EachRow(**db, "PRAGMA user_version", [&](sql::Stmt& st) { version = st.Int(0); });
  if (!s.ok()) return s;
  if (version < 1 || version > kNewestSchema) {
    return Status(Errc::kInternal, db_path + " has schema version " + std::to_string(version) +
                                       "; this berth reads versions 1 to " +
                                       std::to_string(kNewestSchema));
  }
  // One read transaction: every SELECT below sees the database as of the
  // first one, whatever a serving berth commits meanwhile.
  if (s = (*db)->Exec("BEGIN"); !s.ok()) return s;
  SourceSnapshot snap;
  s = ReadRows(**db, &snap, bad_rows);
  // A read-only transaction: ending it cannot lose data, and the read's
  // own status is what is returned.
  (*db)->Exec(s.ok() ? "COMMIT" : "ROLLBACK").IgnoreError();
  if (!s.ok()) return s;

  std::map<std::string, SnapshotBlob> blobs;
  for (const auto& l : snap.links) {
    // links are in repository order, so the first seen is the first by name
    blobs.try_emplace(l.digest.str(), SnapshotBlob{l.digest, l.size, l.repository});
  }
  snap.blobs.reserve(blobs.size());
  for (auto& [_, b] : blobs) snap.blobs.push_back(std::move(b));
  return snap;
}

}  // namespace berth::storage::migrate
