// Command: the part every admin command repeats. It calls the registry,
// prints a failure on stderr once ("berth images tags: NAME_UNKNOWN: ...")
// and remembers the exit code, so each command reads as its happy path.
//
// Thread-safety: one thread (wraps a RegistryClient).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/admin/connection.hpp"
#include "cli/admin/exit_codes.hpp"
#include "cli/admin/registry_client.hpp"
#include "http_client/client.hpp"

namespace berth::cli::admin {

class Command {
 public:
  // `name` prefixes messages ("images tags").
  Command(std::string name, RegistryClient client)
      : name_(std::move(name)), client_(std::move(client)) {}

  // The answer when its status is 2xx; otherwise nullopt after reporting
  // (the registry's OCI error message, or why there was no answer).
  std::optional<http::ClientReply> Call(std::string_view method, std::string_view target,
                                        const std::string& body = "");

  // Every entry of the JSON array `key` across the pages of the listing at
  // `target`, following Link rel="next"; nullopt after reporting a failure
  // (including a malformed page or a next link that goes in circles).
  std::optional<std::vector<std::string>> ListAll(std::string target, const char* key);

  // Reports `message` and returns `code` (also kept for exit()).
  int Fail(ExitCode code, const std::string& message);

  // The exit code after the last failure, kExitOk when there was none.
  int exit() const { return exit_; }

 private:
  const std::string name_;
  RegistryClient client_;
  int exit_ = kExitOk;
};

// The command `name` with its client for `options` (see Connect), or
// nullopt after reporting a bad configuration or option (exit kExitUsage).
std::optional<Command> OpenCommand(const std::string& name, const AdminOptions& options,
                                   int64_t default_timeout_s);

// Reports a bad command line and returns kExitUsage.
int UsageError(const std::string& name, const std::string& message);

// Prints `text` and a newline to stdout and flushes it, so a pipe sees
// whole lines.
void PrintLine(const std::string& text);

// Prints the registry's JSON answer as is, with exactly one final newline
// (--json of gc and usage).
void PrintBody(std::string body);

// The unsigned integer `key` of `o`; 0 when missing or not one.
uint64_t JsonUint(const boost::json::object& o, const char* key);

}  // namespace berth::cli::admin
