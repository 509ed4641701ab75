// FsBlobStore: blobs as files under <root>/blobs/<algorithm>/<xx>/<hex>.
// A file appears there only complete and verified (staged elsewhere, fsynced,
// renamed, directory fsynced), so a crash never exposes half a blob.
//
// Thread-safety: safe from many threads (the filesystem arbitrates).
#pragma once

#include <string>

#include "storage/blob_store.hpp"

namespace berth::storage {

class FsBlobStore final : public BlobStore {
 public:
  // REQUIRES: `root` exists and is writable.
  explicit FsBlobStore(std::string root);

  // Creates blobs/sha256/ and its 256 shard directories, durably, where they
  // are missing, so that no push pays for a mkdir and two directory syncs.
  // Called once at start-up; Publish still makes a missing shard itself.
  Status Prepare();

  Result<OpenBlob> Open(const Digest& digest) override;
  Result<uint64_t> Stat(const Digest& digest) override;
  Status Publish(const std::string& staged_path, const Digest& digest) override;
  // Remove renames into <root>/trash/; Purge empties it (also of files a
  // crash left there).
  Status Remove(const Digest& digest) override;
  Result<uint64_t> Purge() override;
  Status ForEach(const std::function<void(const Digest&, uint64_t size)>& visit) override;

 private:
  const std::string root_;
};

}  // namespace berth::storage
