// Metrics of an identity backend (the user file, Keystone), recorded for
// real backend checks only, never for answers from a login cache:
//   berth_authenticator_duration_seconds{backend}            (histogram)
//   berth_authenticator_requests_total{backend,result}       ok | rejected | unavailable
// MeteredAuthenticator records around a backend that has no cache of its own
// (put it under the CachingAuthenticator); a backend with its own cache
// (Keystone) calls Record for each real call.
//
// Thread-safety: Record may run on many threads; MeteredAuthenticator is as
// safe as the wrapped authenticator.
#pragma once

#include <string>

#include "auth/authenticator.hpp"
#include "metrics/metrics.hpp"

namespace berth::ops {

class AuthenticatorMetrics {
 public:
  // `registry` must outlive this object.
  AuthenticatorMetrics(metrics::Registry& registry, const std::string& backend);
  void Record(double seconds, auth::AuthOutcome outcome);

 private:
  metrics::Histogram& latency_;
  metrics::Counter& ok_;
  metrics::Counter& rejected_;
  metrics::Counter& unavailable_;
};

class MeteredAuthenticator final : public auth::Authenticator {
 public:
  // `inner` and `metrics` must outlive this object.
  MeteredAuthenticator(auth::Authenticator& inner, AuthenticatorMetrics& metrics)
      : inner_(inner), metrics_(metrics) {}

  auth::AuthResult Authenticate(const std::string& user, const Secret& password) override;
  // The wrapped backend's, so a backend with sessions keeps them when metered.
  auth::AuthResult AuthenticateSession(const std::string& user, const Secret& password) override {
    return inner_.AuthenticateSession(user, password);
  }
  auth::AuthResult RecheckSession(const std::string& user, const Secret& session) override {
    return inner_.RecheckSession(user, session);
  }
  Result<std::string> CredentialGeneration(const std::string& user) override {
    return inner_.CredentialGeneration(user);
  }
  std::optional<CacheStats> LoginCacheStats() const override { return inner_.LoginCacheStats(); }

 private:
  auth::Authenticator& inner_;
  AuthenticatorMetrics& metrics_;
};

}  // namespace berth::ops
