// Small POSIX helpers for the filesystem stores: an owning file descriptor,
// the one place where errno becomes a Status, and the durable-publish steps
// (fsync a file, fsync its directory).
//
// Thread-safety: UniqueFd is a move-only owner; the functions are reentrant.
#pragma once

#include <string>
#include <utility>

#include "common/result.hpp"

namespace berth::storage {

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
  void Reset();

 private:
  int fd_ = -1;
};

// Maps an errno from an operation on `context` to a Status: ENOSPC and EDQUOT
// become kNoSpace, ENOENT becomes `not_found`, everything else kInternal.
Status PosixError(const std::string& context, int err, Errc not_found = Errc::kInternal);

// fsync()s the directory `dir`, making renames and creations in it durable.
Status SyncDir(const std::string& dir);

// Creates `dir` (one level) if missing; when created, fsyncs `parent` so the
// new entry survives power loss.
Status EnsureDir(const std::string& dir, const std::string& parent);

// Writes `data` to `path` durably and atomically (temp, fsync, rename, fsync dir).
Status WriteFileAtomic(const std::string& dir, const std::string& name, const std::string& data);

// Reads a whole small file.
Result<std::string> ReadSmallFile(const std::string& path);

// Writes all of [data, data+size) at the current offset, retrying on EINTR and
// short writes.
Status WriteAll(int fd, const char* data, size_t size, const std::string& context);

}  // namespace berth::storage
