// The scrape-time metrics of each part of a berth process: what the stores
// hold, garbage collection and quotas, the token server and its caches, the
// listeners' connections. The request metrics are recorded as requests are
// answered (ops::HttpMetrics); these are read when Prometheus scrapes.
#pragma once

#include "auth/authenticator.hpp"
#include "auth/jwt/jwt.hpp"
#include "auth/token/token_service.hpp"
#include "events/dispatcher.hpp"
#include "http/server.hpp"
#include "lifecycle/collector.hpp"
#include "lifecycle/quota.hpp"
#include "metrics/metrics.hpp"
#include "storage/lifecycle_store.hpp"
#include "storage/upload_store.hpp"

namespace berth::cli {

// Everything passed must outlive the registry's last Render. `verifier`
// may be null (auth disabled).
void AddRegistryMetrics(metrics::Registry& m, storage::LifecycleStore& store,
                        storage::UploadStore& uploads, const lifecycle::Collector& collector,
                        const lifecycle::QuotaPolicy& quotas,
                        const auth::jwt::JwtVerifier* verifier);

void AddTokenMetrics(metrics::Registry& m, const auth::TokenService& service,
                     const auth::Authenticator& authenticator, const std::string& backend);

// The webhook queue and its deliveries; `dispatcher` must outlive the registry's last Render.
void AddEventMetrics(metrics::Registry& m, const events::Dispatcher& dispatcher);

void AddListenerMetrics(metrics::Registry& m, const http::Runtime& runtime);

// berth_build_info{version} 1.
void AddBuildInfo(metrics::Registry& m);

}  // namespace berth::cli
