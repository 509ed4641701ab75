#include "common/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth {

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status UniqueFd::Close(const std::string& context) {
  if (fd_ < 0) return Status::Ok();
  // The descriptor is gone after close() whatever it returns (Linux), so it
  // is never retried.
  int rc = ::close(std::exchange(fd_, -1));
  if (rc != 0) return PosixError("close " + context, errno);
  return Status::Ok();
}

Status PosixError(const std::string& context, int err, Errc not_found) {
  std::string msg = context + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return {Errc::kNoSpace, "storage is full: " + msg};
    case ENOENT:
      return {not_found, msg};
    default:
      return {Errc::kInternal, msg};
  }
}

Status SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + dir, errno);
  if (::fsync(fd.get()) != 0) return PosixError("fsync " + dir, errno);
  return Status::Ok();
}

Status EnsureDir(const std::string& dir, const std::string& parent) {
  if (::mkdir(dir.c_str(), 0700) == 0) return SyncDir(parent);
  if (errno == EEXIST) return Status::Ok();
  return PosixError("mkdir " + dir, errno);
}

Status WriteAll(int fd, const char* data, size_t size, const std::string& context) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("write " + context, errno);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status WriteAllAt(int fd, const char* data, size_t size, uint64_t offset,
                  const std::string& context) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("write " + context, errno);
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

namespace {

// The directory part of `path` ("." for a bare name), where the temp file
// goes so that the rename stays within one filesystem.
std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Status ReplaceFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                         Errc not_found) {
  std::string tmp = path + ".tmp.XXXXXX";
  // mkstemp creates the file O_EXCL with mode 0600, so two writers never
  // share a temp file and no reader sees a wider mode even for a moment.
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd.valid()) return PosixError("create a temp file next to " + path, errno, not_found);
  auto fail = [&](Status s) {
    fd.Reset();
    ::unlink(tmp.c_str());
    return s;
  };
  // Explicit, in case a umask or ACL default widened what mkstemp made.
  if (::fchmod(fd.get(), mode) != 0) return fail(PosixError("chmod " + tmp, errno));
  if (Status s = WriteAll(fd.get(), data, tmp); !s.ok()) return fail(s);
  if (::fsync(fd.get()) != 0) return fail(PosixError("fsync " + tmp, errno));
  if (Status s = fd.Close(tmp); !s.ok()) return fail(s);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(PosixError("rename to " + path, errno, not_found));
  }
  return SyncDir(DirName(path));
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes, Errc not_found) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + path, errno, not_found);
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("read " + path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      return Status(Errc::kInternal,
                    path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  return out;
}

}  // namespace berth
