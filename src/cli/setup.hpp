// Start-up steps shared by the commands: configuration, logging, the storage
// root and TLS material. Start-up may throw; main-level code turns that into
// an exit code.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/result.hpp"
#include "config/config.hpp"

namespace berth::cli {

// The value of `r`, or a std::runtime_error "<what>: <why>" (start-up only).
template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.status().message());
  return std::move(r).value();
}

// Loads the config from `path` and the environment. Throws ConfigError.
config::Config LoadConfig(const std::string& path);

// LoadConfig for commands: on a ConfigError prints "berth: <why>" to stderr
// and returns nullopt (the caller exits 2).
std::optional<config::Config> LoadConfigOrReport(const std::string& path);

// Applies log.level and the log format.
void SetUpLogging(const config::Config& c);

// Creates the storage root and its folders if missing.
void PrepareRoot(const std::string& root);

// Resolves tls.cert / tls.key, generating a self-signed pair when they are
// not configured and not yet made. Fills c.tls.cert and c.tls.key.
void PrepareTls(config::Config& c);

// Resolves token.key / token.cert (generating a signing pair in <root>/keys
// when not configured) and auth.rootcertbundle (default: that certificate).
void PrepareTokenKeys(config::Config& c);

// auth.realm, or https://<host name>:<token.port>/token when empty.
std::string Realm(const config::Config& c);

// token.htpasswd, or <root>/htpasswd when empty.
std::string HtpasswdPath(const config::Config& c);

// The name clients use for the registry in the trust hints: the first
// tls.hosts entry (the public name the operator gave), else the host name.
std::string ClientFacingHost(const config::Config& c);

// Tells the operator where the certificate is and, one log line per client,
// the commands that make podman/buildah, skopeo, docker and containerd (or
// the system trust store) trust it for ClientFacingHost(c):registry.port.
void PrintTrustHelp(const config::Config& c);

// Warns (log lines) when clients on other hosts could not log in: the
// registry listens on an address other hosts can reach (registry.addr is not
// loopback) while the realm's host resolves only to loopback addresses
// (localhost, 127.0.0.0/8, ::1, or a host name that /etc/hosts maps to
// 127.0.1.1). The look-ups are bounded by `timeout` (default 2 s, paid only
// when DNS is slow): a look-up that fails or takes longer skips the check.
// REQUIRES: auth.enabled (the realm is only used then).
void WarnIfRealmIsLocal(const config::Config& c,
                        std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace berth::cli
