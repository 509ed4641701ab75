// `berth serve`, `berth registry` and `berth token`: wire the concrete
// stores, authenticators, the registry, the token service and the HTTP
// runtime together. The only place that knows which implementations are used.
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "auth/bearer/bearer.hpp"
#include "auth/caching_authenticator.hpp"
#include "auth/htpasswd/htpasswd_authenticator.hpp"
#include "auth/jwt/jwt.hpp"
#include "auth/keystone/keystone_authenticator.hpp"
#include "auth/policy.hpp"
#include "auth/token/rate_limiter.hpp"
#include "auth/token/shared_failure_limiter.hpp"
#include "auth/token/token_service.hpp"
#include "cli/commands.hpp"
#include "cli/metrics.hpp"
#include "cli/setup.hpp"
#include "events/dispatcher.hpp"
#include "http/server.hpp"
#include "lifecycle/collector.hpp"
#include "lifecycle/pull_recorder.hpp"
#include "lifecycle/quota.hpp"
#include "metrics/metrics.hpp"
#include "ops/health.hpp"
#include "ops/http_metrics.hpp"
#include "ops/metered_authenticator.hpp"
#include "ops/metrics_handler.hpp"
#include "ops/process_metrics.hpp"
#include "registry/registry.hpp"
#include "cli/stores.hpp"
#include "crypto/random.hpp"
#include "storage/fs/dir_lock.hpp"
#include "storage/fs/layout.hpp"
#include "ui/ui_handler.hpp"

namespace berth::cli {
namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

http::Limits LimitsOf(const config::Config& c) {
  http::Limits l;
  l.header_timeout = std::chrono::seconds(c.http.header_timeout);
  l.body_timeout = std::chrono::seconds(c.http.body_timeout);
  l.write_timeout = std::chrono::seconds(c.http.write_timeout);
  l.max_header_bytes = c.http.max_header_bytes;
  l.max_connections = c.http.max_connections;
  l.max_connections_per_address = c.http.max_connections_per_address;
  l.min_body_rate = c.http.min_body_rate;
  l.trusted_proxies =
      Must(http::TrustedProxies::Parse(c.http.trusted_proxies), "http.trusted_proxies");
  return l;
}

http::ListenerOptions ListenerOf(const config::Config& c, const char* name, const std::string& addr,
                                 uint64_t port) {
  http::ListenerOptions lo;
  lo.name = name;
  lo.address = addr;
  lo.port = static_cast<uint16_t>(port);
  lo.tls = c.tls.enabled;
  lo.cert_file = c.tls.cert;
  lo.key_file = c.tls.key;
  return lo;
}

// `metrics` is null when metrics are off.
auth::AuthenticatorPtr MakeAuthenticator(const config::Config& c,
                                         ops::AuthenticatorMetrics* metrics) {
  if (c.token.backend == "keystone") {
    if (c.keystone.url.empty()) {
      throw config::ConfigError(
          "configuration key 'keystone.url': required when token.backend is keystone");
    }
    auth::KeystoneOptions o;
    o.url = c.keystone.url;
    o.user_domain = c.keystone.user_domain;
    o.project = c.keystone.project;
    o.project_domain = c.keystone.project_domain;
    o.admin_role = c.keystone.admin_role;
    o.ca_file = c.keystone.ca_file;
    o.verify_tls = c.keystone.verify_tls;
    o.timeout_ms = static_cast<int64_t>(c.keystone.timeout_ms);
    o.cache_ttl_s = static_cast<int64_t>(c.keystone.cache_ttl);
    o.call_threads = static_cast<size_t>(c.keystone.threads);
    o.call_queue = static_cast<size_t>(c.keystone.queue);
    if (metrics)
      o.observe_call = [metrics](double s, auth::AuthOutcome r) { metrics->Record(s, r); };
    return Must(auth::KeystoneAuthenticator::Create(std::move(o)), "keystone");
  }
  std::string path = HtpasswdPath(c);
  spdlog::info("users from {}", path);
  return std::make_unique<auth::HtpasswdAuthenticator>(path);
}

// Everything the registry half needs, alive while it serves.
struct RegistryPart {
  RegistryStores stores;
  std::unique_ptr<storage::DigestLocks> locks;
  std::unique_ptr<lifecycle::QuotaPolicy> quotas;
  std::unique_ptr<lifecycle::PullRecorder> pulls;
  std::unique_ptr<lifecycle::Collector> collector;  // stopped before the stores go
  std::shared_ptr<auth::jwt::JwtVerifier> verifier;
  std::unique_ptr<events::Dispatcher> events;  // null without endpoints; stopped likewise
  std::unique_ptr<auth::BearerGate> gate;
  std::unique_ptr<registry::Registry> registry;
  std::unique_ptr<ops::HealthHandler> health;
  // The web interface in front of `health` (null: off, or auth off).
  std::unique_ptr<auth::Policy> policy;
  std::unique_ptr<ui::TokenClient> ui_tokens;
  std::unique_ptr<ui::UiHandler> ui;
  http::Handler& front() { return ui ? static_cast<http::Handler&>(*ui) : *health; }
};

// The authorization policy from token.*: the token server's, and the web
// interface's catalog filter (which must agree with it).
auth::PolicyOptions PolicyOf(const config::Config& c) {
  auth::PolicyOptions po;
  po.admins = c.token.admins;
  po.public_namespaces = c.token.public_namespaces;
  po.reserved_namespaces = c.token.reserved_namespaces;
  po.anonymous_pull = c.token.anonymous_pull;
  return po;
}

// The web interface when ui.enabled and auth.enabled (it logs in through
// the token server), else nothing.
// `forwarder_key`: see ui::TokenClientOptions ("" unless the token server
// runs in this process).
void AddUi(const config::Config& c, RegistryPart& p, const std::string& forwarder_key) {
  if (!c.ui.enabled) return;
  if (!p.gate) {
    spdlog::info("web interface off: it needs auth.enabled");
    return;
  }
  p.policy = std::make_unique<auth::Policy>(PolicyOf(c));
  ui::TokenClientOptions to;
  to.realm = Realm(c);
  to.service = c.auth.service;
  to.http.ca_file = !c.ui.ca_file.empty() ? c.ui.ca_file : (c.tls.enabled ? c.tls.cert : "");
  to.forwarder_key = forwarder_key;
  p.ui_tokens = std::make_unique<ui::TokenClient>(std::move(to), &UnixNow);
  ui::UiOptions uo;
  uo.secure = c.tls.enabled;
  uo.session_seconds = static_cast<int64_t>(c.token.refresh_ttl);
  p.ui = std::make_unique<ui::UiHandler>(*p.health, p.stores.meta(), *p.gate, *p.policy,
                                         *p.ui_tokens, uo, &p.stores.lifecycle(), p.quotas.get());
  spdlog::info("web interface at /ui/ on the registry port, logging in through {}", Realm(c));
}

lifecycle::CollectorOptions CollectorOptionsOf(const config::Config& c) {
  lifecycle::CollectorOptions o;
  o.interval = static_cast<int64_t>(c.gc.interval);
  o.delay = static_cast<int64_t>(c.gc.delay);
  o.untagged_delay = static_cast<int64_t>(c.gc.untagged_delay);
  o.upload_max_age = static_cast<int64_t>(c.uploads.max_age);
  o.batch = static_cast<size_t>(c.gc.batch);
  o.retention_dry_run = c.retention.dry_run;
  o.dry_run_path = storage::layout::GcDryRunDb(c.storage.root);
  for (const auto& p : c.retention.policies) {
    lifecycle::RetentionPolicy rp{p.repositories, p.keep_last, p.keep_days, p.keep_tags, {}};
    if (auto s = lifecycle::Compile(rp); !s.ok()) throw config::ConfigError(s.message());
    o.retention.push_back(std::move(rp));
  }
  return o;
}

// The webhook dispatcher for notifications.*, or null when no endpoint is set.
std::unique_ptr<events::Dispatcher> MakeEvents(const config::Config& c,
                                               storage::EventQueue& queue) {
  const auto& n = c.notifications;
  if (n.endpoints.empty()) return nullptr;
  events::DispatcherOptions o;
  o.blobs = n.blobs;
  o.pulls = n.pulls;
  o.queue_max = n.queue_max;
  o.scheme = c.tls.enabled ? "https" : "http";
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  o.source_addr = std::string(host) + ":" + std::to_string(c.registry.port);
  o.instance_id = events::NewUuid();
  std::string names;
  for (const auto& e : n.endpoints) {
    events::EndpointOptions ep;
    ep.name = e.name;
    ep.url = e.url;
    for (const auto& [k, v] : e.headers) ep.headers.emplace_back(k, v);
    ep.timeout_ms = static_cast<int64_t>(e.timeout) * 1000;
    ep.backoff_ms = static_cast<int64_t>(e.backoff) * 1000;
    ep.backoff_max_ms = static_cast<int64_t>(e.backoff_max) * 1000;
    ep.filter = {e.actions, e.media_types, e.repositories};
    o.endpoints.push_back(std::move(ep));
    names += (names.empty() ? "" : ", ") + e.name + " (" + e.url + ")";
  }
  spdlog::info("events to {}; queue_max {}, blobs {}, pulls {}", names, n.queue_max, n.blobs,
               n.pulls);
  return std::make_unique<events::Dispatcher>(queue, std::move(o));
}

// Everything the token half needs, alive while it serves.
struct TokenPart {
  std::unique_ptr<storage::DirLock> lock;
  std::unique_ptr<ops::AuthenticatorMetrics> backend_metrics;
  auth::AuthenticatorPtr backend;
  std::unique_ptr<ops::MeteredAuthenticator> metered;  // around a backend without its own cache
  std::unique_ptr<auth::CachingAuthenticator> cached;  // in front of the user file
  auth::Authenticator* authenticator = nullptr;
  std::unique_ptr<auth::Policy> policy;
  std::unique_ptr<auth::jwt::JwtSigner> signer;
  std::unique_ptr<storage::RefreshTokenStore> refresh;
  std::unique_ptr<storage::LoginFailureStore> login_failures;  // null: counted in memory
  std::unique_ptr<auth::LoginLimiter> limiter;
  std::unique_ptr<auth::TokenService> service;
  std::unique_ptr<ops::HealthHandler> health;
};

std::unique_ptr<storage::DirLock> Lock(const std::string& root, const std::string& name,
                                       bool wait) {
  auto lock = storage::DirLock::Acquire(root, name, wait);
  if (!lock) throw std::runtime_error(lock.status().message());
  return std::move(lock).value();
}

void WritePidFile(const std::string& path) {
  if (path.empty()) return;
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write pid file " + path);
  std::fprintf(f, "%d\n", static_cast<int>(::getpid()));
  std::fclose(f);
}

RegistryPart MakeRegistry(const config::Config& c, bool wait_for_lock,
                          const std::string& forwarder_key) {
  RegistryPart p;
  p.stores = OpenRegistryStores(c, wait_for_lock);
  RegistryStores& st = p.stores;
  if (c.auth.enabled) {
    auto trust = Must(crypto::TrustStore::Load(c.auth.rootcertbundle), "auth.rootcertbundle");
    auth::jwt::VerifyOptions vo;
    vo.issuer = c.auth.issuer;
    vo.audience = c.auth.service;
    p.verifier = std::make_shared<auth::jwt::JwtVerifier>(std::move(trust), vo);
    p.gate = std::make_unique<auth::BearerGate>(p.verifier, Realm(c), c.auth.service, &UnixNow);
    spdlog::info("registry demands tokens from {} (service {})", Realm(c), c.auth.service);
  } else {
    spdlog::warn("auth.enabled is false: the registry is open to anyone who can reach it");
  }
  // On shared stores a digest's lock must hold on every node (a push here,
  // GC there): the leases in the shared database extend it.
  p.locks = std::make_unique<storage::DigestLocks>(st.leases());
  p.quotas = std::make_unique<lifecycle::QuotaPolicy>(
      c.quota.default_bytes, std::map<std::string, uint64_t, std::less<>>(
                                 c.quota.namespaces.begin(), c.quota.namespaces.end()));
  p.pulls = std::make_unique<lifecycle::PullRecorder>();
  lifecycle::CollectorOptions co = CollectorOptionsOf(c);
  if (st.shared()) co.cluster = st.cluster_locks();
  p.collector = std::make_unique<lifecycle::Collector>(st.meta(), st.lifecycle(), st.blobs(),
                                                       st.uploads(), *p.locks, p.pulls.get(), co);
  p.events = MakeEvents(c, st.events());
  p.registry = std::make_unique<registry::Registry>(
      st.blobs(), st.uploads(), st.meta(),
      registry::Options{c.registry.max_manifest_bytes, 0, st.blobs_on_network(),
                        st.metadata_on_network()},
      p.gate.get(), p.locks.get(),
      registry::LifecycleParts{&st.lifecycle(), p.quotas.get(), p.pulls.get(), p.collector.get()},
      p.events.get());
  if (c.gc.interval > 0) {
    spdlog::info("gc every {} s (links kept {} s, untagged manifests {} s)", c.gc.interval,
                 c.gc.delay, c.gc.untagged_delay);
  }
  p.health = std::make_unique<ops::HealthHandler>(*p.registry, st.readiness());
  AddUi(c, p, forwarder_key);
  return p;
}

TokenPart MakeToken(const config::Config& c, bool own_lock, bool wait_for_lock,
                    metrics::Registry* metrics, const std::string& forwarder_key) {
  TokenPart p;
  if (own_lock && TokenNeedsLock(c)) {
    p.lock = Lock(c.storage.root, storage::layout::kTokenLockName, wait_for_lock);
  }
  if (metrics)
    p.backend_metrics = std::make_unique<ops::AuthenticatorMetrics>(*metrics, c.token.backend);
  p.backend = MakeAuthenticator(c, p.backend_metrics.get());
  p.authenticator = p.backend.get();
  if (metrics && c.token.backend == "htpasswd") {
    p.metered = std::make_unique<ops::MeteredAuthenticator>(*p.backend, *p.backend_metrics);
    p.authenticator = p.metered.get();
  }
  if (c.token.backend == "htpasswd" && c.token.login_cache_ttl > 0) {
    // Keystone caches inside its authenticator; the user file needs one here
    // so that bcrypt is paid once per login and TTL, not per token request.
    auth::LoginCacheOptions lo;
    lo.ttl = std::chrono::seconds(c.token.login_cache_ttl);
    p.cached = std::make_unique<auth::CachingAuthenticator>(*p.authenticator, lo);
    p.authenticator = p.cached.get();
    // Any change of the user file empties the cache (entries are also keyed
    // by each user's credential generation, so this is belt and braces).
    // MakeAuthenticator made an HtpasswdAuthenticator for this backend.
    auth::CachingAuthenticator* cached = p.cached.get();
    static_cast<auth::HtpasswdAuthenticator&>(*p.backend).OnChange([cached] { cached->Clear(); });
  }
  p.policy = std::make_unique<auth::Policy>(PolicyOf(c));
  auto key = Must(crypto::SigningKey::Load(c.token.key, c.token.cert), "token key");
  p.signer = std::make_unique<auth::jwt::JwtSigner>(std::move(key));
  TokenStores stores = OpenTokenStores(c);
  p.refresh = std::move(stores.refresh);
  p.login_failures = std::move(stores.login_failures);
  auth::FailureLimiterOptions lo;
  lo.free_failures = static_cast<int64_t>(c.token.max_failures);
  if (p.login_failures) {
    p.limiter =
        Must(auth::SharedFailureLimiter::Open(*p.login_failures, lo), "login failure counts");
  } else {
    p.limiter = std::make_unique<auth::FailureLimiter>(lo);
  }
  auth::TokenServiceOptions to;
  to.service = c.auth.service;
  to.issuer = c.auth.issuer;
  to.ttl_seconds = static_cast<int64_t>(c.token.ttl);
  to.refresh_ttl_seconds = static_cast<int64_t>(c.token.refresh_ttl);
  to.refresh_idle_seconds = static_cast<int64_t>(c.token.refresh_idle_ttl);
  to.forwarder_key = forwarder_key;
  p.service = std::make_unique<auth::TokenService>(*p.authenticator, *p.policy, *p.signer,
                                                   *p.refresh, *p.limiter, &UnixNow, to);
  p.health = std::make_unique<ops::HealthHandler>(
      *p.service, std::vector<ops::ReadinessCheck>{ops::DirectoryWritable(c.storage.root)});
  spdlog::info("token server: backend {}, signing {}, tokens valid {} s", c.token.backend,
               p.signer->alg(), c.token.ttl);
  return p;
}

// Until the runtime installs its own handlers (Runtime::Run), a stop signal
// ends a starting or waiting process cleanly and a reload signal is ignored:
// `systemctl reload` must not kill a standby that waits for the lock.
void HandleSignalsDuringStartUp() {
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGTERM, [](int) { std::_Exit(0); });
  std::signal(SIGINT, [](int) { std::_Exit(0); });
}

}  // namespace

int Serve(const std::string& config_path, Role role, bool wait_for_lock) {
  auto loaded = LoadConfigOrReport(config_path);
  if (!loaded) return 2;
  config::Config c = std::move(*loaded);
  SetUpLogging(c);
  HandleSignalsDuringStartUp();
  try {
    PrepareRoot(c.storage.root);
    PrepareTls(c);
    const bool registry = role != Role::kToken;
    const bool token = role != Role::kRegistry;
    if (token || c.auth.enabled) PrepareTokenKeys(c);
    // Before the runtime and the parts: sessions and collectors refer to it.
    metrics::Registry metrics;
    metrics::Registry* m = c.metrics.enabled ? &metrics : nullptr;
    http::Runtime runtime(static_cast<int>(c.http.io_threads),
                          static_cast<int>(c.http.blocking_threads),
                          std::chrono::seconds(c.http.shutdown_grace));
    // `berth serve`: the web interface proves to the token server beside
    // it that its X-Forwarded-For names the browser (ui::TokenClientOptions).
    std::string forwarder_key;
    if (registry && token && c.ui.enabled && c.auth.enabled) {
      forwarder_key = Must(crypto::RandomHex(32), "random forwarder key");
    }
    RegistryPart reg;
    TokenPart tok;
    std::unique_ptr<ops::HttpMetrics> reg_metrics, tok_metrics;
    if (registry) {
      reg = MakeRegistry(c, wait_for_lock, forwarder_key);
      if (m) {
        auto names = registry::EndpointNames();
        names.insert(names.end(), {"healthz", "readyz", "ui", "ui_api"});
        reg_metrics = std::make_unique<ops::HttpMetrics>(*m, "registry", names);
        AddRegistryMetrics(*m, reg.stores.lifecycle(), reg.stores.uploads(), *reg.collector,
                           *reg.quotas, reg.verifier.get());
        if (reg.events) AddEventMetrics(*m, *reg.events);
      }
      runtime.AddListener(ListenerOf(c, "registry", c.registry.addr, c.registry.port), LimitsOf(c),
                          reg.front(), reg_metrics.get());
    }
    if (token) {
      tok = MakeToken(c, !registry, wait_for_lock, m, forwarder_key);
      if (m) {
        tok_metrics = std::make_unique<ops::HttpMetrics>(
            *m, "token",
            std::vector<std::string_view>{"token", "token_revoke", "healthz", "readyz"});
        AddTokenMetrics(*m, *tok.service, *tok.authenticator, c.token.backend);
      }
      runtime.AddListener(ListenerOf(c, "token", c.token.addr, c.token.port), LimitsOf(c),
                          *tok.health, tok_metrics.get());
    }
    std::unique_ptr<ops::MetricsHandler> metrics_handler;
    if (m) {
      AddBuildInfo(*m);
      ops::AddProcessMetrics(*m);
      AddListenerMetrics(*m, runtime);
      metrics_handler = std::make_unique<ops::MetricsHandler>(*m);
      http::ListenerOptions lo;
      lo.name = "metrics";
      lo.address = c.metrics.addr;
      lo.port = static_cast<uint16_t>(c.metrics.port);
      lo.tls = false;
      try {
        runtime.AddListener(lo, LimitsOf(c), *metrics_handler);
      } catch (const std::runtime_error& e) {
        throw config::ConfigError(std::string("metrics listener (metrics.addr, metrics.port; "
                                              "metrics.enabled: false turns it off): ") +
                                  e.what());
      }
    }
    WritePidFile(c.storage.pid_file);
    runtime.OnStop([&reg] {
      if (reg.collector) reg.collector->RequestStop();
      if (reg.events) reg.events->RequestStop();
    });
    runtime.OnReload([&tok] {
      if (tok.cached) tok.cached->Clear();
      spdlog::info("reloaded: login cache cleared; the user file reloads itself when it changes");
    });
    spdlog::info("berth serving; storage root {}", c.storage.root);
    PrintTrustHelp(c);
    if (registry && c.auth.enabled) WarnIfRealmIsLocal(c);
    if (reg.collector) reg.collector->Start();
    if (reg.events) reg.events->Start();
    runtime.Run();
    if (reg.collector) reg.collector->Stop();
    if (reg.events) reg.events->Stop();
    if (!c.storage.pid_file.empty()) ::unlink(c.storage.pid_file.c_str());
    return 0;
  } catch (const config::ConfigError& e) {
    spdlog::critical("{}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("start-up failed: {}", e.what());
    return 1;
  }
}

int RevokeTokens(const std::string& config_path, const std::string& user) {
  try {
    config::Config c = LoadConfig(config_path);
    auto store = OpenRefreshTokens(c);
    auto n = Must(store->Revoke(user), "revoke");
    std::printf("revoked %lld refresh token(s)%s%s\n", static_cast<long long>(n),
                user.empty() ? "" : " of ", user.c_str());
    return 0;
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "berth: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "berth: %s\n", e.what());
    return 1;
  }
}

}  // namespace berth::cli
