#include "auth/htpasswd/htpasswd_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_set>

#include "crypto/bcrypt.hpp"

namespace berth::auth {
namespace {

// The one place in this file where errno becomes a Status.
Status IoError(const std::string& context, int err) {
  std::string msg = context + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return {Errc::kNoSpace, "storage is full: " + msg};
  if (err == ENOENT) return {Errc::kNotFound, msg};
  return {Errc::kInternal, msg};
}

// Closes a descriptor on scope exit unless released.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  // Closes now and reports close()'s error (write-back errors show up here).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsSeparator(char c) { return c == '.' || c == '_' || c == '-'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string LinePrefix(size_t line_number) { return "line " + std::to_string(line_number) + ": "; }

Status WriteAll(int fd, const std::string& data, const std::string& context) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write " + context, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open " + dir, errno);
  FdCloser closer(fd);
  if (::fsync(fd) != 0) return IoError("fsync " + dir, errno);
  return Status::Ok();
}

}  // namespace

Status ValidateUserName(std::string_view name) {
  if (name.empty()) return {Errc::kNameInvalid, "user name is empty"};
  if (name.size() > kMaxUserNameLength) {
    return {Errc::kNameInvalid,
            "user name is longer than " + std::to_string(kMaxUserNameLength) + " bytes"};
  }
  // [a-z0-9]+([._-][a-z0-9]+)*: starts and ends alphanumeric, no two
  // separators in a row.
  bool after_separator = true;  // the first character must be alphanumeric
  for (char c : name) {
    if (IsLowerAlnum(c)) {
      after_separator = false;
    } else if (IsSeparator(c) && !after_separator) {
      after_separator = true;
    } else {
      return {Errc::kNameInvalid,
              "user name must be lower-case letters and digits, optionally separated by single "
              "'.', '_' or '-'"};
    }
  }
  if (after_separator) {
    return {Errc::kNameInvalid, "user name must end with a lower-case letter or digit"};
  }
  return Status::Ok();
}

HtpasswdFile HtpasswdFile::Parse(std::string_view text) {
  HtpasswdFile file;
  std::unordered_set<std::string> seen;  // valid users so far
  size_t line_number = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view raw = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_number;
    Line line;
    // Kept with its '\r': Serialize adds only "\n", so a kept line must keep
    // its own CR, or a line ending "hash\r\r\n" (skipped: the hash ends in
    // '\r') would lose one '\r' per rewrite and come back as a valid user.
    line.text = std::string(raw);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view content = Trim(raw);
    if (content.empty() || content.front() == '#') {
      file.lines_.push_back(std::move(line));
      continue;
    }
    size_t colon = content.find(':');
    if (colon == std::string_view::npos) {
      file.warnings_.push_back(LinePrefix(line_number) + "skipped: no ':' between user and hash");
      file.lines_.push_back(std::move(line));
      continue;
    }
    std::string_view user = content.substr(0, colon);
    std::string_view hash = Trim(content.substr(colon + 1));
    line.user = std::string(user);
    if (Status s = ValidateUserName(user); !s.ok()) {
      // The name is not echoed: a malformed line may hold anything.
      file.warnings_.push_back(LinePrefix(line_number) + "skipped: " + s.message());
    } else if (!crypto::IsBcryptHash(hash)) {
      file.warnings_.push_back(LinePrefix(line_number) + "user '" + line.user +
                               "' skipped: not a bcrypt hash (only bcrypt is supported; "
                               "use htpasswd -B or berth user passwd)");
    } else if (!seen.insert(line.user).second) {
      file.warnings_.push_back(LinePrefix(line_number) + "duplicate user '" + line.user +
                               "' skipped (the first entry wins)");
    } else {
      line.hash = std::string(hash);
      line.valid = true;
    }
    file.lines_.push_back(std::move(line));
  }
  return file;
}

Result<HtpasswdFile> HtpasswdFile::Load(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open " + path, errno);
  FdCloser closer(fd);
  std::string text;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("read " + path, errno);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxHtpasswdFileBytes) {
      return Status(Errc::kInternal, path + ": larger than " +
                                         std::to_string(kMaxHtpasswdFileBytes) + " bytes");
    }
  }
  return Parse(text);
}

std::vector<std::string> HtpasswdFile::Users() const {
  std::vector<std::string> users;
  for (const Line& line : lines_) {
    if (line.valid) users.push_back(line.user);
  }
  return users;
}

bool HtpasswdFile::Contains(std::string_view user) const { return FindHash(user) != nullptr; }

const std::string* HtpasswdFile::FindHash(std::string_view user) const {
  for (const Line& line : lines_) {
    if (line.valid && line.user == user) return &line.hash;
  }
  return nullptr;
}

Status HtpasswdFile::Set(const std::string& user, const std::string& hash) {
  if (Status s = ValidateUserName(user); !s.ok()) return s;
  if (!crypto::IsBcryptHash(hash)) return {Errc::kUnsupported, "not a bcrypt hash"};
  // Prefer the valid entry's position; else the first kept line for `user`.
  auto target = lines_.end();
  for (auto it = lines_.begin(); it != lines_.end(); ++it) {
    if (it->user != user) continue;
    if (it->valid) {
      target = it;
      break;
    }
    if (target == lines_.end()) target = it;
  }
  Line entry{.text = {}, .user = user, .hash = hash, .valid = true};
  if (target == lines_.end()) {
    lines_.push_back(std::move(entry));
    return Status::Ok();
  }
  const size_t keep = static_cast<size_t>(target - lines_.begin());
  *target = std::move(entry);
  std::vector<Line> kept;
  kept.reserve(lines_.size());
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (i != keep && lines_[i].user == user) continue;
    kept.push_back(std::move(lines_[i]));
  }
  lines_ = std::move(kept);
  return Status::Ok();
}

bool HtpasswdFile::Remove(std::string_view user) {
  bool removed = Contains(user);
  std::erase_if(lines_, [&](const Line& line) { return !line.user.empty() && line.user == user; });
  return removed;
}

std::string HtpasswdFile::Serialize() const {
  std::string out;
  for (const Line& line : lines_) {
    if (line.valid) {
      out += line.user;
      out += ':';
      out += line.hash;
    } else {
      out += line.text;
    }
    out += '\n';
  }
  return out;
}

Status HtpasswdFile::Save(const std::string& path) const {
  std::filesystem::path target(path);
  std::string dir = target.parent_path().string();
  if (dir.empty()) dir = ".";
  // mkstemp creates the file O_EXCL with mode 0600 in the target's directory,
  // so the rename below stays within one filesystem.
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return IoError("create a temp file next to " + path, errno);
  FdCloser closer(fd);
  auto fail = [&](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  // Explicit, in case a umask or ACL default widened what mkstemp made.
  if (::fchmod(fd, 0600) != 0) return fail(IoError("chmod " + tmp, errno));
  if (Status s = WriteAll(fd, Serialize(), tmp); !s.ok()) return fail(s);
  if (::fsync(fd) != 0) return fail(IoError("fsync " + tmp, errno));
  if (closer.Close() != 0) return fail(IoError("close " + tmp, errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(IoError("rename to " + path, errno));
  return SyncDir(dir);
}

}  // namespace berth::auth
