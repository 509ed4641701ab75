// S3BlobStore: blobs as S3 objects <prefix>blobs/<algorithm>/<xx>/<hex>
// (docs/storage-format.md, "S3"). An object appears under that key only
// complete and verified: uploads land elsewhere and are copied or PUT there
// after their digest was checked.
//
// Reads are streamed: Open/OpenRange answer OpenBlob{stream=true}, the read
// end of a pipe that a fetch thread fills from GetObject. At most
// `max_fetches` fetches run at once; the fetch thread stops when the reader
// closes its end (EPIPE, never SIGPIPE: the fetch threads block it) or stops
// reading for `stall_timeout_ms`, and closes the write end when done, so a
// failed fetch shows as a short stream.
//
// Thread-safety: safe from many threads. The destructor waits for the fetch
// threads still running (each bounded by the client's timeouts and
// stall_timeout_ms).
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>

#include "common/thread_annotations.hpp"
#include "s3/client.hpp"
#include "storage/blob_store.hpp"

namespace berth::storage {

struct S3BlobStoreOptions {
  // Put in front of every key, e.g. "berth/" to share a bucket; "" = none.
  std::string prefix;
  // RedirectUrl answers presigned URLs (clients fetch from S3 directly,
  // which must then be reachable by them); false: berth streams every blob.
  bool redirect = false;
  int redirect_expires_seconds = 1200;
  // Concurrent GetObject streams (each a thread and a pipe of pipe_bytes).
  int max_fetches = 16;
  // How long Open waits for a free fetch slot before kUnavailable.
  int fetch_wait_ms = 500;
  // A reader that takes nothing from its pipe for this long loses its fetch.
  int stall_timeout_ms = 60000;
  // Pipe buffer asked of the kernel (F_SETPIPE_SZ; the default 64 KiB when
  // refused). Larger means fewer wake-ups per MiB.
  int pipe_bytes = 1 << 20;
};

class S3BlobStore final : public BlobStore {
 public:
  // `client` must outlive the store.
  S3BlobStore(s3::Client& client, S3BlobStoreOptions options);
  ~S3BlobStore() override;

  // kBlobUnknown when missing; kUnavailable when max_fetches streams run
  // and none ended within fetch_wait_ms; kRangeInvalid past the end.
  Result<OpenBlob> Open(const Digest& digest) override;
  Result<OpenBlob> OpenRange(const Digest& digest, uint64_t offset, uint64_t length) override;
  std::optional<std::string> RedirectUrl(const Digest& digest, const std::string& method) override;
  Result<uint64_t> Stat(const Digest& digest) override;
  // PutObject of the staged file (kept local: any filesystem), removed after.
  // A file over 5 GiB (S3's single PUT limit) is kUnsupported.
  Status Publish(const std::string& staged_path, const Digest& digest) override;
  // DeleteObject; S3 frees the space itself, so Purge has nothing to do (0).
  Status Remove(const Digest& digest) override;
  Result<uint64_t> Purge() override;
  // Lists <prefix>blobs/ a page at a time; keys that are not blobs are skipped.
  Status ForEach(const std::function<void(const Digest&, uint64_t size)>& visit) override;

  // The object key of `digest`.
  std::string Key(const Digest& digest) const;

 private:
  struct Fetch;
  static void RunFetch(S3BlobStore* store, std::string key, uint64_t offset, uint64_t length,
                       UniqueFd write_end);

  s3::Client& client_;
  const S3BlobStoreOptions options_;
  Mutex mu_;
  std::condition_variable cv_;
  int fetches_ GUARDED_BY(mu_) = 0;
};

}  // namespace berth::storage
