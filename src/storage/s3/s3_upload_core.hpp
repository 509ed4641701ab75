// S3UploadStore::Core: one lease's state, shared between the request's
// thread and the worker uploading its parts: where each part's bytes wait
// (a memory buffer or the spool file), which parts are in S3, and the lease.
// The fields under `mu` are those both threads touch. Internal to
// storage/s3 (s3_upload_store.cpp has the lease and the store around it).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/file.hpp"
#include "common/thread_annotations.hpp"
#include "storage/s3/s3_upload_store.hpp"
#include "storage/s3/upload_state.hpp"

namespace berth::storage {

// The lease table's key of upload session `id`.
inline std::string UploadLeaseKey(const std::string& id) { return "upload:" + id; }

struct S3UploadStore::Core {
  S3UploadStore* store = nullptr;
  std::string id;
  std::string holder;  // our name in the lease table
  UniqueFd spool;
  uint64_t spool_base = 0;  // session offset of the spool's first byte
  UploadState kept;         // the state object as last read or written
  bool state_exists = false;
  uint64_t part_size = 0;

  int max_pumps = 1;  // parts of this lease uploading at once

  // The region being filled (request thread only): parts are regions of
  // part_size bytes from spool_base, and each lives either in a buffer of
  // `held` or in the spool, decided when its first byte arrives.
  char* fill = nullptr;  // its buffer; nullptr: the spool

  Mutex mu;
  std::condition_variable cv;
  uint64_t size GUARDED_BY(mu) = 0;       // bytes received, kept and new
  uint64_t parts_end GUARDED_BY(mu) = 0;  // end of the bytes given to parts (done or in flight)
  int next_number GUARDED_BY(mu) = 1;     // of the next part
  // Parts uploaded, kept and new, in the order they finished (Flush sorts
  // them).
  std::vector<UploadPart> parts GUARDED_BY(mu);
  std::string upload_id GUARDED_BY(mu);
  int pumps GUARDED_BY(mu) = 0;          // workers uploading parts
  bool dropped GUARDED_BY(mu) = false;   // the lease is gone
  bool released GUARDED_BY(mu) = false;  // the release is done or posted
  Status error GUARDED_BY(mu);           // the first failed part upload
  // The regions held in memory, by the session offset of their first byte,
  // until their part is in S3. A worker reads only a full region, which the
  // request thread no longer writes.
  std::map<uint64_t, std::unique_ptr<char[]>> held GUARDED_BY(mu);
  Mutex create_mu;  // one CreateMultipart per lease, not one per worker

  ~Core();

  // Stores `data` at session offset `at`, the end of what was received:
  // into the region's buffer, or the spool when it has none. Request
  // thread only.
  Status Write(uint64_t at, std::span<const char> data);

  // A region starts at `at`: a buffer for it when this lease holds fewer
  // than its parts in flight plus the one filling and the store has one to
  // spare. Otherwise the spool: memory stays bounded and Append never waits.
  void StartRegion(uint64_t at);

  // The buffer of the region starting at `at`, or nullptr when it is in
  // the spool.
  const char* Held(uint64_t at);

  // The region at `at` is in S3: its buffer or its spool bytes go.
  void Drop(uint64_t at);

  // Uploads bytes [at, at+length) of the region at `at` as part `number`.
  Result<std::string> SendPart(const std::string& uid, int number, uint64_t at, uint64_t length);

  // PUTs bytes [at, at+length) of the region at `at` as object `key`.
  Status PutRegion(const std::string& key, uint64_t at, uint64_t length);

  // The multipart upload's id, created on first use.
  Result<std::string> UploadId();

  // Uploads the next full part not yet taken, if there is one. Returns
  // false when there was none (or the upload failed: then `error` says
  // why). Workers and the request's thread may run it at once: each takes
  // its own part.
  bool UploadNextPart();

  // A worker's loop: parts while there are full ones, then hand back.
  void Pump();

  // Waits until no worker uploads for this lease, then uploads the full
  // parts left, on this thread. The first failure of any part upload.
  Status Flush();

  // After the lease is gone: aborts a multipart upload no state names (this
  // lease created it and never kept it), then gives the lease back.
  void Release();

  // Releases at once, on this thread, unless already done or posted. Keep
  // and Complete end with it, so that the client's next request, sent as
  // soon as it has the answer, finds the session free.
  void ReleaseNow();

  // Takes the lease again before writing: false when it lapsed and another
  // request holds it now.
  Status Renew();
};

}  // namespace berth::storage
