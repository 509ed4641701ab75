// Start-up steps shared by the commands: configuration, logging, the storage
// root and TLS material. Start-up may throw; main-level code turns that into
// an exit code.
#pragma once

#include <optional>
#include <string>

#include "config/config.hpp"

namespace berth::cli {

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

// Tells the operator where the certificate is and how clients trust it.
void PrintTrustHelp(const config::Config& c);

}  // namespace berth::cli
