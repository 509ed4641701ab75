// PgMetadataStore: the MetadataStore, LifecycleStore and EventQueue on
// PostgreSQL (schema in pg_schema.cpp), for several berths sharing one
// database. Same contracts and same transactions as SqliteMetadataStore; but
// where SQLite has one writer at a time, PostgreSQL runs transactions side
// by side (READ COMMITTED), so each transaction that must see "nobody else
// wrote in between" takes a lock for it, chosen per case:
//  - quota (LinkBlob, MountBlob with quota > 0): a transaction advisory lock
//    keyed on the namespace, taken before its usage is summed. Usage is a
//    sum over many rows that a row lock cannot cover and SERIALIZABLE would
//    turn every pair of parallel layer pushes into a retry; the advisory
//    lock serialises exactly the pushes that compete for one quota, and a
//    statement run after it sees everything committed before it.
//  - PutManifest's references: SELECT ... FOR SHARE on the referenced link
//    and manifest rows, so GC cannot delete them before the commit.
//  - Collect*, ForgetBlobs: the candidate row is first locked FOR UPDATE
//    (waiting for a push holding it), then the whole condition is evaluated
//    again by a new statement, which sees what that push committed.
//  - event rows: a transaction advisory lock held from their insert to the
//    commit, so `seq` values become visible in increasing order and the
//    dispatcher's Remove(through) never passes over a row still uncommitted.
// Deadlocks and serialization failures are retried (pg::InTransaction).
//
// Thread-safety: safe from many threads; each call takes a pooled connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/event_queue.hpp"
#include "storage/lifecycle_store.hpp"
#include "storage/metadata_store.hpp"
#include "storage/pg/pg.hpp"

namespace berth::storage {

class PgMetadataStore final : public MetadataStore, public LifecycleStore, public EventQueue {
 public:
  // Uses `pool` (shared with the other PostgreSQL stores). REQUIRES: the
  // schema is migrated (pg::Migrate).
  explicit PgMetadataStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  Status Ping() override;
  Status LinkBlob(const std::string& repository, const Digest& digest, uint64_t size,
                  uint64_t quota) override;
  Result<uint64_t> MountBlob(const std::string& from, const std::string& repository,
                             const Digest& digest, uint64_t quota) override;
  Result<uint64_t> LinkedBlobSize(const std::string& repository, const Digest& digest) override;
  Status UnlinkBlob(const std::string& repository, const Digest& digest) override;
  Status PutManifest(const std::string& repository, const ManifestPut& put) override;
  Result<ManifestRecord> GetManifest(const std::string& repository,
                                     const Reference& reference) override;
  using MetadataStore::DeleteManifest;
  using MetadataStore::DeleteTag;
  Status DeleteTag(const std::string& repository, const std::string& tag,
                   const EventRows& events) override;
  Status DeleteManifest(const std::string& repository, const Digest& digest,
                        const EventRows& events) override;
  Result<std::vector<std::string>> ListTags(const std::string& repository, const std::string& last,
                                            size_t limit) override;
  Result<std::vector<std::string>> ListRepositories(const std::string& last, size_t limit) override;
  Result<std::vector<ReferrerRecord>> ListReferrers(const std::string& repository,
                                                    const Digest& subject,
                                                    const std::optional<std::string>& artifact_type,
                                                    const std::string& last, size_t limit) override;

  // LifecycleStore (pg_lifecycle.cpp).
  // Copy ignores `path`: the copy is a schema of its own in the same
  // database (berth_copy_<random>), filled from one REPEATABLE READ snapshot
  // and dropped with the StoreCopy.
  Result<std::unique_ptr<StoreCopy>> Copy(const std::string& path) override;
  Result<std::vector<RepoEntry>> CollectManifests(int64_t before, size_t limit, bool dry_run,
                                                  KeyCursor* cursor) override;
  Result<std::vector<RepoEntry>> CollectLinks(int64_t before, size_t limit, bool dry_run,
                                              KeyCursor* cursor) override;
  Result<std::vector<UnlinkedBlob>> UnlinkedBlobs(const std::string& after, size_t limit) override;
  Result<std::vector<Digest>> ForgetBlobs(const std::vector<Digest>& digests) override;
  Result<std::vector<bool>> BlobsKnown(const std::vector<Digest>& digests) override;
  Result<std::vector<TagInfo>> ListTagInfo(const std::string& repository, const std::string& last,
                                           size_t limit) override;
  Result<bool> DeleteTagIf(const std::string& repository, const TagInfo& tag) override;
  Status RecordPulls(const std::vector<TagPull>& pulls) override;
  Result<NamespaceUsage> Usage(const std::string& name_space) override;
  Result<std::vector<std::string>> ListNamespaces(const std::string& last, size_t limit) override;
  Result<StoreTotals> Totals() override;

  // EventQueue (pg_event_queue.cpp).
  Status Enqueue(const EventRows& rows) override;
  Result<std::vector<PendingEvent>> Pending(const std::string& endpoint, size_t limit) override;
  Status Remove(const std::string& endpoint, int64_t through) override;
  Result<uint64_t> Trim(const std::string& endpoint, uint64_t keep) override;
  Result<uint64_t> Count(const std::string& endpoint) override;

  // The helpers below run inside a transaction on `c`.
  // Appends event rows (taking the event-order lock). REQUIRES: in a transaction.
  static Status InsertEvents(pg::Conn& c, const EventRows& rows);
  // Unix seconds: the times GC delays count from.
  static int64_t Now();

 private:
  static Result<int64_t> EnsureRepo(pg::Conn& c, const std::string& name);
  static Result<std::optional<int64_t>> FindRepo(pg::Conn& c, const std::string& name);
  static Status InsertLink(pg::Conn& c, int64_t repo, const std::string& repository,
                           const Digest& digest, uint64_t size, uint64_t quota);
  static Result<NamespaceUsage> UsageOf(pg::Conn& c, const std::string& name_space);
  static Status CheckQuota(pg::Conn& c, const std::string& repository, const Digest& digest,
                           uint64_t size, uint64_t quota);
  static Result<bool> RemoveTag(pg::Conn& c, int64_t repo, const std::string& tag,
                                const std::optional<TagInfo>& expect);
  static Result<bool> RemoveManifest(pg::Conn& c, int64_t repo, const std::string& digest);

  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace berth::storage
