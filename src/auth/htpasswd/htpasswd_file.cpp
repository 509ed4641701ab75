#include "auth/htpasswd/htpasswd_file.hpp"

#include <unordered_set>

#include "common/file.hpp"
#include "crypto/bcrypt.hpp"

namespace berth::auth {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsSeparator(char c) { return c == '.' || c == '_' || c == '-'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string LinePrefix(size_t line_number) { return "line " + std::to_string(line_number) + ": "; }

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
  auto text = ReadSmallFile(path, kMaxHtpasswdFileBytes, Errc::kNotFound);
  if (!text) return text.status();
  return Parse(*text);
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
  return ReplaceFileAtomic(path, Serialize(), 0600, Errc::kNotFound);
}

}  // namespace berth::auth
