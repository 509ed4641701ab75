// berth: a private container registry. main parses and dispatches, nothing else.
#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include "cli/commands.hpp"

// An exception that escapes main ends berth through std::terminate, with
// its message: the right end for one nothing expected.
// NOLINTNEXTLINE(bugprone-exception-escape)
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

  auto* migrate =
      add("migrate", "apply the PostgreSQL schema migrations and exit (metadata.driver: postgres)");
  auto* fsck = add("fsck", "check every blob and metadata row (runs while berth serves)");
  bool repair = false;
  fsck->add_flag("--repair", repair, "quarantine corrupted blobs and drop dangling rows");

  auto* migrate_store =
      add("migrate-store",
          "copy a filesystem + SQLite storage root into the stores the config names (e.g. S3 + "
          "PostgreSQL); runs while the source serves, and a rerun copies only what is missing. "
          "Not copied: refresh tokens (users log in again) and pending webhook events (the old "
          "node delivers them before it stops)");
  std::string migrate_from;
  bool migrate_verify = false;
  int migrate_jobs = 4;
  migrate_store->add_option("--from", migrate_from, "the source storage root (blobs/, metadata.db)")
      ->required();
  migrate_store->add_flag("--verify", migrate_verify,
                          "also read back and hash the blobs the target already holds");
  migrate_store->add_option("--jobs", migrate_jobs, "blobs copied at once (default 4)")
      ->check(CLI::Range(1, 64));

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

  // The admin commands (docs/lifecycle.md) share their connection options.
  berth::cli::admin::AdminOptions admin;
  auto add_admin = [&](CLI::App* parent, const char* name, const char* help) {
    auto* sub = parent->add_subcommand(name, help);
    sub->add_option("-c,--config", admin.config_path,
                    "configuration file (YAML; default: berth.yaml when present)");
    sub->add_flag("--json", admin.json, "machine-readable output");
    sub->add_option("--url", admin.url, "the registry (default: the one the config file serves)");
    sub->add_option("--user", admin.user, "user to log in as (default: $BERTH_USER, else admin)");
    sub->add_flag("--password-stdin", admin.password_stdin,
                  "read the password from standard input (default: $BERTH_PASSWORD)");
    sub->add_option("--ca-file", admin.ca_file,
                    "CA certificates to trust (default: the config's TLS certificate)");
    sub->add_flag("--insecure", admin.insecure, "do not verify the registry's certificate");
    sub->add_option("--timeout", admin.timeout_s,
                    "seconds one call may take, 1 to 604800 (default: 60; gc: 3600)")
        ->check(CLI::Range(int64_t{1}, int64_t{7 * 86400}));
    return sub;
  };
  auto* images =
      app.add_subcommand("images", "list, inspect and delete images on a running registry");
  images->require_subcommand(1);
  std::string ns, repo, reference;
  auto* images_list = add_admin(images, "list", "list the repositories (all, or of one namespace)");
  images_list->add_option("namespace", ns, "only this namespace");
  auto* images_tags = add_admin(images, "tags", "list the tags of a repository");
  images_tags->add_option("repository", repo, "e.g. alice/app")->required();
  auto* images_delete = add_admin(images, "delete", "delete a tag, or a manifest and its tags");
  images_delete->add_option("reference", reference, "REPO:TAG or REPO@DIGEST")->required();
  auto* gc = add_admin(&app, "gc", "run a garbage collection on a running registry now");
  bool dry_run = false;
  gc->add_flag("--dry-run", dry_run, "only report what would be deleted");
  auto* usage = add_admin(&app, "usage", "storage used and quota per namespace");
  usage->add_option("namespace", ns, "only this namespace");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    // The admin commands promise 2 for a bad command line (scripts test it).
    const bool admin_command = images->count() > 0 || gc->count() > 0 || usage->count() > 0;
    return admin_command && rc != 0 ? 2 : rc;
  }
  if (*serve) return berth::cli::Serve(config, Role::kBoth, wait_for_lock);
  if (*registry) return berth::cli::Serve(config, Role::kRegistry, wait_for_lock);
  if (*token) return berth::cli::Serve(config, Role::kToken, wait_for_lock);
  if (*init) return berth::cli::Init(config);
  if (*revoke) return berth::cli::RevokeTokens(config, revoke_user);
  if (*fsck) return berth::cli::Fsck(config, repair);
  if (*migrate) return berth::cli::Migrate(config);
  if (*migrate_store) {
    return berth::cli::MigrateStore(config, migrate_from, migrate_verify, migrate_jobs);
  }
  if (*user) return berth::cli::User(config, action, file, name, password_stdin, cost);
  if (*images_list) return berth::cli::ImagesList(admin, ns);
  if (*images_tags) return berth::cli::ImagesTags(admin, repo);
  if (*images_delete) return berth::cli::ImagesDelete(admin, reference);
  if (*gc) return berth::cli::Gc(admin, dry_run);
  if (*usage) return berth::cli::Usage(admin, ns);
  return 1;
}
