#include "ops/metered_authenticator.hpp"

#include <chrono>

namespace berth::ops {
namespace {
metrics::Family<metrics::Counter>& Requests(metrics::Registry& r) {
  return r.Counters("berth_authenticator_requests_total",
                    "Logins checked by the identity backend (cache hits excluded), by result.",
                    {"backend", "result"});
}
}  // namespace

AuthenticatorMetrics::AuthenticatorMetrics(metrics::Registry& registry, const std::string& backend)
    : latency_(
          registry
              .Histograms("berth_authenticator_duration_seconds",
                          "Time the identity backend took to check a login (cache hits excluded).",
                          {"backend"}, metrics::LatencyBuckets())
              .With({backend})),
      ok_(Requests(registry).With({backend, "ok"})),
      rejected_(Requests(registry).With({backend, "rejected"})),
      unavailable_(Requests(registry).With({backend, "unavailable"})) {}

void AuthenticatorMetrics::Record(double seconds, auth::AuthOutcome outcome) {
  latency_.Observe(seconds);
  switch (outcome) {
    case auth::AuthOutcome::kOk:
      ok_.Inc();
      break;
    case auth::AuthOutcome::kBadCredentials:
      rejected_.Inc();
      break;
    case auth::AuthOutcome::kUnavailable:
      unavailable_.Inc();
      break;
  }
}

auth::AuthResult MeteredAuthenticator::Authenticate(const std::string& user,
                                                    const Secret& password) {
  const auto start = std::chrono::steady_clock::now();
  auth::AuthResult r = inner_.Authenticate(user, password);
  metrics_.Record(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                  r.outcome);
  return r;
}

}  // namespace berth::ops
