// BlobStore: immutable, content-addressed blob files shared by every
// repository. It knows nothing of repositories: which repository may see a
// blob is the MetadataStore's business, and callers must ask it first.
//
// Thread-safety: implementations are safe to call from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/digest.hpp"
#include "common/file.hpp"
#include "common/result.hpp"

namespace berth::storage {

// An open blob; the caller owns the descriptor. `size` is the whole blob's.
// A seekable blob (stream false) is a regular file: the caller reads the
// range it wants with pread or sendfile. A streamed blob (stream true; S3)
// is the read end of a pipe that yields exactly the range asked of
// OpenRange, in order, then EOF; fewer bytes mean the fetch failed.
struct OpenBlob {
  UniqueFd fd;
  uint64_t size = 0;
  bool stream = false;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Opens the blob for reading. kBlobUnknown when it is not stored.
  virtual Result<OpenBlob> Open(const Digest& digest) = 0;

  // Opens bytes [offset, offset + length) of the blob for reading. Stores
  // whose reads are remote answer a stream; the default opens the file.
  virtual Result<OpenBlob> OpenRange(const Digest& digest, uint64_t offset, uint64_t length) {
    (void)offset;
    (void)length;
    return Open(digest);
  }

  // A URL the client may fetch the blob from directly (an S3 presigned URL)
  // instead of through berth, for `method` GET or HEAD; nullopt when the
  // store serves blobs itself.
  virtual std::optional<std::string> RedirectUrl(const Digest& digest, const std::string& method) {
    (void)digest;
    (void)method;
    return std::nullopt;
  }

  // Size of a stored blob. kBlobUnknown when it is not stored.
  virtual Result<uint64_t> Stat(const Digest& digest) = 0;

  // Publishes the complete, verified file at `staged_path` (on the same
  // filesystem) as `digest`: fsync, rename into place, fsync the directory.
  // When the blob already exists the staged file is removed instead. On
  // return OK the blob is durable. kNoSpace / kInternal on I/O failure.
  // REQUIRES: the content of `staged_path` hashes to `digest`.
  virtual Status Publish(const std::string& staged_path, const Digest& digest) = 0;

  // Takes a blob's file out of the store at once (a rename: cheap, so GC
  // holds the digest's DigestLocks stripe only briefly); OK when it is
  // already gone. Its space is freed by Purge. Called after the row is gone.
  virtual Status Remove(const Digest& digest) = 0;

  // Frees the space of removed blobs (unlinking can be slow; no lock is
  // needed). Returns how many files it freed.
  virtual Result<uint64_t> Purge() = 0;

  // Calls `visit` for each stored blob (digest and size), a directory at a
  // time; names that are not digests are skipped. kInternal on I/O failure.
  virtual Status ForEach(const std::function<void(const Digest&, uint64_t size)>& visit) = 0;
};

using BlobStorePtr = std::unique_ptr<BlobStore>;

}  // namespace berth::storage
