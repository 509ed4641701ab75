// UploadStore: blob upload sessions in progress. Each session is a file that
// grows as chunks arrive, hashed as the bytes go by.
//
// A request works on a session through an Upload lease: while one request
// holds it, others on the same session get kBusy. Bytes appended by a
// request are kept only if the request calls Keep(); a lease dropped without
// it (client went away, write failed) rolls the session back to where that
// request started, so a session is always at a chunk boundary.
//
// Thread-safety: UploadStore is safe from many threads; one Upload lease is
// used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/digest.hpp"
#include "common/result.hpp"

namespace berth::storage {

// Whether `id` has the form every UploadStore gives its sessions: 32
// lower-case hex digits. Ids come from clients (the upload URL); a store
// checks this before it builds a file name or an object key from one.
inline bool IsUploadId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

class Upload {
 public:
  virtual ~Upload() = default;

  virtual const std::string& id() const = 0;
  // Bytes stored so far, including what this lease appended.
  virtual uint64_t size() const = 0;

  // Appends bytes at the end and feeds them to the hash. kNoSpace/kInternal
  // on I/O failure; the lease should then be dropped.
  virtual Status Append(std::span<const char> data) = 0;

  // Makes the bytes appended durable (fdatasync) and keeps them in the session.
  virtual Status Keep() = 0;

  // Verifies that the whole content hashes to `expected`, then publishes it
  // as a blob and closes the session. kDigestInvalid on mismatch (the
  // session is removed: the content is not stored). kNoSpace/kInternal on I/O.
  virtual Status Complete(const Digest& expected) = 0;
};

using UploadPtr = std::unique_ptr<Upload>;

class UploadStore {
 public:
  virtual ~UploadStore() = default;

  // Starts a session for `repository`; returns a lease on it.
  virtual Result<UploadPtr> Create(const std::string& repository) = 0;

  // Leases the session `id`, which must belong to `repository`.
  // kBlobUploadUnknown if there is none; kBusy if another request holds it.
  virtual Result<UploadPtr> Acquire(const std::string& id, const std::string& repository) = 0;

  // Removes the session. kBlobUploadUnknown if there is none; kBusy if held.
  virtual Status Cancel(const std::string& id, const std::string& repository) = 0;

  // Removes sessions not written for more than `max_age_seconds`, and
  // anything else in the uploads area as old (leftovers of older layouts);
  // sessions a request holds are kept. Returns how many were removed (with
  // dry_run: how many would be, removing nothing).
  virtual Result<uint64_t> ExpireIdle(int64_t max_age_seconds, bool dry_run) = 0;

  // Upload sessions in the store now (started, neither completed, cancelled
  // nor expired). Reads a directory: for a scrape, not a request.
  virtual Result<uint64_t> InProgress() = 0;
};

using UploadStorePtr = std::unique_ptr<UploadStore>;

}  // namespace berth::storage
