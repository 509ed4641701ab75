// `berth user add|passwd|del|list`: edits the embedded bcrypt user file
// (auth/htpasswd/htpasswd_file.hpp) that the token server's htpasswd
// authenticator reads. A running server picks up the change within a second.
// add, passwd and del also revoke the user's refresh tokens at once: in
// PostgreSQL when the configuration keeps metadata there (several berths
// share it), else in the tokens.db beside the user file (the storage root's,
// by default); elsewhere the token server refuses them anyway, since each is
// bound to the user's credential generation.
//
// Thread-safety: a command; call from main only. Two concurrent edits of the
// same file may lose one of them (the file itself is always whole).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "storage/refresh_token_store.hpp"

namespace berth::cli {

// Where add, passwd and del revoke the user's refresh tokens.
struct RefreshTokensOf {
  // A SQLite tokens.db (empty: the one beside the user file), used only when
  // it exists: no token server may have run on it yet.
  std::string tokens_db;
  // When set, the shared store (PostgreSQL) instead of any tokens.db.
  std::function<Result<std::unique_ptr<storage::RefreshTokenStore>>()> open_shared;
};

// Runs one user-file action and returns the process exit code: 0 on success,
// 1 on any failure (after printing a clear message to stderr).
//   add     creates `user`; fails if it already exists.
//   passwd  sets a new password for `user`; fails if `user` does not exist.
//   del     removes `user`; fails if it does not exist.
//   list    prints the user names, one per line, in file order (a missing file
//           lists nobody).
// add/passwd read the password as one line from stdin when
// `password_from_stdin`, else prompt twice on the controlling terminal with
// echo off; an empty password is refused. `cost` is the bcrypt cost of new
// hashes (crypto::kBcryptDefaultCost = 10 by default). Lines the file cannot
// use are reported as warnings on stderr and kept as they are. After add,
// passwd or del, the user's refresh tokens in `tokens` are revoked; failing
// that is a warning, not a failure.
int UserCommand(const std::string& action, const std::string& file, const std::string& user,
                bool password_from_stdin, int cost, const RefreshTokensOf& tokens = {});

}  // namespace berth::cli
