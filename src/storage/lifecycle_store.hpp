// LifecycleStore: what garbage collection, retention and quotas need from the
// metadata, beyond serving the API (docs/lifecycle.md has the rules).
//
// Every Collect* call deletes at most `limit` rows in one transaction, and
// each deletion repeats its whole condition inside that transaction: a push
// that re-references a row before the commit keeps it. With dry_run nothing
// is deleted and the same rows are returned. `cursor` pages through the
// candidates; start with a default-constructed one and stop on an empty answer.
//
// Thread-safety: implementations are safe to call from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/digest.hpp"
#include "common/result.hpp"

namespace berth::storage {

// Where a scan through (repository, digest) keys stopped.
struct KeyCursor {
  int64_t repo_id = -1;
  std::string digest;
};

// A manifest or a blob link of one repository.
struct RepoEntry {
  std::string repository;
  std::string digest;
};

struct TagInfo {
  std::string name;
  std::string digest;
  int64_t pushed_at = 0;  // unix seconds of the last push of this tag
  int64_t pulled_at = 0;  // unix seconds of the last recorded pull; 0 = never
};

struct TagPull {
  std::string repository;
  std::string tag;
  int64_t at = 0;
};

struct UnlinkedBlob {
  Digest digest{DigestAlgorithm::kSha256, ""};
  uint64_t size = 0;
};

struct NamespaceUsage {
  std::string name;
  uint64_t bytes = 0;  // distinct blobs linked in any repository of the namespace
  uint64_t blobs = 0;
  uint64_t repositories = 0;
};

// What the store holds, for metrics.
struct StoreTotals {
  uint64_t repositories = 0;
  uint64_t manifests = 0;
  uint64_t tags = 0;
  uint64_t blobs = 0;       // distinct blobs known to the database
  uint64_t blob_bytes = 0;  // their sizes summed
};

// The message of a 403 DENIED for a quota: podman and skopeo show it as is.
std::string QuotaMessage(const std::string& name_space, uint64_t used, uint64_t adding,
                         uint64_t quota);

class MetadataStore;
class LifecycleStore;

// A private, writable copy of the metadata (LifecycleStore::Copy), deleted
// when dropped. A dry run collects on it with the real code, so its counts
// are exactly what a run would delete, without touching the real data.
class StoreCopy {
 public:
  virtual ~StoreCopy() = default;
  virtual MetadataStore& meta() = 0;
  virtual LifecycleStore& lifecycle() = 0;
};

class LifecycleStore {
 public:
  // A consistent snapshot of the store, written to `path` (replaced if it
  // exists; same filesystem as the store, as it may be large). Readers and
  // writers of the store go on meanwhile.
  virtual Result<std::unique_ptr<StoreCopy>> Copy(const std::string& path) = 0;

  virtual ~LifecycleStore() = default;

  // Manifests without a tag, parent or living subject, untouched since before
  // `before` (unix seconds). Deleting one touches what it referenced.
  virtual Result<std::vector<RepoEntry>> CollectManifests(int64_t before, size_t limit,
                                                          bool dry_run, KeyCursor* cursor) = 0;

  // Blob links no manifest of their repository references, untouched since
  // before `before`.
  virtual Result<std::vector<RepoEntry>> CollectLinks(int64_t before, size_t limit, bool dry_run,
                                                      KeyCursor* cursor) = 0;

  // Blobs that no repository links, after `after` in digest order.
  virtual Result<std::vector<UnlinkedBlob>> UnlinkedBlobs(const std::string& after,
                                                          size_t limit) = 0;

  // Deletes the rows of those of `digests` that are still unlinked, in one
  // transaction; returns the ones deleted. The caller then removes their
  // files, holding their DigestLocks throughout.
  virtual Result<std::vector<Digest>> ForgetBlobs(const std::vector<Digest>& digests) = 0;

  // Which of `digests` have a blob row (the file walk's question).
  virtual Result<std::vector<bool>> BlobsKnown(const std::vector<Digest>& digests) = 0;

  // Tags of `repository` after `last` in name order, with their times.
  virtual Result<std::vector<TagInfo>> ListTagInfo(const std::string& repository,
                                                   const std::string& last, size_t limit) = 0;

  // Deletes the tag if it still names `digest` and was not pushed since
  // `pushed_at`; false when it changed (a push won) or is gone.
  virtual Result<bool> DeleteTagIf(const std::string& repository, const TagInfo& tag) = 0;

  // Records pull times in one transaction (later times win).
  virtual Status RecordPulls(const std::vector<TagPull>& pulls) = 0;

  // Usage of one namespace; zeros when it has no repository.
  virtual Result<NamespaceUsage> Usage(const std::string& name_space) = 0;

  // Counts of everything stored (a few COUNT queries: for a scrape, not a request).
  virtual Result<StoreTotals> Totals() = 0;

  // Namespaces (first path component of repository names) after `last`.
  virtual Result<std::vector<std::string>> ListNamespaces(const std::string& last,
                                                          size_t limit) = 0;
};

}  // namespace berth::storage
