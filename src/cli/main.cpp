// berth: a private container registry. main parses and dispatches, nothing else.
#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  // Whatever berth creates (storage root, blobs, uploads, databases, keys,
  // the user file) is its user's alone, whatever umask it was started with.
  ::umask(077);
  using berth::cli::Role;
  CLI::App app{"berth: a private container registry (OCI Distribution API v1.1) and token server"};
  app.require_subcommand(1);
  std::string config;
  auto add = [&](const char* name, const char* help) {
    auto* sub = app.add_subcommand(name, help);
    sub->add_option("-c,--config", config, "configuration file (YAML)");
    return sub;
  };
  auto* serve = add("serve", "run the registry and the token server");
  auto* registry = add("registry", "run the registry alone");
  auto* token = add("token", "run the token server alone");
  bool wait_for_lock = false;
  for (auto* sub : {serve, registry, token}) {
    sub->add_flag("--wait-for-lock", wait_for_lock,
                  "wait for the storage root's lock instead of refusing to start (warm standby)");
  }
  auto* init = add("init", "write a default config, storage root, certificates and a first admin");
  auto* revoke = add("revoke-tokens", "revoke refresh tokens (of one user, or all)");
  std::string revoke_user;
  revoke->add_option("--user", revoke_user, "only this user's tokens");

  auto* fsck = add("fsck", "check every blob and metadata row (runs while berth serves)");
  bool repair = false;
  fsck->add_flag("--repair", repair, "quarantine corrupted blobs and drop dangling rows");

  auto* user = add("user", "manage the local user file (htpasswd, bcrypt)");
  std::string action, name, file;
  bool password_stdin = false;
  int cost = 10;
  user->add_option("action", action, "add | passwd | del | list")
      ->required()
      ->check(CLI::IsMember({"add", "passwd", "del", "list"}));
  user->add_option("name", name, "user name (not for list)");
  user->add_option("-f,--file", file, "user file (default: token.htpasswd from the config)");
  user->add_flag("--password-stdin", password_stdin, "read the password from standard input");
  user->add_option("--cost", cost, "bcrypt cost")->check(CLI::Range(4, 31));

  CLI11_PARSE(app, argc, argv);
  if (*serve) return berth::cli::Serve(config, Role::kBoth, wait_for_lock);
  if (*registry) return berth::cli::Serve(config, Role::kRegistry, wait_for_lock);
  if (*token) return berth::cli::Serve(config, Role::kToken, wait_for_lock);
  if (*init) return berth::cli::Init(config);
  if (*revoke) return berth::cli::RevokeTokens(config, revoke_user);
  if (*fsck) return berth::cli::Fsck(config, repair);
  if (*user) return berth::cli::User(config, action, file, name, password_stdin, cost);
  return 1;
}
