// The POSIX file layer every part shares: an owning file descriptor, the one
// place where errno becomes a Status (with the path in the message), writes
// that survive short writes and EINTR, durable publishing (fsync the file,
// rename, fsync the directory) and bounded reads of small files.
//
// Hashing a file needs crypto::Hasher, and crypto depends on common, so it
// lives in crypto/file_hash.hpp.
//
// Thread-safety: UniqueFd is a move-only owner used by one thread at a time;
// the functions are reentrant.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.hpp"

namespace berth {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes the descriptor (if any), ignoring close()'s result.
  void Reset();
  // Closes the descriptor now and reports close()'s error, where delayed
  // write-back errors of some filesystems (NFS) show up. `context` names the
  // file in the message. Ok when there was nothing to close.
  Status Close(const std::string& context);
  // Gives up ownership without closing; the caller now owns the descriptor.
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// Maps an errno from an operation on `context` (say "open /x/y": the verb
// and the path) to a Status whose message is "<context>: <strerror>".
// ENOSPC and EDQUOT become kNoSpace, ENOENT becomes `not_found`, everything
// else kInternal.
Status PosixError(const std::string& context, int err, Errc not_found = Errc::kInternal);

// fsync()s the directory `dir`, making renames and creations in it durable.
Status SyncDir(const std::string& dir);

// Creates `dir` (one level, mode 0700) if missing; when it created it, fsyncs
// `parent` so the new entry survives power loss.
Status EnsureDir(const std::string& dir, const std::string& parent);

// Writes all of [data, data+size) at the descriptor's current offset,
// retrying on EINTR and short writes. `context` names the file in errors.
// Not for non-blocking descriptors: EAGAIN is an error.
Status WriteAll(int fd, const char* data, size_t size, const std::string& context);
inline Status WriteAll(int fd, std::string_view data, const std::string& context) {
  return WriteAll(fd, data.data(), data.size(), context);
}

// As WriteAll, at `offset` (pwrite); the descriptor's offset is not moved.
Status WriteAllAt(int fd, const char* data, size_t size, uint64_t offset,
                  const std::string& context);

// Replaces the file `path` with `data`, atomically and durably: a reader (or
// a crash at any instant) sees the old content or the new, never a mix. A
// temp file (mode `mode`, created exclusively) is written in the same
// directory, fsync'd and closed, renamed over `path`, and the directory is
// fsync'd. On failure the temp file is removed and `path` is untouched.
// Errors name the file; a missing directory is `not_found`.
Status ReplaceFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0600,
                         Errc not_found = Errc::kInternal);

// Reads a whole file that is expected to be small. kInternal ("<path>:
// larger than N bytes") when it holds more than `max_bytes`; a missing file
// is `not_found`.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes,
                                  Errc not_found = Errc::kNotFound);

}  // namespace berth
