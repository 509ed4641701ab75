#include "storage/fs/file_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth::storage {

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
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

Status WriteFileAtomic(const std::string& dir, const std::string& name, const std::string& data) {
  std::string tmp = dir + "/." + name + ".tmp";
  std::string final_path = dir + "/" + name;
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError("open " + tmp, errno);
  if (auto s = WriteAll(fd.get(), data.data(), data.size(), tmp); !s.ok()) return s;
  if (::fsync(fd.get()) != 0) return PosixError("fsync " + tmp, errno);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) return PosixError("rename " + tmp, errno);
  return SyncDir(dir);
}

Result<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + path, errno, Errc::kNotFound);
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("read " + path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) return Status(Errc::kInternal, path + ": file too large");
  }
  return out;
}

}  // namespace berth::storage
