#include "cli/metrics.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#ifndef BERTH_VERSION
#define BERTH_VERSION "unknown"
#endif

namespace berth::cli {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

void One(metrics::Writer& w, const char* name, const char* help, const char* type, double v) {
  w.Begin(name, help, type);
  w.Sample(name, v);
}

void Cache(metrics::Writer& w, const std::string& cache, const CacheStats& s) {
  w.Sample("berth_cache_requests_total", Labels{{"cache", cache}, {"result", "hit"}},
           static_cast<double>(s.hits));
  w.Sample("berth_cache_requests_total", Labels{{"cache", cache}, {"result", "miss"}},
           static_cast<double>(s.misses));
}

// Usage and limit of each namespace, when quotas are configured. One query
// per namespace: fine for the hundreds of namespaces (users) a registry has.
void Quotas(metrics::Writer& w, storage::LifecycleStore& store,
            const lifecycle::QuotaPolicy& quotas) {
  std::vector<storage::NamespaceUsage> usage;
  std::string last;
  while (true) {
    auto page = store.ListNamespaces(last, 1000);
    if (!page) {
      spdlog::warn("metrics: namespaces: {}", page.status().message());
      return;
    }
    for (const auto& ns : *page) {
      if (quotas.LimitFor(ns) == 0) continue;
      auto u = store.Usage(ns);
      if (u) usage.push_back(std::move(*u));
    }
    if (page->size() < 1000) break;
    last = page->back();
  }
  w.Begin("berth_namespace_used_bytes",
          "Bytes of the distinct blobs linked in a namespace with a quota.", "gauge");
  for (const auto& u : usage)
    w.Sample("berth_namespace_used_bytes", Labels{{"namespace", u.name}},
             static_cast<double>(u.bytes));
  w.Begin("berth_namespace_quota_bytes", "Quota of a namespace, in bytes.", "gauge");
  for (const auto& u : usage) {
    w.Sample("berth_namespace_quota_bytes", Labels{{"namespace", u.name}},
             static_cast<double>(quotas.LimitFor(u.name)));
  }
}

}  // namespace

void AddRegistryMetrics(metrics::Registry& m, storage::LifecycleStore& store,
                        storage::UploadStore& uploads, const lifecycle::Collector& collector,
                        const lifecycle::QuotaPolicy& quotas,
                        const auth::jwt::JwtVerifier* verifier) {
  m.AddCollector([&store, &uploads, &collector, &quotas, verifier](metrics::Writer& w) {
    if (auto t = store.Totals()) {
      One(w, "berth_repositories", "Repositories in the store.", "gauge",
          static_cast<double>(t->repositories));
      One(w, "berth_manifests", "Manifests in the store.", "gauge",
          static_cast<double>(t->manifests));
      One(w, "berth_tags", "Tags in the store.", "gauge", static_cast<double>(t->tags));
      One(w, "berth_blobs", "Distinct blobs stored.", "gauge", static_cast<double>(t->blobs));
      One(w, "berth_blob_bytes", "Bytes of the distinct blobs stored.", "gauge",
          static_cast<double>(t->blob_bytes));
    } else {
      spdlog::warn("metrics: store totals: {}", t.status().message());
    }
    if (auto n = uploads.InProgress()) {
      One(w, "berth_uploads_in_progress", "Blob upload sessions started and not yet finished.",
          "gauge", static_cast<double>(*n));
    }
    const lifecycle::GcTotals g = collector.Totals();
    One(w, "berth_gc_runs_total", "Garbage collections run (dry runs excluded).", "counter",
        static_cast<double>(g.runs));
    One(w, "berth_gc_failures_total", "Garbage collections that stopped on an error.", "counter",
        static_cast<double>(g.failures));
    w.Begin("berth_gc_deleted_total", "What garbage collection deleted, by kind.", "counter");
    const std::pair<const char*, uint64_t> kinds[] = {{"tag", g.tags_deleted},
                                                      {"manifest", g.manifests_deleted},
                                                      {"link", g.links_deleted},
                                                      {"blob", g.blobs_deleted},
                                                      {"orphan_file", g.orphan_files_deleted},
                                                      {"upload", g.uploads_deleted}};
    for (const auto& [kind, n] : kinds) {
      w.Sample("berth_gc_deleted_total", Labels{{"kind", kind}}, static_cast<double>(n));
    }
    One(w, "berth_gc_freed_bytes_total", "Bytes of blob files garbage collection removed.",
        "counter", static_cast<double>(g.bytes_freed));
    One(w, "berth_gc_last_duration_seconds", "Duration of the last finished garbage collection.",
        "gauge", g.last_seconds);
    One(w, "berth_gc_last_success_timestamp_seconds",
        "Unix time the last garbage collection finished without error (0: none yet).", "gauge",
        static_cast<double>(g.last_success));
    if (quotas.Any()) Quotas(w, store, quotas);
    if (verifier) {
      w.Begin("berth_cache_requests_total", "Cache lookups, by cache and result.", "counter");
      Cache(w, "token_verification", verifier->Stats());
    }
  });
}

void AddTokenMetrics(metrics::Registry& m, const auth::TokenService& service,
                     const auth::Authenticator& authenticator, const std::string& backend) {
  m.AddCollector([&service, &authenticator, backend](metrics::Writer& w) {
    const auth::TokenStats s = service.Stats();
    w.Begin("berth_token_requests_total", "Token requests answered, by result.", "counter");
    const std::pair<const char*, uint64_t> results[] = {{"issued", s.issued},
                                                        {"denied", s.denied},
                                                        {"throttled", s.throttled},
                                                        {"unavailable", s.unavailable}};
    for (const auto& [result, n] : results) {
      w.Sample("berth_token_requests_total", Labels{{"result", result}}, static_cast<double>(n));
    }
    One(w, "berth_token_scopes_denied_total", "Scopes asked for and left out of issued tokens.",
        "counter", static_cast<double>(s.scopes_denied));
    if (auto c = authenticator.LoginCacheStats()) {
      // A separate family name from the registry's: both halves may run in one process.
      w.Begin("berth_login_cache_requests_total", "Login cache lookups, by backend and result.",
              "counter");
      w.Sample("berth_login_cache_requests_total", Labels{{"backend", backend}, {"result", "hit"}},
               static_cast<double>(c->hits));
      w.Sample("berth_login_cache_requests_total", Labels{{"backend", backend}, {"result", "miss"}},
               static_cast<double>(c->misses));
      w.Begin("berth_login_cache_entries", "Logins held in the cache.", "gauge");
      w.Sample("berth_login_cache_entries", Labels{{"backend", backend}},
               static_cast<double>(c->entries));
    }
  });
}

void AddEventMetrics(metrics::Registry& m, const events::Dispatcher& dispatcher) {
  m.AddCollector([&dispatcher](metrics::Writer& w) {
    const events::DispatcherStats s = dispatcher.Stats();
    One(w, "berth_events_pending", "Webhook events waiting for delivery, all endpoints.", "gauge",
        static_cast<double>(s.pending));
    One(w, "berth_events_delivered_total", "Webhook events acknowledged with a 2xx.", "counter",
        static_cast<double>(s.delivered));
    One(w, "berth_events_delivery_failures_total", "Webhook delivery attempts that failed.",
        "counter", static_cast<double>(s.failed));
    One(w, "berth_events_dropped_total",
        "Webhook events dropped, oldest first, past notifications.queue_max.", "counter",
        static_cast<double>(s.dropped));
  });
}

void AddListenerMetrics(metrics::Registry& m, const http::Runtime& runtime) {
  m.AddCollector([&runtime](metrics::Writer& w) {
    auto stats = runtime.ListenerStats();
    w.Begin("berth_http_connections_open", "Connections open now, by listener.", "gauge");
    for (const auto& [name, s] : stats) {
      w.Sample("berth_http_connections_open", Labels{{"listener", name}},
               static_cast<double>(s.open));
    }
    w.Begin("berth_http_connections_total",
            "Connections accepted, by listener and how they were admitted.", "counter");
    for (const auto& [name, s] : stats) {
      w.Sample("berth_http_connections_total", Labels{{"listener", name}, {"admitted", "normal"}},
               static_cast<double>(s.accepted));
      w.Sample("berth_http_connections_total",
               Labels{{"listener", name}, {"admitted", "health_only"}},
               static_cast<double>(s.health_only));
    }
    w.Begin("berth_http_connections_refused_total",
            "Connections closed at accept, by listener and reason.", "counter");
    for (const auto& [name, s] : stats) {
      w.Sample("berth_http_connections_refused_total",
               Labels{{"listener", name}, {"reason", "per_address"}},
               static_cast<double>(s.refused_per_address));
      w.Sample("berth_http_connections_refused_total",
               Labels{{"listener", name}, {"reason", "full"}}, static_cast<double>(s.refused_full));
    }
  });
}

void AddBuildInfo(metrics::Registry& m) {
  m.Gauges("berth_build_info", "Always 1; the labels say which berth this is.", {"version"})
      .With({BERTH_VERSION})
      .Set(1);
}

}  // namespace berth::cli
