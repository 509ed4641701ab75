// SqliteMetadataStore, lifecycle half: GC candidates and their conditional
// deletes, retention's tag times, pull times and namespace usage. The rules
// are in docs/lifecycle.md; the schema (version 2) in sqlite_metadata_store.cpp.
#include <unistd.h>

#include <chrono>

#include "common/names.hpp"
#include "storage/db/sqlite_metadata_store.hpp"

namespace berth::storage {
namespace {

// The whole condition under which a manifest is garbage, for the scan and
// again inside the deleting transaction: untouched since ?3, no tag, no
// parent index, and no subject still in the repository.
constexpr const char* kManifestIsGarbage =
    "m.touched_at < ?3 "
    "AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest) "
    "AND NOT EXISTS (SELECT 1 FROM manifest_refs p WHERE p.repo_id = m.repo_id AND p.ref = "
    "m.digest) "
    "AND (m.subject IS NULL OR NOT EXISTS "
    "(SELECT 1 FROM manifests s WHERE s.repo_id = m.repo_id AND s.digest = m.subject))";

// The same for a blob link: untouched since ?3 and referenced by no manifest
// of its repository.
constexpr const char* kLinkIsGarbage =
    "rb.touched_at < ?3 "
    "AND NOT EXISTS (SELECT 1 FROM manifest_refs p WHERE p.repo_id = rb.repo_id AND p.ref = "
    "rb.digest)";

int64_t SqlLimit(size_t limit) {
  return static_cast<int64_t>(std::min<uint64_t>(limit, std::numeric_limits<int64_t>::max()));
}

}  // namespace

std::string QuotaMessage(const std::string& name_space, uint64_t used, uint64_t adding,
                         uint64_t quota) {
  std::string m = "quota exceeded for namespace " + name_space + ": used " + HumanBytes(used) +
                  " (" + std::to_string(used) + " bytes)";
  if (adding > 0) m += " + " + HumanBytes(adding);
  return m + " of " + HumanBytes(quota) + " (" + std::to_string(quota) + " bytes)";
}

namespace {

class SqliteCopy final : public StoreCopy {
 public:
  SqliteCopy(std::string path, std::unique_ptr<SqliteMetadataStore> store)
      : path_(std::move(path)), store_(std::move(store)) {}
  ~SqliteCopy() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path_ + suffix).c_str());
  }
  MetadataStore& meta() override { return *store_; }
  LifecycleStore& lifecycle() override { return *store_; }

 private:
  const std::string path_;
  std::unique_ptr<SqliteMetadataStore> store_;
};

}  // namespace

Result<std::unique_ptr<StoreCopy>> SqliteMetadataStore::Copy(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  {
    // A connection of its own: VACUUM INTO reads a snapshot like any reader,
    // so pushes are not held up while it copies.
    auto db = sql::Db::Open(path_);
    if (!db) return db.status();
    auto st = (*db)->Prepare("VACUUM INTO ?");
    if (!st) return st.status();
    if (auto s = st->Bind(1, path).Run(); !s.ok()) return s;
  }
  auto copy = Open(path);
  if (!copy) return copy.status();
  // Throwaway data: no fsync per transaction.
  {
    MutexLock lock((*copy)->mu_);  // uncontended: nobody else has the copy yet
    if (auto s = (*copy)->db_->Exec("PRAGMA synchronous=OFF"); !s.ok()) return s;
  }
  return std::unique_ptr<StoreCopy>(new SqliteCopy(path, std::move(copy).value()));
}

int64_t SqliteMetadataStore::Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<NamespaceUsage> SqliteMetadataStore::UsageOf(sql::Db& db, const std::string& name_space) {
  NamespaceUsage u;
  u.name = name_space;
  auto st = db.Prepare(
      "SELECT count(*), coalesce(sum(b.size), 0) FROM blobs b WHERE b.digest IN "
      "(SELECT rb.digest FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
      "WHERE r.namespace = ?)");
  if (!st) return st.status();
  auto row = st->Bind(1, name_space).Step();
  if (!row) return row.status();
  if (*row) {
    u.blobs = static_cast<uint64_t>(st->Int(0));
    u.bytes = static_cast<uint64_t>(st->Int(1));
  }
  auto r = db.Prepare("SELECT count(*) FROM repositories WHERE namespace = ?");
  if (!r) return r.status();
  auto rrow = r->Bind(1, name_space).Step();
  if (!rrow) return rrow.status();
  if (*rrow) u.repositories = static_cast<uint64_t>(r->Int(0));
  return u;
}

Status SqliteMetadataStore::CheckQuota(sql::Db& db, const std::string& repository,
                                       const Digest& digest, uint64_t size, uint64_t quota) {
  const std::string ns(NamespaceOf(repository));
  {
    auto have = db.Prepare(
        "SELECT 1 FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
        "WHERE rb.digest = ? AND r.namespace = ? LIMIT 1");
    if (!have) return have.status();
    auto row = have->Bind(1, digest.str()).Bind(2, ns).Step();
    if (!row) return row.status();
    if (*row) return Status::Ok();  // counted once per namespace: adds nothing
  }
  auto used = UsageOf(db, ns);
  if (!used) return used.status();
  if (used->bytes + size <= quota) return Status::Ok();
  return {Errc::kDenied, QuotaMessage(ns, used->bytes, size, quota)};
}

Result<std::vector<RepoEntry>> SqliteMetadataStore::CollectManifests(int64_t before, size_t limit,
                                                                     bool dry_run,
                                                                     KeyCursor* cursor) {
  std::vector<std::pair<int64_t, RepoEntry>> found;
  {
    auto db = AcquireReader();
    if (!db) return db.status();
    auto st = (*db)->Prepare(std::string("SELECT m.repo_id, r.name, m.digest FROM manifests m JOIN "
                                         "repositories r ON r.id = m.repo_id "
                                         "WHERE (m.repo_id, m.digest) > (?1, ?2) AND ") +
                             kManifestIsGarbage + " ORDER BY m.repo_id, m.digest LIMIT ?4");
    if (!st) return st.status();
    st->Bind(1, cursor->repo_id).Bind(2, cursor->digest).Bind(3, before).Bind(4, SqlLimit(limit));
    while (true) {
      auto row = st->Step();
      if (!row) return row.status();
      if (!*row) break;
      found.emplace_back(st->Int(0), RepoEntry{st->Text(1), st->Text(2)});
    }
  }
  if (found.empty()) return std::vector<RepoEntry>();
  cursor->repo_id = found.back().first;
  cursor->digest = found.back().second.digest;
  std::vector<RepoEntry> out;
  if (dry_run) {
    for (auto& f : found) out.push_back(std::move(f.second));
    return out;
  }
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  for (auto& [repo, entry] : found) {
    {  // still garbage, now that this transaction holds the write lock?
      auto check = db_->Prepare(std::string("SELECT 1 FROM manifests m WHERE m.repo_id = ?1 AND "
                                            "m.digest = ?2 AND ") +
                                kManifestIsGarbage);
      if (!check) return check.status();
      auto row = check->Bind(1, repo).Bind(2, entry.digest).Bind(3, before).Step();
      if (!row) return row.status();
      if (!*row) continue;
    }
    auto removed = RemoveManifest(repo, entry.digest);
    if (!removed) return removed.status();
    if (*removed) out.push_back(std::move(entry));
  }
  if (auto s = tx.Commit(); !s.ok()) return s;
  return out;
}

Result<std::vector<RepoEntry>> SqliteMetadataStore::CollectLinks(int64_t before, size_t limit,
                                                                 bool dry_run, KeyCursor* cursor) {
  std::vector<std::pair<int64_t, RepoEntry>> found;
  {
    auto db = AcquireReader();
    if (!db) return db.status();
    auto st = (*db)->Prepare(std::string("SELECT rb.repo_id, r.name, rb.digest FROM repo_blobs rb "
                                         "JOIN repositories r ON r.id = rb.repo_id WHERE "
                                         "(rb.repo_id, rb.digest) > (?1, ?2) AND ") +
                             kLinkIsGarbage + " ORDER BY rb.repo_id, rb.digest LIMIT ?4");
    if (!st) return st.status();
    st->Bind(1, cursor->repo_id).Bind(2, cursor->digest).Bind(3, before).Bind(4, SqlLimit(limit));
    while (true) {
      auto row = st->Step();
      if (!row) return row.status();
      if (!*row) break;
      found.emplace_back(st->Int(0), RepoEntry{st->Text(1), st->Text(2)});
    }
  }
  if (found.empty()) return std::vector<RepoEntry>();
  cursor->repo_id = found.back().first;
  cursor->digest = found.back().second.digest;
  std::vector<RepoEntry> out;
  if (dry_run) {
    for (auto& f : found) out.push_back(std::move(f.second));
    return out;
  }
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  for (auto& [repo, entry] : found) {
    auto del = db_->Prepare(std::string("DELETE FROM repo_blobs AS rb WHERE rb.repo_id = ?1 AND "
                                        "rb.digest = ?2 AND ") +
                            kLinkIsGarbage);
    if (!del) return del.status();
    if (auto s = del->Bind(1, repo).Bind(2, entry.digest).Bind(3, before).Run(); !s.ok()) return s;
    if (db_->Changes() > 0) out.push_back(std::move(entry));
  }
  if (auto s = tx.Commit(); !s.ok()) return s;
  return out;
}

Result<std::vector<UnlinkedBlob>> SqliteMetadataStore::UnlinkedBlobs(const std::string& after,
                                                                     size_t limit) {
  auto db = AcquireReader();
  if (!db) return db.status();
  auto st = (*db)->Prepare(
      "SELECT b.digest, b.size FROM blobs b WHERE b.digest > ? AND NOT EXISTS "
      "(SELECT 1 FROM repo_blobs rb WHERE rb.digest = b.digest) ORDER BY b.digest LIMIT ?");
  if (!st) return st.status();
  st->Bind(1, after).Bind(2, SqlLimit(limit));
  std::vector<UnlinkedBlob> out;
  while (true) {
    auto row = st->Step();
    if (!row) return row.status();
    if (!*row) break;
    auto d = Digest::Parse(st->Text(0));
    if (!d) return Status(Errc::kInternal, "stored blob digest is invalid: " + st->Text(0));
    out.push_back({std::move(d).value(), static_cast<uint64_t>(st->Int(1))});
  }
  return out;
}

Result<std::vector<Digest>> SqliteMetadataStore::ForgetBlobs(const std::vector<Digest>& digests) {
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  std::vector<Digest> out;
  for (const auto& d : digests) {
    auto del = db_->Prepare(
        "DELETE FROM blobs AS b WHERE b.digest = ? AND NOT EXISTS "
        "(SELECT 1 FROM repo_blobs rb WHERE rb.digest = b.digest)");
    if (!del) return del.status();
    if (auto s = del->Bind(1, d.str()).Run(); !s.ok()) return s;
    if (db_->Changes() > 0) out.push_back(d);
  }
  if (auto s = tx.Commit(); !s.ok()) return s;
  return out;
}

Result<std::vector<bool>> SqliteMetadataStore::BlobsKnown(const std::vector<Digest>& digests) {
  auto db = AcquireReader();
  if (!db) return db.status();
  std::vector<bool> out;
  out.reserve(digests.size());
  for (const auto& d : digests) {
    auto st = (*db)->Prepare("SELECT 1 FROM blobs WHERE digest = ?");
    if (!st) return st.status();
    auto row = st->Bind(1, d.str()).Step();
    if (!row) return row.status();
    out.push_back(*row);
  }
  return out;
}

Result<std::vector<TagInfo>> SqliteMetadataStore::ListTagInfo(const std::string& repository,
                                                              const std::string& last,
                                                              size_t limit) {
  auto db = AcquireReader();
  if (!db) return db.status();
  auto st = (*db)->Prepare(
      "SELECT t.name, t.digest, t.pushed_at, t.pulled_at FROM tags t "
      "JOIN repositories r ON r.id = t.repo_id WHERE r.name = ? AND t.name > ? "
      "ORDER BY t.name LIMIT ?");
  if (!st) return st.status();
  st->Bind(1, repository).Bind(2, last).Bind(3, SqlLimit(limit));
  std::vector<TagInfo> out;
  while (true) {
    auto row = st->Step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back({st->Text(0), st->Text(1), st->Int(2), st->Int(3)});
  }
  return out;
}

Result<bool> SqliteMetadataStore::DeleteTagIf(const std::string& repository, const TagInfo& tag) {
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  std::optional<int64_t> repo;
  {
    auto st = db_->Prepare("SELECT id FROM repositories WHERE name = ?");
    if (!st) return st.status();
    auto row = st->Bind(1, repository).Step();
    if (!row) return row.status();
    if (!*row) return false;
    repo = st->Int(0);
  }
  auto removed = RemoveTag(*repo, tag.name, tag);
  if (!removed) return removed.status();
  if (auto s = tx.Commit(); !s.ok()) return s;
  return *removed;
}

Status SqliteMetadataStore::RecordPulls(const std::vector<TagPull>& pulls) {
  if (pulls.empty()) return Status::Ok();
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  for (const auto& p : pulls) {
    auto st = db_->Prepare(
        "UPDATE tags SET pulled_at = max(pulled_at, ?) WHERE name = ? AND repo_id = "
        "(SELECT id FROM repositories WHERE name = ?)");
    if (!st) return st.status();
    if (auto s = st->Bind(1, p.at).Bind(2, p.tag).Bind(3, p.repository).Run(); !s.ok()) return s;
  }
  return tx.Commit();
}

Result<NamespaceUsage> SqliteMetadataStore::Usage(const std::string& name_space) {
  auto db = AcquireReader();
  if (!db) return db.status();
  return UsageOf(**db, name_space);
}

Result<StoreTotals> SqliteMetadataStore::Totals() {
  auto db = AcquireReader();
  if (!db) return db.status();
  auto st = (*db)->Prepare(
      "SELECT (SELECT count(*) FROM repositories), (SELECT count(*) FROM manifests), "
      "(SELECT count(*) FROM tags), (SELECT count(*) FROM blobs), "
      "(SELECT coalesce(sum(size), 0) FROM blobs)");
  if (!st) return st.status();
  auto row = st->Step();
  if (!row) return row.status();
  StoreTotals t;
  if (*row) {
    t.repositories = static_cast<uint64_t>(st->Int(0));
    t.manifests = static_cast<uint64_t>(st->Int(1));
    t.tags = static_cast<uint64_t>(st->Int(2));
    t.blobs = static_cast<uint64_t>(st->Int(3));
    t.blob_bytes = static_cast<uint64_t>(st->Int(4));
  }
  return t;
}

Result<std::vector<std::string>> SqliteMetadataStore::ListNamespaces(const std::string& last,
                                                                     size_t limit) {
  auto db = AcquireReader();
  if (!db) return db.status();
  auto st = (*db)->Prepare(
      "SELECT DISTINCT namespace FROM repositories WHERE namespace > ? ORDER BY namespace LIMIT ?");
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

}  // namespace berth::storage
