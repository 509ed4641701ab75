// HtpasswdFile: the embedded local user file, in Apache's htpasswd format,
// restricted to bcrypt. One user per line:
//
//     # comment (a '#' as the first non-blank character)
//     alice:$2y$10$<53 characters of salt and hash>
//
// Blank lines and comments are kept. A line that is not a valid entry
// (non-bcrypt hash such as {SHA}, $apr1$ or crypt; a user name that breaks the
// grammar; a duplicate user) is not a user, produces a warning naming its line
// number (never its hash), and is kept verbatim so that a rewrite by
// `berth user` does not destroy what an operator wrote. Set and Remove also
// replace / drop such kept lines when they carry the same user name.
//
// User names are a single repository-name component, so that a user owns the
// namespace "<user>/": [a-z0-9]+([._-][a-z0-9]+)*, at most kMaxUserNameLength
// bytes (no upper case, no ':', no '/').
//
// Save writes atomically (temp file in the same directory, fsync, rename,
// fsync the directory) with mode 0600. Two `berth user` processes editing the
// same file at once may lose one of the edits (last rename wins); the file is
// never left half-written.
//
// Thread-safety: a plain value; no internal locking. Load and Save touch only
// the named file and its temp file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace berth::auth {

// Longest user name accepted in the file.
inline constexpr size_t kMaxUserNameLength = 64;
// Largest htpasswd file Load reads (about 100k bcrypt users).
inline constexpr size_t kMaxHtpasswdFileBytes = 8 << 20;

// Ok when `name` matches [a-z0-9]+([._-][a-z0-9]+)* and is at most
// kMaxUserNameLength bytes; kNameInvalid with the reason otherwise.
Status ValidateUserName(std::string_view name);

class HtpasswdFile {
 public:
  // An empty file (no users).
  HtpasswdFile() = default;

  // Parses htpasswd text. Never fails: bad lines are kept but are not users,
  // and each adds a message to warnings(). Accepts "\n" and "\r\n" endings.
  static HtpasswdFile Parse(std::string_view text);

  // Reads and parses `path`. Errors: kNotFound when the file does not exist;
  // kInternal when it cannot be read or is larger than kMaxHtpasswdFileBytes.
  static Result<HtpasswdFile> Load(const std::string& path);

  // One message per skipped line, e.g. "line 3: not a bcrypt hash ...".
  // Messages name the line and, when valid, the user; never the hash.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // The valid users, in file order.
  std::vector<std::string> Users() const;

  // True when `user` has a valid entry.
  bool Contains(std::string_view user) const;

  // The bcrypt hash of `user`, or nullptr when there is no valid entry. The
  // pointer is valid until the next Set or Remove.
  const std::string* FindHash(std::string_view user) const;

  // Adds `user` (appended at the end) or replaces its hash in place. Any
  // further line naming `user` (duplicate or invalid) is dropped.
  // Errors: kNameInvalid when ValidateUserName fails; kUnsupported when
  // `hash` is not a bcrypt hash (crypto::IsBcryptHash). The file is
  // unchanged on error.
  Status Set(const std::string& user, const std::string& hash);

  // Removes every line naming `user`, valid or not. Returns whether a valid
  // entry was removed.
  bool Remove(std::string_view user);

  // The file's text: kept lines verbatim, entries as "user:hash", each line
  // ending in "\n".
  std::string Serialize() const;

  // Writes Serialize() to `path` atomically with mode 0600 (see above).
  // Errors: kNoSpace when the disk is full; kInternal for any other I/O
  // failure (the message names the step). On error `path` is untouched and
  // the temp file is removed.
  Status Save(const std::string& path) const;

 private:
  struct Line {
    std::string text;  // the line as read (without its newline); used when !valid
    std::string user;  // the name before ':' (may be invalid), empty for none
    std::string hash;  // set when valid
    bool valid = false;
  };
  std::vector<Line> lines_;
  std::vector<std::string> warnings_;
};

}  // namespace berth::auth
