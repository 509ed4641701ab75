// HtpasswdAuthenticator: the Authenticator over the embedded bcrypt user file
// (see htpasswd_file.hpp for the format). The file is the source of identity
// only: a match yields Identity{name, admin=false, authenticated=true}; who is
// an admin comes from the policy configuration.
//
// The file is re-read when it changes: Authenticate stat()s it at most once
// per check_interval and reloads when its inode, size or mtime differ, so
// `berth user add` (which renames a new file into place) takes effect within
// a second without a restart. A missing file means no users (logged once);
// a file that exists but cannot be read keeps the last good content, or, if
// it was never read, makes every call kUnavailable.
//
// Timing: an unknown user costs the same bcrypt work as a known one. Such
// calls are checked against a dummy hash made at load time with the cost most
// users in the file have (distribution's registry/auth/htpasswd dummyBcryptHash
// idea), so response time does not reveal which user names exist.
//
// Thread-safety: safe to call from many threads. A mutex guards only the
// stat/reload step and the swap of an immutable snapshot; bcrypt runs outside
// it. Calls block for one bcrypt (2^cost rounds): run them on the blocking pool.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auth/authenticator.hpp"
#include "common/thread_annotations.hpp"
#include "crypto/bcrypt.hpp"

namespace berth::auth {

struct HtpasswdOptions {
  // How often Authenticate looks for edits (one stat() per interval). Default
  // 1 s: an edit is seen within about a second. 0 checks on every call (tests).
  std::chrono::milliseconds check_interval{1000};
  // bcrypt cost of the dummy hash while the file has no users. With users, the
  // dummy takes the cost most of them have. Costs 2^cost rounds once per load.
  int dummy_cost = crypto::kBcryptDefaultCost;
};

class HtpasswdAuthenticator final : public Authenticator {
 public:
  // Loads `path` now, logging (spdlog) skipped lines by number and a missing
  // file as a warning. Never fails for a bad or missing file. Throws
  // std::runtime_error only at start-up when libcrypt cannot make the dummy
  // hash (no entropy), since unknown users could then be told apart by timing.
  explicit HtpasswdAuthenticator(std::string path, HtpasswdOptions options = {});
  ~HtpasswdAuthenticator() override;

  // kOk with Identity{user, admin=false, authenticated=true} when `user` has a
  // valid entry and `password` matches its bcrypt hash; kBadCredentials for an
  // unknown user or a wrong password (same cost either way; detail says which,
  // for logs only); kUnavailable when the file exists but has never been
  // readable. Never throws; never logs or returns the password.
  AuthResult Authenticate(const std::string& user, const Secret& password) override;

  // SHA-256 (hex) of the user's bcrypt hash string as it stands in the file
  // now: a new password (new salt) or a re-created account gives another
  // value, and the hash of a hash tells nothing about the password. Errors:
  // kUnauthorized when `user` has no valid entry; kUnavailable when the file
  // exists but has never been readable. Checks the file for edits like
  // Authenticate.
  Result<std::string> CredentialGeneration(const std::string& user) override;

  // Calls `hook` each time a changed file (or its removal) has been taken
  // in, e.g. to clear a login cache. It runs under this object's lock: keep
  // it short and never call back into this object. Replaces any earlier hook.
  void OnChange(std::function<void()> hook);

 private:
  struct Snapshot;
  // What identifies one version of the file on disk.
  struct FileKey {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    time_t mtime_sec = 0;
    long mtime_nsec = 0;
    time_t ctime_sec = 0;  // ctime also catches chmod/chown (an unreadable file fixed)
    long ctime_nsec = 0;
    bool operator==(const FileKey&) const = default;
  };
  enum class FileState { kUnknown, kMissing, kLoaded, kUnreadable };

  // The current snapshot, after a reload when one is due.
  std::shared_ptr<const Snapshot> Current();
  // Stats the file and reloads it when it changed. REQUIRES: mu_ held.
  void CheckFileLocked() REQUIRES(mu_);
  // Switches to "no users" after the file disappeared. REQUIRES: mu_ held.
  void OnMissingLocked() REQUIRES(mu_);
  // Keeps the last good users (or, if none, refuses with kUnavailable) after
  // `what` failed on a file version `key`. REQUIRES: mu_ held.
  void OnUnreadableLocked(const FileKey& key, const std::string& what) REQUIRES(mu_);
  // Publishes `next` with a dummy hash of `dummy_cost`, reusing the current
  // dummy when its cost matches. REQUIRES: mu_ held.
  void InstallLocked(std::shared_ptr<Snapshot> next, int dummy_cost) REQUIRES(mu_);

  const std::string path_;
  const HtpasswdOptions options_;

  Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point next_check_ GUARDED_BY(mu_);
  FileState state_ GUARDED_BY(mu_) = FileState::kUnknown;
  FileKey key_ GUARDED_BY(mu_);                       // the loaded version
  std::optional<FileKey> error_key_ GUARDED_BY(mu_);  // last version whose error was logged
  std::function<void()> on_change_ GUARDED_BY(mu_);
};

}  // namespace berth::auth
