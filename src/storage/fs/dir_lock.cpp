#include "storage/fs/dir_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>

namespace berth::storage {

Result<std::unique_ptr<DirLock>> DirLock::TryAcquire(const std::string& root,
                                                     const std::string& name) {
  return Acquire(root, name, false);
}

Result<std::unique_ptr<DirLock>> DirLock::Acquire(const std::string& root, const std::string& name,
                                                  bool wait) {
  std::string path = root + "/" + name;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError("open " + path, errno);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (::fcntl(fd.get(), F_SETLK, &fl) != 0) {
    if (errno != EACCES && errno != EAGAIN) return PosixError("lock " + path, errno);
    auto holder = ReadSmallFile(path, 1 << 20);
    std::string who = holder && !holder->empty() ? *holder : "another process";
    while (!who.empty() && (who.back() == '\n')) who.pop_back();
    if (!wait) return Status(Errc::kBusy, "storage root " + root + " is in use by " + who);
    spdlog::info("storage root {} is in use by {}; waiting for it (--wait-for-lock)", root, who);
    while (::fcntl(fd.get(), F_SETLKW, &fl) != 0) {
      if (errno != EINTR) return PosixError("lock " + path, errno);
    }
    spdlog::info("took the lock on {}", root);
  }
  char host[256] = "unknown-host";
  ::gethostname(host, sizeof host - 1);
  std::string text = std::string("host=") + host + " pid=" + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) == 0) {
    (void)::pwrite(fd.get(), text.data(), text.size(), 0);
  }
  return std::unique_ptr<DirLock>(new DirLock(std::move(fd)));
}

}  // namespace berth::storage
