// The exit codes of the admin commands (docs/lifecycle.md, "Admin
// commands") and the one table that maps failures onto them, so every
// command answers a script the same way.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace berth::cli::admin {

// Keep in sync with docs/lifecycle.md.
enum ExitCode : int {
  kExitOk = 0,        // done
  kExitNotFound = 1,  // repository, tag, manifest or namespace not found
  kExitUsage = 2,     // bad command line or configuration
  kExitDenied = 3,    // login refused or not allowed
  kExitFailed = 4,    // registry unreachable (TLS included) or failed
};

// The exit code for an answer of the registry with HTTP `status`. A 400
// counts as a bad command line: the request was built from it.
ExitCode ExitCodeForHttp(long status);

// The exit code for a failure that is not an answer of the registry
// (bad arguments, a login refused by the token server, no connection).
ExitCode ExitCodeFor(Errc code);

// What to tell the operator about a failed answer: the OCI error body's
// "CODE: message" entries joined by "; ", or "HTTP <status>" with the start
// of the body when it is not an OCI error.
std::string ErrorMessage(long status, std::string_view body);

}  // namespace berth::cli::admin
