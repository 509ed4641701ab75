#include "cli/user.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <termios.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "auth/htpasswd/htpasswd_file.hpp"
#include "common/file.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"
#include "crypto/bcrypt.hpp"
#include "storage/db/sqlite_refresh_token_store.hpp"
#include "storage/fs/layout.hpp"

namespace berth::cli {
namespace {

// Longest password line we read; bcrypt uses only the first 72 bytes and
// BcryptHash refuses longer ones with a clear message.
constexpr size_t kMaxPasswordLine = 4096;

// Wipes a string's bytes before it is freed.
void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

void StripCarriageReturn(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

Result<Secret> ReadPasswordFromStdin() {
  std::string line;
  if (!std::getline(std::cin, line) && line.empty()) {
    return Status(Errc::kUnauthorized, "no password on stdin");
  }
  StripCarriageReturn(line);
  if (line.size() > kMaxPasswordLine) {
    Wipe(line);
    return Status(Errc::kUnsupported, "the password line is too long");
  }
  Secret secret(line);
  Wipe(line);
  return secret;
}

// Restores the terminal's settings when it goes out of scope.
class EchoOff {
 public:
  EchoOff(int fd, const termios& saved) : fd_(fd), saved_(saved) {}
  ~EchoOff() { ::tcsetattr(fd_, TCSAFLUSH, &saved_); }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_;
};

void WriteTty(int fd, const std::string& text) {
  // A prompt or newline the terminal did not take is cosmetic; reading the
  // password that follows reports a terminal that is really gone.
  WriteAll(fd, text, "/dev/tty").IgnoreError();
}

// Prints `prompt` on the terminal `fd` and reads one line with echo off.
Result<Secret> ReadHidden(int fd, const std::string& prompt) {
  termios saved{};
  if (::tcgetattr(fd, &saved) != 0) {
    return Status(Errc::kUnsupported,
                  std::string("cannot read the terminal settings: ") + std::strerror(errno));
  }
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ICANON;
  WriteTty(fd, prompt);
  std::string line;
  {
    if (::tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
      return Status(Errc::kUnsupported,
                    std::string("cannot turn terminal echo off: ") + std::strerror(errno));
    }
    EchoOff restore(fd, saved);
    char c;
    while (true) {
      ssize_t n = ::read(fd, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || c == '\n') break;
      if (line.size() < kMaxPasswordLine + 1) line.push_back(c);
    }
  }
  WriteTty(fd, "\n");  // the user's Enter was not echoed
  StripCarriageReturn(line);
  if (line.size() > kMaxPasswordLine) {
    Wipe(line);
    return Status(Errc::kUnsupported, "the password is too long");
  }
  Secret secret(line);
  Wipe(line);
  return secret;
}

Result<Secret> PromptPasswordTwice(const std::string& user) {
  UniqueFd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!tty.valid()) {
    return Status(Errc::kUnsupported,
                  "no terminal to prompt for the password on; pipe it in with --password-stdin");
  }
  int fd = tty.get();
  Result<Secret> first = ReadHidden(fd, "New password for " + user + ": ");
  if (!first.ok()) return first;
  if (first->empty()) return Status(Errc::kUnauthorized, "the password is empty");
  Result<Secret> second = ReadHidden(fd, "Repeat the password: ");
  if (!second.ok()) return second;
  if (first->reveal() != second->reveal()) {
    return Status(Errc::kUnauthorized, "the passwords do not match");
  }
  return first;
}

int Fail(const std::string& action, const std::string& message) {
  std::cerr << "berth user " << action << ": " << message << "\n";
  return 1;
}

void PrintWarnings(const std::string& path, const auth::HtpasswdFile& file) {
  for (const std::string& w : file.warnings())
    std::cerr << "warning: " << path << ": " << w << "\n";
}

// Loads `path`; a missing file is an empty one when `missing_ok`.
Result<auth::HtpasswdFile> LoadUsers(const std::string& path, bool missing_ok) {
  Result<auth::HtpasswdFile> file = auth::HtpasswdFile::Load(path);
  if (!file.ok()) {
    if (file.status().code() == Errc::kNotFound && missing_ok) return auth::HtpasswdFile();
    if (file.status().code() == Errc::kNotFound) {
      return Status(Errc::kNotFound, path + " does not exist (no users yet; use berth user add)");
    }
    return file.status();
  }
  PrintWarnings(path, *file);
  return file;
}

// The token database beside the user file: both live in the storage root
// unless token.htpasswd puts the user file elsewhere.
std::string TokensDbBeside(const std::string& user_file) {
  std::filesystem::path dir = std::filesystem::path(user_file).parent_path();
  if (dir.empty()) dir = ".";
  return (dir / storage::layout::kTokensDbName).string();
}

// Revokes `user`'s refresh tokens where `tokens` says, so that a running
// token server refuses them from now on. Where there is no such store (the
// user file lives elsewhere) the tokens still end: the server compares each
// token's credential generation with the user file on every refresh. A
// failure here is reported but does not undo the edit.
void RevokeRefreshTokens(const std::string& action, const std::string& user_file,
                         const std::string& user, const RefreshTokensOf& tokens) {
  std::string where;
  Result<std::unique_ptr<storage::RefreshTokenStore>> store = Status::Ok();
  if (tokens.open_shared) {
    where = "the shared token store";
    store = tokens.open_shared();
  } else {
    where = tokens.tokens_db.empty() ? TokensDbBeside(user_file) : tokens.tokens_db;
    struct stat st {};
    if (::stat(where.c_str(), &st) != 0) return;  // no token server has used this root
    auto sqlite = storage::SqliteRefreshTokenStore::Open(where);
    if (sqlite.ok()) {
      store = std::unique_ptr<storage::RefreshTokenStore>(std::move(sqlite).value());
    } else {
      store = sqlite.status();
    }
  }
  if (!store.ok()) {
    std::cerr << "warning: berth user " << action << ": cannot open " << where << ": "
              << store.status().message()
              << " (the token server still refuses the old tokens, within a second)\n";
    return;
  }
  Result<int64_t> n = (*store)->Revoke(user);
  if (!n.ok()) {
    std::cerr << "warning: berth user " << action << ": cannot revoke the refresh tokens in "
              << where << ": " << n.status().message()
              << " (the token server still refuses them, within a second)\n";
    return;
  }
  if (*n > 0) std::cout << "revoked " << *n << " refresh token(s) of '" << user << "'\n";
}

int List(const std::string& path) {
  Result<auth::HtpasswdFile> file = auth::HtpasswdFile::Load(path);
  if (!file.ok()) {
    if (file.status().code() == Errc::kNotFound) {
      std::cerr << "berth user list: " << path << " does not exist: no users\n";
      return 0;
    }
    return Fail("list", file.status().message());
  }
  PrintWarnings(path, *file);
  for (const std::string& user : file->Users()) std::cout << user << "\n";
  return 0;
}

int Delete(const std::string& path, const std::string& user, const RefreshTokensOf& tokens) {
  Result<auth::HtpasswdFile> file = LoadUsers(path, /*missing_ok=*/false);
  if (!file.ok()) return Fail("del", file.status().message());
  if (!file->Remove(user)) return Fail("del", "no user '" + user + "' in " + path);
  if (Status s = file->Save(path); !s.ok()) return Fail("del", s.message());
  std::cout << "user '" << user << "' deleted from " << path << "\n";
  RevokeRefreshTokens("del", path, user, tokens);
  return 0;
}

// add (create) or passwd (replace).
int SetPassword(const std::string& action, const std::string& path, const std::string& user,
                bool password_from_stdin, int cost, const RefreshTokensOf& tokens) {
  const bool create = action == "add";
  if (cost < crypto::kBcryptMinCost || cost > crypto::kBcryptMaxCost) {
    return Fail(action, "--cost must be between " + std::to_string(crypto::kBcryptMinCost) +
                            " and " + std::to_string(crypto::kBcryptMaxCost));
  }
  // Check everything that can fail before asking for a password.
  Result<auth::HtpasswdFile> file = LoadUsers(path, /*missing_ok=*/create);
  if (!file.ok()) return Fail(action, file.status().message());
  if (create && file->Contains(user)) {
    return Fail(action, "user '" + user + "' already exists in " + path +
                            " (use berth user passwd to change the password)");
  }
  if (!create && !file->Contains(user)) return Fail(action, "no user '" + user + "' in " + path);

  Result<Secret> password =
      password_from_stdin ? ReadPasswordFromStdin() : PromptPasswordTwice(user);
  if (!password.ok()) return Fail(action, password.status().message());
  if (password->empty()) return Fail(action, "the password is empty");
  Result<std::string> hash = crypto::BcryptHash(password->reveal(), cost);
  if (!hash.ok()) return Fail(action, hash.status().message());

  if (Status s = file->Set(user, *hash); !s.ok()) return Fail(action, s.message());
  if (Status s = file->Save(path); !s.ok()) return Fail(action, s.message());
  std::cout << "user '" << user << "' " << (create ? "added to " : "password changed in ") << path
            << "\n";
  // passwd: the old password's tokens end now. add: a re-created name
  // starts with none of a former account's.
  RevokeRefreshTokens(action, path, user, tokens);
  return 0;
}

}  // namespace

int UserCommand(const std::string& action, const std::string& file, const std::string& user,
                bool password_from_stdin, int cost, const RefreshTokensOf& tokens) {
  if (action != "add" && action != "passwd" && action != "del" && action != "list") {
    return Fail(action, "unknown action (expected add, passwd, del or list)");
  }
  if (file.empty()) return Fail(action, "no user file given (--file)");
  if (action == "list") return List(file);
  if (user.empty()) return Fail(action, "a user name is required");
  if (Status s = auth::ValidateUserName(user); !s.ok()) {
    return Fail(action, "invalid user name '" + user + "': " + s.message());
  }
  if (action == "del") return Delete(file, user, tokens);
  return SetPassword(action, file, user, password_from_stdin, cost, tokens);
}

}  // namespace berth::cli
