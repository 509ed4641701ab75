// S3UploadStore: upload sessions kept in S3, so that several berths sharing
// one bucket can each serve any request of any session (a chunked push
// whose PATCHes land on different nodes). Layout (docs/storage-format.md,
// "S3"), under <prefix>uploads/<id>/:
//
//   state      the truth about the session, small JSON: repository, size,
//              the parts that count [number, etag, size], the running
//              SHA-256 state (crypto::Hasher::SaveState), the tail's size and
//              generation, the S3 multipart upload id, created/updated times
//   tail-<g>   the bytes after the last part (S3 refuses non-final parts
//              under 5 MiB, so small chunks gather here until a part is full)
//   data       the multipart upload's object: exists only during Complete
//
// A request reads `state` at Acquire (and the tail, which the next part
// starts with). Append (on the network I/O thread) never touches the
// network and never waits: it copies the bytes into the part's memory
// buffer, or into a local spool file when the lease or the store has no
// buffer to spare (memory_bytes), and feeds the hash; each time part_size
// bytes are complete past the last part, a shared worker pool uploads that
// part while the body still streams in. A part from memory costs a copy
// where the spool costs a file write and a read back (a profile of a push
// had most of berth's CPU in kernel copies). At most parts_in_flight parts
// per lease are in flight: what is queued is bounded by the number of
// leases, memory by memory_bytes, the spool by the body.
//
// Keep waits for those parts, PUTs the new tail under a new generation, then
// PUTs `state`, and only then returns: a crash at any point leaves the last
// written state valid (a new tail never overwrites the one it names). Parts
// that a lease uploaded without a Keep are not in `state`; the next lease
// numbers its parts after the last kept one, so S3 replaces them, and
// CompleteMultipart lists only the parts `state` (and the completing lease)
// name, so stray parts never count.
//
// Complete checks the hash first (a mismatch discards the session:
// kDigestInvalid). A blob with no full part is PUT straight from the spool;
// otherwise the tail becomes the last part, the multipart upload completes
// into `data`, which is copied to the blob key (S3's CopyObject: at most
// 5 GiB: Append refuses to grow a session past it, kTooLarge) and deleted.
// The hash kept between requests is SHA-256; a digest of another algorithm
// (sha512) is checked on `data` read back once, before the copy.
//
// Leases across nodes: a LeaseTable entry "upload:<id>" with a random holder
// per lease, for lease_ttl_seconds. The lease is not renewed while a request
// runs: lease_ttl_seconds must exceed the longest request (body limit over
// the slowest accepted client speed). Keep and Complete take the lease again
// before writing, and fail with kBusy if it lapsed and another holder has it.
// Releasing a lease is a network call: dropping an Upload hands it to the
// worker pool, so a lease can be dropped on the I/O thread.
//
// Not handled: an incomplete multipart upload whose node crashed before any
// Keep named it is invisible to ListObjects; give the bucket a lifecycle rule
// (AbortIncompleteMultipartUpload) for those.
//
// Thread-safety: safe from many threads; one Upload lease is used by one
// thread at a time. Every Upload must be destroyed before the store.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_annotations.hpp"
#include "s3/client.hpp"
#include "storage/lease_table.hpp"
#include "storage/s3/s3_blob_store.hpp"
#include "storage/upload_store.hpp"

namespace berth::storage {

struct S3UploadStoreOptions {
  // Put in front of every key ("" = none); the same as the blob store's.
  std::string prefix;
  // A local directory (it must exist) for the spool files of running
  // requests: one unlinked file per lease holding the parts (the tail it
  // started from and what it received) that found no memory buffer. Parts
  // already in S3 are punched out of it (fallocate), so it holds what the
  // uploads lag behind the bodies, at worst (a slow S3) the bodies in flight.
  std::string spool_dir;
  // Size of the multipart parts. S3's minimum is 5 MiB (smaller values are
  // raised to it); larger parts mean fewer requests but a larger tail to
  // carry from chunk to chunk. A session may have at most 10,000 parts.
  uint64_t part_size = uint64_t{8} << 20;
  // Threads uploading parts and releasing leases, shared by all leases.
  int workers = 8;
  // Parts of one lease uploading at once while its body streams in: S3
  // answers each part after a round trip, so one at a time leaves the link
  // idle in between. Each costs a worker and a connection.
  int parts_in_flight = 4;
  // See the header comment: longer than any request may take.
  int64_t lease_ttl_seconds = 600;
  // Memory for parts, over all leases. A lease fills each part in a buffer
  // of part_size bytes when one is free within this budget (at most
  // parts_in_flight + 1 per lease) and uploads it from there; otherwise the
  // part goes through the spool file, written and read back. Up to
  // parts_in_flight + 1 free buffers are kept for the next parts. 0: always
  // the spool.
  uint64_t memory_bytes = uint64_t{128} << 20;
};

class S3UploadStore final : public UploadStore {
 public:
  // `client`, `blobs` (completed uploads go to its keys) and `leases` must
  // outlive the store. REQUIRES: options.spool_dir exists.
  S3UploadStore(s3::Client& client, S3BlobStore& blobs, LeaseTable& leases,
                S3UploadStoreOptions options);
  ~S3UploadStore() override;

  // Create writes nothing to S3: the session exists for other nodes from its
  // first Keep (a POST keeps at once). kBusy / kUnavailable from the lease
  // table; kUnavailable / kInternal from S3.
  Result<UploadPtr> Create(const std::string& repository) override;
  Result<UploadPtr> Acquire(const std::string& id, const std::string& repository) override;
  Status Cancel(const std::string& id, const std::string& repository) override;
  // Sessions whose state was not written for max_age_seconds and that no
  // node leases are aborted and deleted. Objects under uploads/ without a
  // readable state (a crash's leftovers) carry no time S3 lists, so they are
  // removed when one ExpireIdle saw them and a later one, max_age_seconds on,
  // sees them again.
  Result<uint64_t> ExpireIdle(int64_t max_age_seconds, bool dry_run) override;
  // Counts the state objects (a paged listing).
  Result<uint64_t> InProgress() override;

  struct Core;  // one lease's state, shared with the workers (s3_upload_core.hpp)

 private:
  class Lease;
  friend class Lease;
  friend struct Core;

  std::string SessionPrefix(const std::string& id) const;
  std::string StateKey(const std::string& id) const;
  std::string DataKey(const std::string& id) const;
  std::string TailKey(const std::string& id, uint64_t generation) const;
  // Aborts the multipart upload `upload_id` (if any) and deletes every
  // object of session `id`, its state last.
  Status DiscardSession(const std::string& id, const std::string& upload_id);
  Result<UploadPtr> Open(const std::string& id, const std::string& repository, bool create);
  void Post(std::function<void()> task);
  void Work();
  // A part buffer within options_.memory_bytes, or nullptr.
  std::unique_ptr<char[]> TakeBuffer();
  void GiveBuffer(std::unique_ptr<char[]> buffer);

  s3::Client& client_;
  S3BlobStore& blobs_;
  LeaseTable& leases_;
  const S3UploadStoreOptions options_;

  Mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  // Keys of leftover objects and the time an ExpireIdle first saw them.
  std::map<std::string, int64_t> leftovers_ GUARDED_BY(mu_);
  std::vector<std::thread> workers_;

  Mutex buffers_mu_;
  std::vector<std::unique_ptr<char[]>> free_buffers_ GUARDED_BY(buffers_mu_);
  int buffers_out_ GUARDED_BY(buffers_mu_) = 0;
};

}  // namespace berth::storage
