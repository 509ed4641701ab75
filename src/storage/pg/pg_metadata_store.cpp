// PgMetadataStore, the MetadataStore half: links, manifests, tags, listings.
// The locking rules are in the header comment.
#include "storage/pg/pg_metadata_store.hpp"

#include <algorithm>
#include <set>

namespace berth::storage {

using pg::Conn;
using pg::InTransaction;
using pg::Param;

Result<std::optional<int64_t>> PgMetadataStore::FindRepo(Conn& c, const std::string& name) {
  auto r = c.Exec("SELECT id FROM repositories WHERE name = $1", {name});
  if (!r) return r.status();
  if (r->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(r->Int(0, 0));
}

Result<int64_t> PgMetadataStore::EnsureRepo(Conn& c, const std::string& name) {
  auto found = FindRepo(c, name);
  if (!found) return found.status();
  if (*found) return **found;
  auto ins = c.Exec(
      "INSERT INTO repositories(name, namespace) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING "
      "RETURNING id",
      {name, std::string(NamespaceOf(name))});
  if (!ins) return ins.status();
  if (!ins->empty()) return ins->Int(0, 0);
  // Another berth created it meanwhile; the conflict waited for its commit,
  // and this new statement sees it.
  found = FindRepo(c, name);
  if (!found) return found.status();
  if (!*found) return Status(Errc::kInternal, "repository vanished inside a transaction");
  return **found;
}

Status PgMetadataStore::Ping() {
  auto r = pg::Query(*pool_, "SELECT 1");
  return r ? Status::Ok() : r.status();
}

Status PgMetadataStore::LinkBlob(const std::string& repository, const Digest& digest, uint64_t size,
                                 uint64_t quota) {
  return InTransaction(*pool_, [&](Conn& c) -> Status {
    auto repo = EnsureRepo(c, repository);
    if (!repo) return repo.status();
    return InsertLink(c, *repo, repository, digest, size, quota);
  });
}

Status PgMetadataStore::InsertLink(Conn& c, int64_t repo, const std::string& repository,
                                   const Digest& digest, uint64_t size, uint64_t quota) {
  if (quota > 0) {
    if (auto s = CheckQuota(c, repository, digest, size, quota); !s.ok()) return s;
  }
  // DO UPDATE rather than DO NOTHING: it locks the blob row, so a
  // ForgetBlobs deleting it concurrently either finishes first (and this
  // inserts the row again) or waits for this link and then keeps the row.
  if (auto r = c.Exec("INSERT INTO blobs(digest, size) VALUES ($1, $2) "
                      "ON CONFLICT (digest) DO UPDATE SET size = blobs.size",
                      {digest.str(), size});
      !r) {
    return r.status();
  }
  // A link pushed or mounted again starts its GC delay again.
  auto l = c.Exec(
      "INSERT INTO repo_blobs(repo_id, digest, touched_at) VALUES ($1, $2, $3) "
      "ON CONFLICT (repo_id, digest) DO UPDATE SET touched_at = excluded.touched_at",
      {repo, digest.str(), Now()});
  return l ? Status::Ok() : l.status();
}

Result<uint64_t> PgMetadataStore::MountBlob(const std::string& from, const std::string& repository,
                                            const Digest& digest, uint64_t quota) {
  uint64_t size = 0;
  Status s = InTransaction(*pool_, [&](Conn& c) -> Status {
    // FOR SHARE: GC cannot drop the source link before this one commits.
    auto r = c.Exec(
        "SELECT b.size FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
        "JOIN blobs b ON b.digest = rb.digest WHERE r.name = $1 AND rb.digest = $2 "
        "FOR SHARE OF rb",
        {from, digest.str()});
    if (!r) return r.status();
    if (r->empty()) return {Errc::kBlobUnknown, "blob unknown to repository " + from};
    size = static_cast<uint64_t>(r->Int(0, 0));
    auto repo = EnsureRepo(c, repository);
    if (!repo) return repo.status();
    return InsertLink(c, *repo, repository, digest, size, quota);
  });
  if (!s.ok()) return s;
  return size;
}

Result<uint64_t> PgMetadataStore::LinkedBlobSize(const std::string& repository,
                                                 const Digest& digest) {
  auto r = pg::Query(*pool_,
                     "SELECT b.size FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
                     "JOIN blobs b ON b.digest = rb.digest WHERE r.name = $1 AND rb.digest = $2",
                     {repository, digest.str()});
  if (!r) return r.status();
  if (r->empty()) return Status(Errc::kBlobUnknown, "blob unknown to repository");
  return static_cast<uint64_t>(r->Int(0, 0));
}

Status PgMetadataStore::UnlinkBlob(const std::string& repository, const Digest& digest) {
  return InTransaction(*pool_, [&](Conn& c) -> Status {
    auto r = c.Exec(
        "DELETE FROM repo_blobs WHERE digest = $1 AND repo_id = "
        "(SELECT id FROM repositories WHERE name = $2)",
        {digest.str(), repository});
    if (!r) return r.status();
    if (r->affected() == 0) return {Errc::kBlobUnknown, "blob unknown to repository"};
    return Status::Ok();
  });
}

namespace {

// Which of `refs` have a row in `table` (repo_blobs or manifests) of `repo`,
// locking those rows FOR SHARE until the commit.
Result<std::set<std::string>> LockPresent(Conn& c, const char* sql, int64_t repo,
                                          const std::vector<std::string>& refs) {
  std::set<std::string> present;
  if (refs.empty()) return present;
  auto r = c.Exec(sql, {repo, pg::TextArray(refs)});
  if (!r) return r.status();
  for (int i = 0; i < r->size(); ++i) present.insert(r->Text(i, 0));
  return present;
}

}  // namespace

Status PgMetadataStore::PutManifest(const std::string& repository, const ManifestPut& put) {
  return InTransaction(*pool_, [&](Conn& c) -> Status {
    auto repo = EnsureRepo(c, repository);
    if (!repo) return repo.status();
    const std::string digest = put.record.digest.str();

    // References are checked inside the transaction and their rows locked,
    // so GC cannot delete them between the check and the commit.
    auto blobs =
        LockPresent(c,
                    "SELECT digest FROM repo_blobs WHERE repo_id = $1 AND digest = ANY($2::text[]) "
                    "ORDER BY digest FOR SHARE",
                    *repo, put.blob_refs);
    if (!blobs) return blobs.status();
    for (const auto& ref : put.blob_refs) {
      if (!blobs->count(ref)) {
        return {Errc::kManifestBlobUnknown, "blob " + ref + " is not in " + repository};
      }
    }
    auto children =
        LockPresent(c,
                    "SELECT digest FROM manifests WHERE repo_id = $1 AND digest = ANY($2::text[]) "
                    "ORDER BY digest FOR SHARE",
                    *repo, put.manifest_refs);
    if (!children) return children.status();
    for (const auto& ref : put.manifest_refs) {
      if (!children->count(ref)) {
        return {Errc::kManifestBlobUnknown, "manifest " + ref + " is not in " + repository};
      }
    }

    const int64_t now = Now();
    // A manifest pushed again starts its untagged delay again.
    auto ins = c.Exec(
        "INSERT INTO manifests(repo_id, digest, media_type, content, subject, artifact_type, "
        "annotations, touched_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (repo_id, digest) DO UPDATE SET touched_at = excluded.touched_at",
        {*repo, digest, put.record.media_type, Param::Bytes(put.record.content), put.record.subject,
         put.record.artifact_type, put.record.annotations_json, now});
    if (!ins) return ins.status();

    std::vector<std::string> refs = put.blob_refs;
    refs.insert(refs.end(), put.manifest_refs.begin(), put.manifest_refs.end());
    if (!refs.empty()) {
      auto r = c.Exec(
          "INSERT INTO manifest_refs(repo_id, digest, ref) "
          "SELECT $1, $2, ref FROM unnest($3::text[]) AS u(ref) ON CONFLICT DO NOTHING",
          {*repo, digest, pg::TextArray(refs)});
      if (!r) return r.status();
    }
    if (put.tag) {
      // The manifest the tag leaves, if any, starts its untagged delay now.
      auto old = c.Exec(
          "UPDATE manifests SET touched_at = $1 WHERE repo_id = $2 AND digest = "
          "(SELECT digest FROM tags WHERE repo_id = $2 AND name = $3 AND digest <> $4)",
          {now, *repo, *put.tag, digest});
      if (!old) return old.status();
      auto t = c.Exec(
          "INSERT INTO tags(repo_id, name, digest, pushed_at) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest, "
          "pushed_at = excluded.pushed_at",
          {*repo, *put.tag, digest, now});
      if (!t) return t.status();
    }
    return InsertEvents(c, put.events);
  });
}

Result<ManifestRecord> PgMetadataStore::GetManifest(const std::string& repository,
                                                    const Reference& reference) {
  const bool by_tag = std::holds_alternative<std::string>(reference);
  auto r = pg::Query(
      *pool_,
      by_tag ? "SELECT m.digest, m.media_type, m.content, m.subject, m.artifact_type, "
               "m.annotations FROM tags t JOIN repositories r ON r.id = t.repo_id "
               "JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest "
               "WHERE r.name = $1 AND t.name = $2"
             : "SELECT m.digest, m.media_type, m.content, m.subject, m.artifact_type, "
               "m.annotations FROM manifests m JOIN repositories r ON r.id = m.repo_id "
               "WHERE r.name = $1 AND m.digest = $2",
      {repository, by_tag ? std::get<std::string>(reference) : std::get<Digest>(reference).str()});
  if (!r) return r.status();
  if (r->empty()) return Status(Errc::kManifestUnknown, "manifest unknown");
  auto digest = Digest::Parse(r->Text(0, 0));
  if (!digest) return Status(Errc::kInternal, "stored manifest digest is invalid");
  return ManifestRecord{std::move(digest).value(), r->Text(0, 1),    r->Bytes(0, 2),
                        r->OptText(0, 3),          r->OptText(0, 4), r->OptText(0, 5)};
}

Status PgMetadataStore::DeleteTag(const std::string& repository, const std::string& tag,
                                  const EventRows& events) {
  return InTransaction(*pool_, [&](Conn& c) -> Status {
    auto repo = FindRepo(c, repository);
    if (!repo) return repo.status();
    if (!*repo) return {Errc::kManifestUnknown, "tag unknown"};
    auto removed = RemoveTag(c, **repo, tag, std::nullopt);
    if (!removed) return removed.status();
    if (!*removed) return {Errc::kManifestUnknown, "tag unknown"};
    return InsertEvents(c, events);
  });
}

Result<bool> PgMetadataStore::RemoveTag(Conn& c, int64_t repo, const std::string& tag,
                                        const std::optional<TagInfo>& expect) {
  // The tag row is deleted first (locking it), then its manifest touched:
  // the manifest loses a tag, so its untagged delay starts now.
  auto del = c.Exec(
      "DELETE FROM tags WHERE repo_id = $1 AND name = $2 AND "
      "($3::text IS NULL OR (digest = $3::text AND pushed_at = $4)) RETURNING digest",
      {repo, tag, expect ? Param(expect->digest) : Param::Null(),
       expect ? expect->pushed_at : int64_t{0}});
  if (!del) return del.status();
  if (del->empty()) return false;
  auto touch = c.Exec("UPDATE manifests SET touched_at = $1 WHERE repo_id = $2 AND digest = $3",
                      {Now(), repo, del->Text(0, 0)});
  if (!touch) return touch.status();
  return true;
}

Status PgMetadataStore::DeleteManifest(const std::string& repository, const Digest& digest,
                                       const EventRows& events) {
  return InTransaction(*pool_, [&](Conn& c) -> Status {
    auto repo = FindRepo(c, repository);
    if (!repo) return repo.status();
    if (!*repo) return {Errc::kManifestUnknown, "manifest unknown"};
    auto removed = RemoveManifest(c, **repo, digest.str());
    if (!removed) return removed.status();
    if (!*removed) return {Errc::kManifestUnknown, "manifest unknown"};
    return InsertEvents(c, events);
  });
}

Result<bool> PgMetadataStore::RemoveManifest(Conn& c, int64_t repo, const std::string& digest) {
  const int64_t now = Now();
  // The manifest row first: deleting it locks it against a concurrent push
  // of the same manifest.
  auto m = c.Exec("DELETE FROM manifests WHERE repo_id = $1 AND digest = $2", {repo, digest});
  if (!m) return m.status();
  if (m->affected() == 0) return false;
  // What it referenced (links, child manifests) and its referrers may become
  // garbage: their delays start now. Done before its refs are deleted.
  for (const char* q :
       {"UPDATE repo_blobs SET touched_at = $1 WHERE repo_id = $2 AND digest IN "
        "(SELECT ref FROM manifest_refs WHERE repo_id = $2 AND digest = $3)",
        "UPDATE manifests SET touched_at = $1 WHERE repo_id = $2 AND digest IN "
        "(SELECT ref FROM manifest_refs WHERE repo_id = $2 AND digest = $3)",
        "UPDATE manifests SET touched_at = $1 WHERE repo_id = $2 AND subject = $3"}) {
    auto r = c.Exec(q, {now, repo, digest});
    if (!r) return r.status();
  }
  for (const char* q : {"DELETE FROM tags WHERE repo_id = $1 AND digest = $2",
                        "DELETE FROM manifest_refs WHERE repo_id = $1 AND digest = $2"}) {
    auto r = c.Exec(q, {repo, digest});
    if (!r) return r.status();
  }
  return true;
}

Result<std::vector<std::string>> PgMetadataStore::ListTags(const std::string& repository,
                                                           const std::string& last, size_t limit) {
  auto conn = pool_->Acquire();
  if (!conn) return conn.status();
  auto repo = FindRepo(*conn, repository);
  if (!repo) return repo.status();
  if (!*repo) return Status(Errc::kNameUnknown, "repository " + repository + " not known");
  auto r =
      conn->Exec("SELECT name FROM tags WHERE repo_id = $1 AND name > $2 ORDER BY name LIMIT $3",
                 {**repo, last, pg::SqlLimit(limit)});
  if (!r) return r.status();
  std::vector<std::string> out;
  out.reserve(r->size());
  for (int i = 0; i < r->size(); ++i) out.push_back(r->Text(i, 0));
  return out;
}

Result<std::vector<std::string>> PgMetadataStore::ListRepositories(const std::string& last,
                                                                   size_t limit) {
  auto r = pg::Query(*pool_, "SELECT name FROM repositories WHERE name > $1 ORDER BY name LIMIT $2",
                     {last, pg::SqlLimit(limit)});
  if (!r) return r.status();
  std::vector<std::string> out;
  out.reserve(r->size());
  for (int i = 0; i < r->size(); ++i) out.push_back(r->Text(i, 0));
  return out;
}

Result<std::vector<ReferrerRecord>> PgMetadataStore::ListReferrers(
    const std::string& repository, const Digest& subject,
    const std::optional<std::string>& artifact_type, const std::string& last, size_t limit) {
  auto r = pg::Query(
      *pool_,
      "SELECT m.digest, m.media_type, octet_length(m.content), m.artifact_type, m.annotations "
      "FROM manifests m JOIN repositories r ON r.id = m.repo_id "
      "WHERE r.name = $1 AND m.subject = $2 AND ($3::text IS NULL OR m.artifact_type = $3::text) "
      "AND m.digest > $4 ORDER BY m.digest LIMIT $5",
      {repository, subject.str(), artifact_type, last, pg::SqlLimit(limit)});
  if (!r) return r.status();
  std::vector<ReferrerRecord> out;
  out.reserve(r->size());
  for (int i = 0; i < r->size(); ++i) {
    out.push_back({r->Text(i, 0), r->Text(i, 1), static_cast<uint64_t>(r->Int(i, 2)),
                   r->OptText(i, 3), r->OptText(i, 4)});
  }
  return out;
}

}  // namespace berth::storage
