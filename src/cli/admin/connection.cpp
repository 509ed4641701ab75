#include "cli/admin/connection.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <iostream>
#include <string_view>
#include <vector>

#include "storage/fs/layout.hpp"

extern char** environ;

namespace berth::cli::admin {
namespace {

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// environ without the variables the admin commands read themselves:
// config::Load refuses BERTH_* names that are not configuration keys.
std::vector<std::string> ConfigEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("BERTH_USER=", 0) == 0 || entry.rfind("BERTH_PASSWORD=", 0) == 0) continue;
    env.emplace_back(entry);
  }
  return env;
}

Result<config::Config> LoadConfig(const std::string& path) {
  // Like `berth init`, berth.yaml in the working directory is the default,
  // so the commands work where init ran; without it, the defaults.
  std::string file = path;
  if (file.empty() && Exists("berth.yaml")) file = "berth.yaml";
  try {
    return config::Load(file, ConfigEnvironment());
  } catch (const config::ConfigError& e) {
    return Status(Errc::kUnsupported, e.what());
  }
}

// The certificate the default setup serves: tls.cert, else the one `berth
// serve` generates under the storage root, when it is there.
std::string DefaultCaFile(const config::Config& c) {
  if (!c.tls.cert.empty()) return c.tls.cert;
  std::string generated = storage::layout::TlsCert(c.storage.root);
  return Exists(generated) ? generated : "";
}

Result<Secret> ReadPasswordLine() {
  std::string line;
  if (!std::getline(std::cin, line) && line.empty()) {
    return Status(Errc::kUnsupported, "--password-stdin: no password on standard input");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return Status(Errc::kUnsupported, "--password-stdin: empty password");
  return Secret(std::move(line));
}

}  // namespace

std::string DefaultRegistryUrl(const config::Config& c) {
  std::string host = c.registry.addr;
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") host = "127.0.0.1";
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return std::string(c.tls.enabled ? "https" : "http") + "://" + host + ":" +
         std::to_string(c.registry.port);
}

Result<RegistryClient> Connect(const AdminOptions& options, int64_t default_timeout_s) {
  auto c = LoadConfig(options.config_path);
  if (!c) return c.status();
  RegistryClientOptions o;
  o.base_url = options.url.empty() ? DefaultRegistryUrl(*c) : options.url;
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  if (o.base_url.rfind("https://", 0) != 0 && o.base_url.rfind("http://", 0) != 0) {
    return Status(Errc::kUnsupported, "--url must start with https:// or http://");
  }
  o.user = options.user;
  if (o.user.empty()) {
    const char* env = std::getenv("BERTH_USER");
    o.user = env && *env ? env : "admin";
  }
  if (options.password_stdin) {
    auto password = ReadPasswordLine();
    if (!password) return password.status();
    o.password = std::move(*password);
  } else if (const char* env = std::getenv("BERTH_PASSWORD"); env && *env) {
    o.password = Secret(env);
  }
  o.http.connect_timeout_ms = kConnectTimeoutMs;
  o.http.timeout_ms = 1000 * (options.timeout_s > 0 ? options.timeout_s : default_timeout_s);
  o.http.verify_tls = !options.insecure;
  o.http.ca_file = options.ca_file.empty() ? DefaultCaFile(*c) : options.ca_file;
  if (!options.ca_file.empty() && !Exists(options.ca_file)) {
    return Status(Errc::kUnsupported, "--ca-file " + options.ca_file + ": no such file");
  }
  // A gc answer lists up to 2000 entries; a catalog page 1000 names.
  o.http.max_response_bytes = 16 << 20;
  return RegistryClient(std::move(o));
}

}  // namespace berth::cli::admin
