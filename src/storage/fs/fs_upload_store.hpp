// FsUploadStore: one file per upload session, <root>/uploads/<id>-<key>,
// where the key is derived from the session's repository (see SessionFile).
// The running hash of each session is kept in memory between requests, so a
// chunked upload is hashed exactly once as it streams in; after a restart
// the hash is rebuilt from the data file the first time the session is used.
//
// Thread-safety: safe from many threads; see UploadStore for leases.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/thread_annotations.hpp"
#include "storage/blob_store.hpp"
#include "storage/upload_store.hpp"

namespace berth::storage {

class FsUploadStore final : public UploadStore {
 public:
  // `blobs` receives completed uploads; it must live on the same filesystem.
  FsUploadStore(std::string root, BlobStore& blobs);
  ~FsUploadStore() override;

  Result<UploadPtr> Create(const std::string& repository) override;
  Result<UploadPtr> Acquire(const std::string& id, const std::string& repository) override;
  Status Cancel(const std::string& id, const std::string& repository) override;
  Result<uint64_t> ExpireIdle(int64_t max_age_seconds, bool dry_run) override;
  Result<uint64_t> InProgress() override;

  struct Session;  // in-memory state of one session (fs_upload_store.cpp)

 private:
  class Lease;
  Result<UploadPtr> Lease_(const std::string& id, std::shared_ptr<Session> session);
  void Forget(const std::string& id);

  const std::string root_;
  BlobStore& blobs_;
  Mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_ GUARDED_BY(mu_);
};

}  // namespace berth::storage
