// PgMetadataStore, lifecycle half: GC candidates and their conditional
// deletes, retention's tag times, pull times, namespace usage and quotas,
// and Copy (a schema of its own). The rules are in docs/lifecycle.md.
#include <chrono>
#include <random>

#include "common/names.hpp"
#include "storage/pg/pg_metadata_store.hpp"
#include "storage/pg/pg_schema.hpp"

namespace berth::storage {

using pg::Conn;
using pg::InTransaction;

namespace {

// The whole condition under which a manifest is garbage ($3 = the cut-off),
// for the scan and again inside the deleting transaction.
constexpr const char* kManifestIsGarbage =
    "m.touched_at < $3 "
    "AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest) "
    "AND NOT EXISTS (SELECT 1 FROM manifest_refs p WHERE p.repo_id = m.repo_id AND p.ref = "
    "m.digest) "
    "AND (m.subject IS NULL OR NOT EXISTS "
    "(SELECT 1 FROM manifests s WHERE s.repo_id = m.repo_id AND s.digest = m.subject))";

// The same for a blob link: untouched since $3 and referenced by no manifest
// of its repository.
constexpr const char* kLinkIsGarbage =
    "rb.touched_at < $3 "
    "AND NOT EXISTS (SELECT 1 FROM manifest_refs p WHERE p.repo_id = rb.repo_id AND p.ref = "
    "rb.digest)";

using Found = std::vector<std::pair<int64_t, RepoEntry>>;

// Candidates after `cursor`, by a scan that locks nothing.
Result<Found> Scan(pg::Pool& pool, const std::string& sql, int64_t before, size_t limit,
                   const KeyCursor& cursor) {
  auto r = pg::Query(pool, sql, {cursor.repo_id, cursor.digest, before, pg::SqlLimit(limit)});
  if (!r) return r.status();
  Found found;
  for (int i = 0; i < r->size(); ++i) {
    found.push_back({r->Int(i, 0), RepoEntry{r->Text(i, 1), r->Text(i, 2)}});
  }
  return found;
}

class PgCopy final : public StoreCopy {
 public:
  PgCopy(std::shared_ptr<pg::Pool> parent, std::string schema,
         std::unique_ptr<PgMetadataStore> store)
      : parent_(std::move(parent)), schema_(std::move(schema)), store_(std::move(store)) {}
  ~PgCopy() override {
    store_.reset();  // its connections close before the schema goes
    // The name is ours (berth_copy_ + hex), never user data.
    // Best effort in a destructor: a schema left behind is a throwaway copy.
    if (auto c = parent_->Acquire()) {
      c->ExecScript("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE").IgnoreError();
    }
  }
  MetadataStore& meta() override { return *store_; }
  LifecycleStore& lifecycle() override { return *store_; }

 private:
  std::shared_ptr<pg::Pool> parent_;
  const std::string schema_;
  std::unique_ptr<PgMetadataStore> store_;
};

}  // namespace

int64_t PgMetadataStore::Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<StoreCopy>> PgMetadataStore::Copy(const std::string& /*path*/) {
  std::string schema = "berth_copy_";
  {
    std::random_device rd;
    const char* hex = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) schema += hex[rd() % 16];
  }
  // What GC reads; the event queue, tokens and leases are not copied.
  static constexpr const char* kTables[] = {"repositories", "blobs",         "repo_blobs",
                                            "manifests",    "manifest_refs", "tags"};
  Status s = InTransaction(
      *pool_,
      [&](Conn& c) -> Status {
        // One snapshot for every table: the copy is consistent while
        // pushes go on. No statement timeout: a large store takes a while.
        auto src = c.Exec("SELECT quote_ident(current_schema())");
        if (!src) return src.status();
        const std::string from = src->Text(0, 0);
        for (const std::string& q :
             {std::string("SET LOCAL statement_timeout = 0"), "CREATE SCHEMA " + schema,
              "SET LOCAL search_path = " + schema}) {
          if (Status st = c.ExecScript(q); !st.ok()) return st;
        }
        if (Status st = c.ExecScript(pg::CurrentSchemaDdl()); !st.ok()) return st;
        for (const char* t : kTables) {
          if (Status st = c.ExecScript(std::string("INSERT INTO ") + t + " SELECT * FROM " + from +
                                       "." + t);
              !st.ok()) {
            return st;
          }
        }
        return c.ExecScript(
            "SELECT setval(pg_get_serial_sequence('repositories', 'id'), "
            "coalesce(max(id), 0) + 1, false) FROM repositories;"
            "CREATE TABLE schema_migrations AS SELECT * FROM " +
            from + ".schema_migrations");
      },
      pg::Isolation::kRepeatableRead);
  if (!s.ok()) return s;
  pg::PoolOptions options = pool_->options();
  options.schema = schema;
  options.size = 2;
  options.durable = false;  // throwaway data
  auto pool = pg::Pool::Open(options);
  if (!pool) {
    // Best effort: the pool's error is the one to report; a schema left
    // behind is a throwaway copy under a random name.
    if (auto c = pool_->Acquire()) {
      c->ExecScript("DROP SCHEMA IF EXISTS " + schema + " CASCADE").IgnoreError();
    }
    return pool.status();
  }
  auto store =
      std::make_unique<PgMetadataStore>(std::shared_ptr<pg::Pool>(std::move(pool).value()));
  return std::unique_ptr<StoreCopy>(new PgCopy(pool_, schema, std::move(store)));
}

Result<NamespaceUsage> PgMetadataStore::UsageOf(Conn& c, const std::string& name_space) {
  NamespaceUsage u;
  u.name = name_space;
  auto r = c.Exec(
      "SELECT (SELECT count(*) FROM repositories WHERE namespace = $1), count(*), "
      "coalesce(sum(b.size), 0) FROM blobs b WHERE b.digest IN "
      "(SELECT rb.digest FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
      "WHERE r.namespace = $1)",
      {name_space});
  if (!r) return r.status();
  u.repositories = static_cast<uint64_t>(r->Int(0, 0));
  u.blobs = static_cast<uint64_t>(r->Int(0, 1));
  u.bytes = static_cast<uint64_t>(r->Int(0, 2));
  return u;
}

Status PgMetadataStore::CheckQuota(Conn& c, const std::string& repository, const Digest& digest,
                                   uint64_t size, uint64_t quota) {
  const std::string ns(NamespaceOf(repository));
  // Serialises the quota-checked links of one namespace across every berth
  // (see the header); released at commit or rollback. The statements after
  // it see every link committed before it was granted.
  if (auto r = c.Exec("SELECT pg_advisory_xact_lock($1)", {pg::AdvisoryKey("berth.quota:" + ns)});
      !r) {
    return r.status();
  }
  auto have = c.Exec(
      "SELECT 1 FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
      "WHERE rb.digest = $1 AND r.namespace = $2 LIMIT 1",
      {digest.str(), ns});
  if (!have) return have.status();
  if (!have->empty()) return Status::Ok();  // counted once per namespace: adds nothing
  auto used = UsageOf(c, ns);
  if (!used) return used.status();
  if (used->bytes + size <= quota) return Status::Ok();
  return {Errc::kDenied, QuotaMessage(ns, used->bytes, size, quota)};
}

Result<std::vector<RepoEntry>> PgMetadataStore::CollectManifests(int64_t before, size_t limit,
                                                                 bool dry_run, KeyCursor* cursor) {
  auto found = Scan(*pool_,
                    std::string("SELECT m.repo_id, r.name, m.digest FROM manifests m "
                                "JOIN repositories r ON r.id = m.repo_id "
                                "WHERE (m.repo_id, m.digest) > ($1, $2) AND ") +
                        kManifestIsGarbage + " ORDER BY m.repo_id, m.digest LIMIT $4",
                    before, limit, *cursor);
  if (!found) return found.status();
  if (found->empty()) return std::vector<RepoEntry>();
  cursor->repo_id = found->back().first;
  cursor->digest = found->back().second.digest;
  std::vector<RepoEntry> out;
  if (dry_run) {
    for (auto& f : *found) out.push_back(std::move(f.second));
    return out;
  }
  Status s = InTransaction(*pool_, [&](Conn& c) -> Status {
    out.clear();
    for (auto& [repo, entry] : *found) {
      // Lock the row (waiting for a push that holds it), then ask again
      // with a new statement, which sees what that push committed.
      auto lock = c.Exec("SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2 FOR UPDATE",
                         {repo, entry.digest});
      if (!lock) return lock.status();
      if (lock->empty()) continue;
      auto check = c.Exec(std::string("SELECT 1 FROM manifests m WHERE m.repo_id = $1 AND "
                                      "m.digest = $2 AND ") +
                              kManifestIsGarbage,
                          {repo, entry.digest, before});
      if (!check) return check.status();
      if (check->empty()) continue;
      auto removed = RemoveManifest(c, repo, entry.digest);
      if (!removed) return removed.status();
      if (*removed) out.push_back(entry);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<RepoEntry>> PgMetadataStore::CollectLinks(int64_t before, size_t limit,
                                                             bool dry_run, KeyCursor* cursor) {
  auto found = Scan(*pool_,
                    std::string("SELECT rb.repo_id, r.name, rb.digest FROM repo_blobs rb "
                                "JOIN repositories r ON r.id = rb.repo_id "
                                "WHERE (rb.repo_id, rb.digest) > ($1, $2) AND ") +
                        kLinkIsGarbage + " ORDER BY rb.repo_id, rb.digest LIMIT $4",
                    before, limit, *cursor);
  if (!found) return found.status();
  if (found->empty()) return std::vector<RepoEntry>();
  cursor->repo_id = found->back().first;
  cursor->digest = found->back().second.digest;
  std::vector<RepoEntry> out;
  if (dry_run) {
    for (auto& f : *found) out.push_back(std::move(f.second));
    return out;
  }
  Status s = InTransaction(*pool_, [&](Conn& c) -> Status {
    out.clear();
    for (auto& [repo, entry] : *found) {
      auto lock = c.Exec("SELECT 1 FROM repo_blobs WHERE repo_id = $1 AND digest = $2 FOR UPDATE",
                         {repo, entry.digest});
      if (!lock) return lock.status();
      if (lock->empty()) continue;
      auto del = c.Exec(std::string("DELETE FROM repo_blobs AS rb WHERE rb.repo_id = $1 AND "
                                    "rb.digest = $2 AND ") +
                            kLinkIsGarbage,
                        {repo, entry.digest, before});
      if (!del) return del.status();
      if (del->affected() > 0) out.push_back(entry);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<UnlinkedBlob>> PgMetadataStore::UnlinkedBlobs(const std::string& after,
                                                                 size_t limit) {
  auto r = pg::Query(*pool_,
                     "SELECT b.digest, b.size FROM blobs b WHERE b.digest > $1 AND NOT EXISTS "
                     "(SELECT 1 FROM repo_blobs rb WHERE rb.digest = b.digest) "
                     "ORDER BY b.digest LIMIT $2",
                     {after, pg::SqlLimit(limit)});
  if (!r) return r.status();
  std::vector<UnlinkedBlob> out;
  for (int i = 0; i < r->size(); ++i) {
    auto d = Digest::Parse(r->Text(i, 0));
    if (!d) return Status(Errc::kInternal, "stored blob digest is invalid: " + r->Text(i, 0));
    out.push_back({std::move(d).value(), static_cast<uint64_t>(r->Int(i, 1))});
  }
  return out;
}

Result<std::vector<Digest>> PgMetadataStore::ForgetBlobs(const std::vector<Digest>& digests) {
  std::vector<Digest> out;
  Status s = InTransaction(*pool_, [&](Conn& c) -> Status {
    out.clear();
    for (const auto& d : digests) {
      // Locked first so that a concurrent link (which locks the row too)
      // is either seen by the DELETE's new snapshot or waits for it.
      auto lock = c.Exec("SELECT 1 FROM blobs WHERE digest = $1 FOR UPDATE", {d.str()});
      if (!lock) return lock.status();
      if (lock->empty()) continue;
      auto del = c.Exec(
          "DELETE FROM blobs AS b WHERE b.digest = $1 AND NOT EXISTS "
          "(SELECT 1 FROM repo_blobs rb WHERE rb.digest = b.digest)",
          {d.str()});
      if (!del) return del.status();
      if (del->affected() > 0) out.push_back(d);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<bool>> PgMetadataStore::BlobsKnown(const std::vector<Digest>& digests) {
  std::vector<std::string> names;
  names.reserve(digests.size());
  for (const auto& d : digests) names.push_back(d.str());
  auto r = pg::Query(*pool_,
                     "SELECT u.ord, EXISTS (SELECT 1 FROM blobs b WHERE b.digest = u.d) "
                     "FROM unnest($1::text[]) WITH ORDINALITY AS u(d, ord) ORDER BY u.ord",
                     {pg::TextArray(names)});
  if (!r) return r.status();
  std::vector<bool> out(digests.size(), false);
  for (int i = 0; i < r->size(); ++i) {
    const int64_t ord = r->Int(i, 0);
    if (ord >= 1 && static_cast<size_t>(ord) <= out.size()) out[ord - 1] = r->Bool(i, 1);
  }
  return out;
}

Result<std::vector<TagInfo>> PgMetadataStore::ListTagInfo(const std::string& repository,
                                                          const std::string& last, size_t limit) {
  auto r = pg::Query(*pool_,
                     "SELECT t.name, t.digest, t.pushed_at, t.pulled_at FROM tags t "
                     "JOIN repositories r ON r.id = t.repo_id WHERE r.name = $1 AND t.name > $2 "
                     "ORDER BY t.name LIMIT $3",
                     {repository, last, pg::SqlLimit(limit)});
  if (!r) return r.status();
  std::vector<TagInfo> out;
  out.reserve(r->size());
  for (int i = 0; i < r->size(); ++i) {
    out.push_back({r->Text(i, 0), r->Text(i, 1), r->Int(i, 2), r->Int(i, 3)});
  }
  return out;
}

Result<bool> PgMetadataStore::DeleteTagIf(const std::string& repository, const TagInfo& tag) {
  bool removed = false;
  Status s = InTransaction(*pool_, [&](Conn& c) -> Status {
    removed = false;
    auto repo = FindRepo(c, repository);
    if (!repo) return repo.status();
    if (!*repo) return Status::Ok();
    // The condition is on the tag row itself: a concurrent push that moved
    // it is waited for, and the condition is evaluated on its new version.
    auto r = RemoveTag(c, **repo, tag.name, tag);
    if (!r) return r.status();
    removed = *r;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return removed;
}

Status PgMetadataStore::RecordPulls(const std::vector<TagPull>& pulls) {
  if (pulls.empty()) return Status::Ok();
  return InTransaction(*pool_, [&](Conn& c) -> Status {
    for (const auto& p : pulls) {
      auto r = c.Exec(
          "UPDATE tags SET pulled_at = greatest(pulled_at, $1) WHERE name = $2 AND repo_id = "
          "(SELECT id FROM repositories WHERE name = $3)",
          {p.at, p.tag, p.repository});
      if (!r) return r.status();
    }
    return Status::Ok();
  });
}

Result<NamespaceUsage> PgMetadataStore::Usage(const std::string& name_space) {
  auto conn = pool_->Acquire();
  if (!conn) return conn.status();
  return UsageOf(*conn, name_space);
}

Result<StoreTotals> PgMetadataStore::Totals() {
  auto r =
      pg::Query(*pool_,
                "SELECT (SELECT count(*) FROM repositories), (SELECT count(*) FROM manifests), "
                "(SELECT count(*) FROM tags), (SELECT count(*) FROM blobs), "
                "(SELECT coalesce(sum(size), 0) FROM blobs)");
  if (!r) return r.status();
  StoreTotals t;
  t.repositories = static_cast<uint64_t>(r->Int(0, 0));
  t.manifests = static_cast<uint64_t>(r->Int(0, 1));
  t.tags = static_cast<uint64_t>(r->Int(0, 2));
  t.blobs = static_cast<uint64_t>(r->Int(0, 3));
  t.blob_bytes = static_cast<uint64_t>(r->Int(0, 4));
  return t;
}

Result<std::vector<std::string>> PgMetadataStore::ListNamespaces(const std::string& last,
                                                                 size_t limit) {
  auto r = pg::Query(*pool_,
                     "SELECT DISTINCT namespace FROM repositories WHERE namespace > $1 "
                     "ORDER BY namespace LIMIT $2",
                     {last, pg::SqlLimit(limit)});
  if (!r) return r.status();
  std::vector<std::string> out;
  out.reserve(r->size());
  for (int i = 0; i < r->size(); ++i) out.push_back(r->Text(i, 0));
  return out;
}

}  // namespace berth::storage
