// MetadataStore: what each repository holds. Blob links, manifests (stored
// whole), tags and referrers. Every mutating call is one durable transaction:
// when it returns OK the change survives a crash or power loss.
//
// Thread-safety: implementations are safe to call from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.hpp"
#include "common/names.hpp"
#include "common/result.hpp"
#include "storage/event_queue.hpp"

namespace berth::storage {

// A manifest as stored: its exact bytes plus what was learned parsing it.
struct ManifestRecord {
  Digest digest{DigestAlgorithm::kSha256, ""};
  std::string media_type;
  std::string content;
  // Referrers bookkeeping: the `subject` digest, the artifact type (manifest
  // `artifactType`, else config media type) and `annotations` as JSON text.
  std::optional<std::string> subject;
  std::optional<std::string> artifact_type;
  std::optional<std::string> annotations_json;
};

// A manifest PUT: the record, the tag to point at it (if pushed by tag), and
// the blobs and manifests it references, which must all be in the repository.
struct ManifestPut {
  ManifestRecord record;
  std::optional<std::string> tag;
  std::vector<std::string> blob_refs;      // config and layers
  std::vector<std::string> manifest_refs;  // children of an index
  // Webhook events to record in the same transaction (storage/event_queue.hpp).
  EventRows events;
};

struct ReferrerRecord {
  std::string digest;
  std::string media_type;
  uint64_t size = 0;
  std::optional<std::string> artifact_type;
  std::optional<std::string> annotations_json;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Cheap liveness probe of the database (for /readyz).
  virtual Status Ping() { return Status::Ok(); }

  // Records that `repository` holds blob `digest` of `size` bytes (creating
  // the repository if needed), or refreshes the link's time. When `quota` is
  // non-zero and the blob is new to the repository's namespace, kDenied if
  // the namespace's usage plus `size` would pass `quota` (checked inside the
  // transaction, so concurrent pushes cannot overshoot together).
  virtual Status LinkBlob(const std::string& repository, const Digest& digest, uint64_t size,
                          uint64_t quota) = 0;

  // Cross-repository mount: links `digest` into `repository` if `from` holds
  // it, in one transaction (so GC cannot remove it in between); returns its
  // size. kBlobUnknown when `from` does not hold it; kDenied as LinkBlob.
  virtual Result<uint64_t> MountBlob(const std::string& from, const std::string& repository,
                                     const Digest& digest, uint64_t quota) = 0;

  // Size of blob `digest` if it is linked into `repository`; kBlobUnknown otherwise.
  virtual Result<uint64_t> LinkedBlobSize(const std::string& repository, const Digest& digest) = 0;

  // Removes the link; kBlobUnknown if there was none.
  virtual Status UnlinkBlob(const std::string& repository, const Digest& digest) = 0;

  // Stores a manifest (and its tag) in one transaction after checking that
  // every reference is in the repository: kManifestBlobUnknown naming the
  // first missing one otherwise.
  virtual Status PutManifest(const std::string& repository, const ManifestPut& put) = 0;

  // The manifest named by tag or digest; kManifestUnknown if absent.
  virtual Result<ManifestRecord> GetManifest(const std::string& repository,
                                             const Reference& reference) = 0;

  // Removes a tag only, recording `events` (storage/event_queue.hpp) in the
  // same transaction; kManifestUnknown if absent (nothing recorded).
  virtual Status DeleteTag(const std::string& repository, const std::string& tag,
                           const EventRows& events) = 0;
  Status DeleteTag(const std::string& repository, const std::string& tag) {
    return DeleteTag(repository, tag, {});
  }

  // Removes a manifest and every tag on it, recording `events` in the same
  // transaction; kManifestUnknown if absent (nothing recorded).
  virtual Status DeleteManifest(const std::string& repository, const Digest& digest,
                                const EventRows& events) = 0;
  Status DeleteManifest(const std::string& repository, const Digest& digest) {
    return DeleteManifest(repository, digest, {});
  }

  // Listings are read one page at a time, in byte order of their key,
  // strictly after `last` ("" = from the start) and at most `limit` entries:
  // nothing the size of the stored data is ever loaded at once.

  // Tags of `repository`. kNameUnknown if the repository does not exist.
  virtual Result<std::vector<std::string>> ListTags(const std::string& repository,
                                                    const std::string& last, size_t limit) = 0;

  // Repository names.
  virtual Result<std::vector<std::string>> ListRepositories(const std::string& last,
                                                            size_t limit) = 0;

  // Manifests in `repository` whose subject is `subject`, optionally only
  // those of `artifact_type`, keyed by manifest digest.
  virtual Result<std::vector<ReferrerRecord>> ListReferrers(
      const std::string& repository, const Digest& subject,
      const std::optional<std::string>& artifact_type, const std::string& last, size_t limit) = 0;
};

using MetadataStorePtr = std::unique_ptr<MetadataStore>;

}  // namespace berth::storage
