#include "cli/setup.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "common/log_text.hpp"
#include "crypto/jws.hpp"
#include "crypto/self_signed.hpp"
#include "storage/fs/layout.hpp"

extern char** environ;

namespace berth::cli {

config::Config LoadConfig(const std::string& path) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  return config::Load(path, env);
}

std::optional<config::Config> LoadConfigOrReport(const std::string& path) {
  try {
    return LoadConfig(path);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "berth: %s\n", e.what());
    return std::nullopt;
  }
}

namespace {
// The message of a log line as the inside of a JSON string (log.format json).
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string out;
    AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()), out);
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};
}  // namespace

void SetUpLogging(const config::Config& c) {
  spdlog::set_level(spdlog::level::from_str(c.log.level));
  if (c.log.format == "json") {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%*"})");
    spdlog::set_formatter(std::move(f));
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  }
}

namespace {
void MakeDir(const std::string& dir, mode_t mode) {
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    throw std::runtime_error("cannot create " + dir + ": " + std::strerror(errno));
  }
}
bool Exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}
}  // namespace

void PrepareRoot(const std::string& root) {
  // Owner only: the root holds every image, the user file and the keys.
  MakeDir(root, 0700);
  MakeDir(storage::layout::BlobsDir(root), 0700);
  MakeDir(storage::layout::UploadsDir(root), 0700);
  MakeDir(storage::layout::KeysDir(root), 0700);
}

void PrepareTls(config::Config& c) {
  if (!c.tls.enabled) return;
  if (!c.tls.cert.empty() || !c.tls.key.empty()) {
    if (c.tls.cert.empty() || c.tls.key.empty()) {
      throw config::ConfigError("configuration keys 'tls.cert' and 'tls.key' must be set together");
    }
    return;  // configured material is used as given
  }
  std::string keys = storage::layout::KeysDir(c.storage.root);
  c.tls.cert = keys + "/tls.crt";
  c.tls.key = keys + "/tls.key";
  if (Exists(c.tls.cert) && Exists(c.tls.key)) return;
  spdlog::info("generating a self-signed ECDSA P-256 certificate in {}", keys);
  crypto::WriteSelfSignedCertificate(c.tls.cert, c.tls.key, c.tls.hosts);
}

void PrepareTokenKeys(config::Config& c) {
  if (c.token.key.empty() != c.token.cert.empty()) {
    throw config::ConfigError("configuration keys 'token.key' and 'token.cert' must be set together");
  }
  if (c.token.key.empty()) {
    std::string keys = storage::layout::KeysDir(c.storage.root);
    c.token.key = keys + "/token.key";
    c.token.cert = keys + "/token.crt";
    if (!Exists(c.token.key) || !Exists(c.token.cert)) {
      spdlog::info("generating a {} token signing key in {}", c.token.algorithm, keys);
      crypto::SigningKey::Generate(c.token.key, c.token.cert, c.token.algorithm, c.auth.issuer);
    }
  }
  if (c.auth.rootcertbundle.empty()) c.auth.rootcertbundle = c.token.cert;
}

std::string Realm(const config::Config& c) {
  if (!c.auth.realm.empty()) return c.auth.realm;
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  return std::string(c.tls.enabled ? "https" : "http") + "://" + host + ":" +
         std::to_string(c.token.port) + "/token";
}

std::string HtpasswdPath(const config::Config& c) {
  return c.token.htpasswd.empty() ? c.storage.root + "/htpasswd" : c.token.htpasswd;
}

void PrintTrustHelp(const config::Config& c) {
  if (!c.tls.enabled) {
    spdlog::warn("TLS is disabled (tls.enabled: false): serving plain HTTP");
    return;
  }
  char host[256] = "HOST";
  ::gethostname(host, sizeof host - 1);
  char abs[4096];
  std::string cert = ::realpath(c.tls.cert.c_str(), abs) ? abs : c.tls.cert;
  auto port = c.registry.port;
  spdlog::info("TLS certificate: {}", cert);
  spdlog::info("trust it with podman/skopeo: mkdir -p /etc/containers/certs.d/{}:{} && cp {} "
               "/etc/containers/certs.d/{}:{}/ca.crt",
               host, port, cert, host, port);
  spdlog::info("with docker: /etc/docker/certs.d/{}:{}/ca.crt; with skopeo alone: --cert-dir DIR "
               "(a folder holding ca.crt)",
               host, port);
}

}  // namespace berth::cli
