// What every admin command shares: its common options, and turning them
// (with the config file and the environment) into a RegistryClient.
//
// Thread-safety: call from main's thread only (reads stdin and environ).
#pragma once

#include <cstdint>
#include <string>

#include "cli/admin/registry_client.hpp"
#include "common/result.hpp"
#include "config/config.hpp"

namespace berth::cli::admin {

// The common options of docs/lifecycle.md, "Admin commands", as parsed.
struct AdminOptions {
  std::string config_path;      // empty: berth.yaml when it exists, else the defaults
  std::string url;              // empty: DefaultRegistryUrl of the config
  std::string user;             // empty: $BERTH_USER, else "admin"
  bool password_stdin = false;  // else $BERTH_PASSWORD, else no password
  std::string ca_file;          // empty: the config's TLS certificate, if there is one
  bool insecure = false;        // no certificate or host name checks
  bool json = false;            // machine-readable output
  int64_t timeout_s = 0;        // whole call; 0: the command's default
};

// Connect timeout of every call (name lookup, TCP, TLS): a registry that
// does not answer within it is down or unreachable.
inline constexpr int64_t kConnectTimeoutMs = 5000;
// Default total timeout of a call, for listings, deletes and usage.
inline constexpr int64_t kDefaultTimeoutS = 60;
// A gc call answers when the collection is done, which may take long on a
// large registry (and waits for a run already under way).
inline constexpr int64_t kGcTimeoutS = 3600;

// The URL of the registry that `c` configures, as seen from this host:
// https when tls.enabled, else http; 127.0.0.1 for a wildcard or empty
// registry.addr; registry.port.
std::string DefaultRegistryUrl(const config::Config& c);

// The client for `options`: the config loaded (BERTH_USER and
// BERTH_PASSWORD are the commands' own, not configuration), the password read
// when asked, `default_timeout_s` applied unless options.timeout_s is set.
// Every failure is a bad command line or configuration (exit 2); the Status
// says why.
Result<RegistryClient> Connect(const AdminOptions& options, int64_t default_timeout_s);

}  // namespace berth::cli::admin
