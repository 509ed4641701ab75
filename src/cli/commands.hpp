// The berth subcommands. main.cpp parses the command line and calls one of
// these; each returns the process exit code (2 for bad configuration).
#pragma once

#include <string>

namespace berth::cli {

enum class Role { kBoth, kRegistry, kToken };

// `berth serve` (both), `berth registry`, `berth token`: serve until SIGTERM.
// With `wait_for_lock` a second process on the same storage root waits for
// the first to go away instead of refusing to start.
int Serve(const std::string& config_path, Role role, bool wait_for_lock);

// `berth init`: write a default config (if missing), the storage root, the
// TLS certificate and token key, and a first admin user with a random
// password (printed once) when the user file has none.
int Init(const std::string& config_path);

// `berth revoke-tokens [--user NAME]`: revokes refresh tokens (all when no user).
int RevokeTokens(const std::string& config_path, const std::string& user);

}  // namespace berth::cli

namespace berth::cli {

// `berth user add|passwd|del|list [NAME]`: edits the htpasswd user file
// (`file`, or token.htpasswd from the config when empty).
int User(const std::string& config_path, const std::string& action, const std::string& file,
         const std::string& user, bool password_stdin, int cost);

}  // namespace berth::cli

namespace berth::cli {

// `berth fsck [--repair]`: checks the storage root online; prints one JSON
// object per problem and a summary line. Exit 0 when clean, 1 when problems
// were found (even if repaired), 3 when the check could not run.
int Fsck(const std::string& config_path, bool repair);

}  // namespace berth::cli

namespace berth::cli {

// `berth migrate-store --from ROOT [--verify] [--jobs N]`: copies the
// filesystem + SQLite root `from` into the stores the configuration names
// (storage/migrate/migrate_store.hpp). Exit 0 when everything copied and
// verified, 1 when something did not (listed on stderr), 2 bad command line
// or configuration, 3 when the source or target could not be opened.
int MigrateStore(const std::string& config_path, const std::string& from, bool verify, int jobs);

}  // namespace berth::cli

#include "cli/admin/connection.hpp"

namespace berth::cli {

// The admin commands (docs/lifecycle.md, "Admin commands") talk to a running
// registry over its API, so they work from another host and against
// whichever node of an HA pair is active. Each returns its exit code: 0 done,
// 1 not found, 2 bad command line or configuration, 3 login refused or not
// allowed, 4 registry unreachable or failed (cli/admin/exit_codes.hpp).

// `berth images list [NAMESPACE]`: the repositories, all or of one namespace.
int ImagesList(const admin::AdminOptions& options, const std::string& ns);

// `berth images tags REPO`: the tags of a repository.
int ImagesTags(const admin::AdminOptions& options, const std::string& repo);

// `berth images delete REPO:TAG|REPO@DIGEST`: removes a tag, or a manifest
// and its tags.
int ImagesDelete(const admin::AdminOptions& options, const std::string& reference);

// `berth gc [--dry-run]`: runs a collection now and prints what went.
int Gc(const admin::AdminOptions& options, bool dry_run);

// `berth usage [NAMESPACE]`: usage and quota per namespace.
int Usage(const admin::AdminOptions& options, const std::string& ns);

// `berth migrate`: applies the PostgreSQL schema migrations and exits
// (berth also applies them at start-up). 0 done, 2 bad config or not
// PostgreSQL, 3 database unreachable, 1 a migration failed.
int Migrate(const std::string& config_path);

}  // namespace berth::cli
