// DirLock: the exclusive hold the running process keeps on a storage root,
// so that two berth processes never write the same store. It is an fcntl()
// record lock on <root>/LOCK (which also works on NFS) and is released by the
// kernel when the process dies, however it dies. The file holds the
// holder's host name and pid, for the message a second process prints.
//
// Thread-safety: not shared; owned by the process's main wiring.
#pragma once

#include <memory>
#include <string>

#include "common/file.hpp"
#include "common/result.hpp"
#include "storage/fs/layout.hpp"

namespace berth::storage {

class DirLock {
 public:
  // Takes the lock file `name` in `root` (LOCK for the registry, LOCK.token
  // for a token server running alone) or fails at once with kBusy naming
  // the current holder.
  static Result<std::unique_ptr<DirLock>> TryAcquire(const std::string& root,
                                                     const std::string& name = layout::kLockName);

  // Like TryAcquire, but when the lock is held waits quietly (after one log
  // line naming the holder) until it is released, then takes it: how a warm
  // standby takes over the moment the active process dies.
  static Result<std::unique_ptr<DirLock>> Acquire(const std::string& root, const std::string& name,
                                                  bool wait);

 private:
  explicit DirLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace berth::storage
