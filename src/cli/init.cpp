// `berth init`: everything `make run` needs before the first `berth serve`.
#include <sys/stat.h>

#include <cstdio>
#include <exception>

#include "auth/htpasswd/htpasswd_file.hpp"
#include "cli/commands.hpp"
#include "cli/setup.hpp"
#include "cli/stores.hpp"
#include "common/file.hpp"
#include "crypto/bcrypt.hpp"
#include "crypto/random.hpp"
#include "storage/fs/layout.hpp"

namespace berth::cli {
namespace {

// Adds user "admin" with a random password when the user file has nobody.
void EnsureFirstAdmin(const config::Config& c) {
  if (c.token.backend != "htpasswd") return;
  std::string path = HtpasswdPath(c);
  auto file = auth::HtpasswdFile::Load(path);
  auth::HtpasswdFile users = file ? std::move(file).value() : auth::HtpasswdFile();
  if (!users.Users().empty()) return;
  std::string name = c.token.admins.empty() ? "admin" : c.token.admins.front();
  auto random = crypto::RandomHex(12);
  if (!random) throw std::runtime_error(random.status().message());
  std::string password = std::move(random).value();
  auto hash = crypto::BcryptHash(password, crypto::kBcryptDefaultCost);
  if (!hash) throw std::runtime_error(hash.status().message());
  if (auto s = users.Set(name, *hash); !s.ok()) throw std::runtime_error(s.message());
  if (auto s = users.Save(path); !s.ok()) throw std::runtime_error(s.message());
  std::printf(
      "\nfirst admin user created in %s\n  user:     %s\n  password: %s\n"
      "(shown once; change it with: berth user passwd %s)\n\n",
      path.c_str(), name.c_str(), password.c_str(), name.c_str());
}

}  // namespace

int Init(const std::string& config_path) {
  std::string path = config_path.empty() ? "berth.yaml" : config_path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    // 0644: the default configuration holds no secret (the user file and
    // the keys it names are written 0600).
    if (Status s = ReplaceFileAtomic(path, config::DefaultYaml(), 0644); !s.ok()) {
      std::fprintf(stderr, "berth: %s\n", s.message().c_str());
      return 1;
    }
    std::printf("wrote %s\n", path.c_str());
  }
  try {
    config::Config c = LoadConfig(path);
    SetUpLogging(c);
    PrepareRoot(c.storage.root);
    PrepareTls(c);
    PrepareTokenKeys(c);
    EnsureFirstAdmin(c);
    PrintTrustHelp(c);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "berth: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "berth: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace berth::cli

#include "cli/user.hpp"

namespace berth::cli {

int User(const std::string& config_path, const std::string& action, const std::string& file,
         const std::string& user, bool password_stdin, int cost) {
  std::string path = file;
  RefreshTokensOf tokens;  // with -f: the tokens.db beside that file
  if (path.empty()) {
    auto c = LoadConfigOrReport(config_path);
    if (!c) return 2;
    path = HtpasswdPath(*c);
    tokens.tokens_db = storage::layout::TokensDb(c->storage.root);
    if (c->metadata.driver == "postgres") {
      // Several berths share the tokens there; a local tokens.db is not theirs.
      tokens.open_shared = [c = *c]() -> Result<std::unique_ptr<storage::RefreshTokenStore>> {
        try {
          return OpenRefreshTokens(c);
        } catch (const std::exception& e) {
          return Status(Errc::kUnavailable, e.what());
        }
      };
    }
  }
  return UserCommand(action, path, user, password_stdin, cost, tokens);
}

}  // namespace berth::cli
