#include "cli/setup.hpp"

#include <spdlog/pattern_formatter.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "common/log_text.hpp"
#include "common/thread_annotations.hpp"
#include "crypto/jws.hpp"
#include "crypto/self_signed.hpp"
#include "storage/fs/layout.hpp"

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
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
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
  c.tls.cert = storage::layout::TlsCert(c.storage.root);
  c.tls.key = storage::layout::TlsKey(c.storage.root);
  if (Exists(c.tls.cert) && Exists(c.tls.key)) return;
  spdlog::info("generating a self-signed ECDSA P-256 certificate in {}",
               storage::layout::KeysDir(c.storage.root));
  crypto::WriteSelfSignedCertificate(c.tls.cert, c.tls.key, c.tls.hosts);
}

void PrepareTokenKeys(config::Config& c) {
  if (c.token.key.empty() != c.token.cert.empty()) {
    throw config::ConfigError(
        "configuration keys 'token.key' and 'token.cert' must be set together");
  }
  if (c.token.key.empty()) {
    c.token.key = storage::layout::TokenKey(c.storage.root);
    c.token.cert = storage::layout::TokenCert(c.storage.root);
    if (!Exists(c.token.key) || !Exists(c.token.cert)) {
      spdlog::info("generating a {} token signing key in {}", c.token.algorithm,
                   storage::layout::KeysDir(c.storage.root));
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
  return c.token.htpasswd.empty() ? storage::layout::UserFile(c.storage.root) : c.token.htpasswd;
}

std::string ClientFacingHost(const config::Config& c) {
  if (!c.tls.hosts.empty() && !c.tls.hosts.front().empty()) return c.tls.hosts.front();
  char host[256] = "HOST";
  ::gethostname(host, sizeof host - 1);
  return host;
}

void PrintTrustHelp(const config::Config& c) {
  if (!c.tls.enabled) {
    spdlog::warn("TLS is disabled (tls.enabled: false): serving plain HTTP");
    return;
  }
  char abs[4096];
  const std::string cert = ::realpath(c.tls.cert.c_str(), abs) ? abs : c.tls.cert;
  const std::string host = ClientFacingHost(c);
  const bool v6 = host.find(':') != std::string::npos;  // certs.d/[::1]:9001, as clients name it
  const std::string hp = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(c.registry.port);
  spdlog::info(
      "TLS certificate: {}; to trust it, run one of these on each client host (on "
      "another host, with the path of a copy of the file):",
      cert);
  spdlog::info(
      "  podman, buildah, skopeo: mkdir -p /etc/containers/certs.d/{0} && cp {1} "
      "/etc/containers/certs.d/{0}/ca.crt",
      hp, cert);
  // skopeo copy has no --cert-dir: it takes one folder per side.
  spdlog::info(
      "  skopeo without /etc (DIR holds ca.crt): copy --src-cert-dir DIR / --dest-cert-dir "
      "DIR; inspect, list-tags, delete, login --cert-dir DIR");
  // dockerd reads certs.d on every pull and push (registry.ReadCertsDirectory).
  spdlog::info(
      "  docker: mkdir -p /etc/docker/certs.d/{0} && cp {1} /etc/docker/certs.d/{0}/ca.crt"
      "   # no restart needed",
      hp, cert);
  // containerd treats localhost and 127.0.0.1 as plain HTTP unless hosts.toml
  // names an https server, so the hint always writes one. A top-level `ca`
  // applies to `server`; a [host."https://…"] table for the same URL would
  // make a second entry without it, tried after a 403 (an x509 error then).
  spdlog::info(
      "  containerd: mkdir -p /etc/containerd/certs.d/{0} && cp {1} "
      "/etc/containerd/certs.d/{0}/ca.crt && printf 'server = \"https://{0}\"\\nca = "
      "\"/etc/containerd/certs.d/{0}/ca.crt\"\\n' >/etc/containerd/certs.d/{0}/hosts.toml",
      hp, cert);
  spdlog::info(
      "  containerd reads that with `ctr images pull --hosts-dir /etc/containerd/certs.d "
      "...`, and for CRI with config_path = \"/etc/containerd/certs.d\" under "
      "[plugins.\"io.containerd.grpc.v1.cri\".registry] in its config.toml");
  spdlog::info(
      "  or the system trust store (every client; restart dockerd and containerd after): "
      "cp {} /usr/local/share/ca-certificates/berth-{}.crt && update-ca-certificates",
      cert, v6 ? "ipv6" : host);
}

namespace {
// The host of an http(s) URL: "https://[::1]:9002/token" gives "::1".
std::string UrlHost(std::string_view url) {
  if (auto p = url.find("://"); p != std::string_view::npos) url.remove_prefix(p + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  if (!url.empty() && url.front() == '[') {
    auto close = url.find(']');
    return std::string(url.substr(1, close == std::string_view::npos ? close : close - 1));
  }
  return std::string(url.substr(0, url.find(':')));
}

bool IsLoopback(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    return (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(&a) || (IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127);
  }
  return false;
}

// What `host` resolves to: its addresses, and whether all are loopback.
struct Resolved {
  bool ok = false;  // false: the look-up failed or timed out
  bool only_loopback = false;
  std::string addresses;  // "127.0.0.1, ::1"
};

// getaddrinfo has no timeout, so it runs on a detached thread that owns its
// share of the state; a slow resolver cannot hold up start-up for longer
// than `timeout` (the thread finishes, or dies with the process, later).
Resolved Resolve(const std::string& host, std::chrono::milliseconds timeout) {
  struct State {
    Mutex mu;
    std::condition_variable cv;
    bool done = false;
    Resolved answer;
  };
  auto state = std::make_shared<State>();
  std::thread([state, host] {
    Resolved r;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) == 0 && res != nullptr) {
      r.ok = true;
      r.only_loopback = true;
      for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
        if (!IsLoopback(a->ai_addr)) r.only_loopback = false;
        char text[INET6_ADDRSTRLEN] = "";
        ::getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
        if (r.addresses.find(text) == std::string::npos) {
          r.addresses += (r.addresses.empty() ? "" : ", ") + std::string(text);
        }
      }
      ::freeaddrinfo(res);
    }
    MutexLock lock(state->mu);
    state->answer = std::move(r);
    state->done = true;
    state->cv.notify_all();
  }).detach();
  MutexLock lock(state->mu);
  if (!state->cv.wait_for(lock.native(), timeout, [&] { return state->done; })) return {};
  return state->answer;
}
}  // namespace

void WarnIfRealmIsLocal(const config::Config& c, std::chrono::milliseconds timeout) {
  const std::string realm = Realm(c);
  const std::string host = UrlHost(realm);
  if (host.empty()) return;
  Resolved listen = Resolve(c.registry.addr.empty() ? "0.0.0.0" : c.registry.addr, timeout);
  if (!listen.ok || listen.only_loopback) return;  // only local clients can reach it anyway
  Resolved target = Resolve(host, timeout);
  if (!target.ok) {
    spdlog::debug("realm host {} did not resolve within {} ms: not checked", host, timeout.count());
    return;
  }
  if (!target.only_loopback) return;
  spdlog::warn(
      "auth.realm {}{} names {}, which resolves only to loopback ({}), while the registry "
      "listens on {}: clients on other hosts will be sent there and cannot log in",
      realm, c.auth.realm.empty() ? " (the default, from the host name)" : "", host,
      target.addresses, c.registry.addr);
  spdlog::warn(
      "for remote clients set auth.realm to a token URL they can reach (e.g. "
      "https://PUBLIC-NAME:{}/token) and list PUBLIC-NAME in tls.hosts (the generated "
      "certificate is made once: delete {}/tls.crt and tls.key to remake it)",
      c.token.port, storage::layout::KeysDir(c.storage.root));
}

}  // namespace berth::cli
