// HealthHandler: answers the cluster manager's probes in front of any
// http::Handler, on both ports:
//   GET /healthz  200 while the process serves (liveness)
//   GET /readyz   200 when every readiness check passes, else 503 naming the
//                 failing one (storage writable, database open, keys loaded)
// Everything else goes to the wrapped handler. Checks must be cheap: a
// monitor polls them every second.
//
// Thread-safety: Handle may run on many threads; checks must be thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "http/message.hpp"

namespace berth::ops {

struct ReadinessCheck {
  std::string name;
  std::function<Status()> check;
};

class HealthHandler final : public http::Handler {
 public:
  // `inner` must outlive this handler.
  HealthHandler(http::Handler& inner, std::vector<ReadinessCheck> checks);

  http::Outcome Handle(const http::Request& request) override;
  // The probes themselves run on the blocking pool (they write a file);
  // everything else is the inner handler's call.
  bool Quick(const http::Request& request) const override;
  http::Response Reject(int status, std::string_view reason) override;

 private:
  http::Handler& inner_;
  const std::vector<ReadinessCheck> checks_;
};

// A check that `dir` accepts writes (creates and removes a small probe file).
ReadinessCheck DirectoryWritable(std::string dir);

}  // namespace berth::ops
