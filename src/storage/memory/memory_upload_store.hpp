// MemoryUploadStore: upload sessions in memory, for tests. Same leases,
// rollback and Keep rules as UploadStore describes; Complete verifies the
// digest and publishes into a MemoryBlobStore with Put. Nothing is durable.
//
// Thread-safety: safe from many threads; see UploadStore for leases.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/thread_annotations.hpp"
#include "storage/memory/memory_blob_store.hpp"
#include "storage/upload_store.hpp"

namespace berth::storage {

class MemoryUploadStore final : public UploadStore {
 public:
  // `blobs` receives completed uploads and must outlive this store.
  explicit MemoryUploadStore(MemoryBlobStore& blobs);
  ~MemoryUploadStore() override;

  Result<UploadPtr> Create(const std::string& repository) override;
  Result<UploadPtr> Acquire(const std::string& id, const std::string& repository) override;
  Status Cancel(const std::string& id, const std::string& repository) override;
  // Age counts from the last Keep (or Create), in wall-clock seconds.
  Result<uint64_t> ExpireIdle(int64_t max_age_seconds, bool dry_run) override;
  Result<uint64_t> InProgress() override;

  struct Session;  // one session's bytes and state (memory_upload_store.cpp)

 private:
  class Lease;
  void Release(Session& session);
  void Forget(const std::string& id);

  MemoryBlobStore& blobs_;
  Mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_ GUARDED_BY(mu_);
};

}  // namespace berth::storage
