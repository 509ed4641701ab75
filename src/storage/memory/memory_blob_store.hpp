// MemoryBlobStore: blobs in memory, for tests. It answers Open and OpenRange
// either like the filesystem store (a seekable descriptor: a memfd holding a
// copy of the blob) or like a remote store (a pipe fed by a writer thread
// with exactly the range asked), so both ways of serving a blob can be tested
// without a disk or a network. Removed blobs wait in a trash until Purge.
//
// Thread-safety: safe from many threads.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/thread_annotations.hpp"
#include "storage/blob_store.hpp"

namespace berth::storage {

class MemoryBlobStore final : public BlobStore {
 public:
  enum class Serve {
    kSeekable,  // Open/OpenRange answer a memfd with the whole blob
    kStream,    // they answer a pipe yielding the range, as S3 would
  };
  explicit MemoryBlobStore(Serve serve = Serve::kSeekable);

  // Stores `bytes` as `digest`; when it is already stored, keeps the stored
  // copy (same digest, same content). Always OK.
  // REQUIRES: `bytes` hash to `digest`.
  Status Put(const Digest& digest, std::string bytes);

  // Makes RedirectUrl answer "<base>/<digest>?method=<method>" (a stand-in
  // for a presigned URL); empty `base` turns redirects off (the default).
  void SetRedirectBase(std::string base);

  Result<OpenBlob> Open(const Digest& digest) override;
  // A stream writes exactly [offset, offset + length) of the blob, clamped
  // to its end, from a detached thread that stops early when the reader
  // closes its end (EPIPE). kRangeInvalid when `offset` is past the end.
  Result<OpenBlob> OpenRange(const Digest& digest, uint64_t offset, uint64_t length) override;
  std::optional<std::string> RedirectUrl(const Digest& digest, const std::string& method) override;
  Result<uint64_t> Stat(const Digest& digest) override;
  // Reads the staged file into memory and unlinks it.
  Status Publish(const std::string& staged_path, const Digest& digest) override;
  Status Remove(const Digest& digest) override;
  Result<uint64_t> Purge() override;
  Status ForEach(const std::function<void(const Digest&, uint64_t size)>& visit) override;

 private:
  using Bytes = std::shared_ptr<const std::string>;  // shared with writer threads
  Result<Bytes> Find(const Digest& digest);

  const Serve serve_;
  Mutex mu_;
  std::map<std::string, Bytes> blobs_ GUARDED_BY(mu_);  // by digest string
  std::map<std::string, Bytes> trash_ GUARDED_BY(mu_);  // removed, not yet purged
  std::string redirect_base_ GUARDED_BY(mu_);
};

}  // namespace berth::storage
