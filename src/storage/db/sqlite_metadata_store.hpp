// SqliteMetadataStore: the MetadataStore on one SQLite database in WAL mode
// with synchronous=FULL, so a committed transaction is on stable storage
// before the call returns. The schema lives in sqlite_metadata_store.cpp and
// is pictured in docs/storage-format.md.
//
// Thread-safety: safe from many threads. Writes are serialised on one
// connection (SQLite has one writer anyway). Reads take a connection of their
// own from a small pool: in WAL mode a reader never waits for the writer, so
// a lookup is never stuck behind a commit's fsync (reads may run on the
// network threads, see http::Handler::Quick).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/thread_annotations.hpp"
#include "storage/db/sqlite.hpp"
#include "storage/event_queue.hpp"
#include "storage/lifecycle_store.hpp"
#include "storage/metadata_store.hpp"

namespace berth::storage {

// The lifecycle half (GC, retention, quotas) is in sqlite_lifecycle.cpp; the
// webhook event queue (table event_queue, schema v3) in sqlite_event_queue.cpp.
class SqliteMetadataStore final : public MetadataStore, public LifecycleStore, public EventQueue {
 public:
  // Opens or creates the database and brings its schema up to date.
  // Start-up only: kInternal on failure.
  static Result<std::unique_ptr<SqliteMetadataStore>> Open(const std::string& path);

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

  // LifecycleStore
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

  // EventQueue
  Status Enqueue(const EventRows& rows) override;
  Result<std::vector<PendingEvent>> Pending(const std::string& endpoint, size_t limit) override;
  Status Remove(const std::string& endpoint, int64_t through) override;
  Result<uint64_t> Trim(const std::string& endpoint, uint64_t keep) override;
  Result<uint64_t> Count(const std::string& endpoint) override;

 private:
  // A reader connection, returned to the pool when it goes out of scope.
  class Reader {
   public:
    Reader(SqliteMetadataStore& store, std::unique_ptr<sql::Db> db)
        : store_(&store), db_(std::move(db)) {}
    Reader(Reader&& o) noexcept : store_(o.store_), db_(std::move(o.db_)) {}
    Reader(const Reader&) = delete;
    ~Reader();
    sql::Db& operator*() { return *db_; }
    sql::Db* operator->() { return db_.get(); }

   private:
    SqliteMetadataStore* store_;
    std::unique_ptr<sql::Db> db_;
  };

  SqliteMetadataStore(std::string path, std::unique_ptr<sql::Db> db)
      : path_(std::move(path)), db_(std::move(db)) {}
  Result<Reader> AcquireReader();
  // Repository id, created if needed. REQUIRES: mu_ held, inside a transaction.
  Result<int64_t> EnsureRepo(const std::string& name) REQUIRES(mu_);
  // Inserts or refreshes a link after the quota check. REQUIRES: as EnsureRepo.
  Status InsertLink(int64_t repo, const std::string& repository, const Digest& digest,
                    uint64_t size, uint64_t quota) REQUIRES(mu_);
  // Removes a tag (only if it is still `expect`, when given), touching its
  // manifest; false when nothing was removed. REQUIRES: as EnsureRepo.
  Result<bool> RemoveTag(int64_t repo, const std::string& tag, const std::optional<TagInfo>& expect)
      REQUIRES(mu_);
  // Removes a manifest, its tags and refs, touching what it referenced;
  // false when absent. REQUIRES: as EnsureRepo.
  Result<bool> RemoveManifest(int64_t repo, const std::string& digest) REQUIRES(mu_);
  // Appends event rows. REQUIRES: as EnsureRepo.
  Status InsertEvents(const EventRows& rows) REQUIRES(mu_);
  // Unix seconds: the times GC delays count from.
  static int64_t Now();
  static Result<NamespaceUsage> UsageOf(sql::Db& db, const std::string& name_space);
  // kDenied when linking `digest` (new to the namespace) would pass `quota`.
  static Status CheckQuota(sql::Db& db, const std::string& repository, const Digest& digest,
                           uint64_t size, uint64_t quota);

  const std::string path_;
  Mutex mu_;
  std::unique_ptr<sql::Db> db_ GUARDED_BY(mu_);
  Mutex readers_mu_;
  std::vector<std::unique_ptr<sql::Db>> idle_readers_ GUARDED_BY(readers_mu_);
};

}  // namespace berth::storage
