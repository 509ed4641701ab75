// The LoginLimiter rule cases (login_limiter_cases.cpp), parametrized over
// implementations: each binary that links them instantiates
// LoginLimiterRuleTest with the backends it can reach.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "auth/token/login_limiter.hpp"

namespace berth::auth {

// Limiters of one implementation.
class LimiterBackend {
 public:
  virtual ~LimiterBackend() = default;
  // A limiter on empty counts.
  virtual std::unique_ptr<LoginLimiter> Fresh(const FailureLimiterOptions& o) = 0;
  // Another node's limiter on the counts of the last Fresh one; nullptr when
  // the implementation keeps counts per process.
  virtual std::unique_ptr<LoginLimiter> Another(const FailureLimiterOptions& o) = 0;
};

struct LimiterParam {
  std::string name;
  // nullptr: not available here (the case is skipped).
  std::function<std::unique_ptr<LimiterBackend>()> make;
};

class LoginLimiterRuleTest : public ::testing::TestWithParam<LimiterParam> {
 protected:
  void SetUp() override;
  std::unique_ptr<LoginLimiter> Make(const FailureLimiterOptions& o);
  std::unique_ptr<LimiterBackend> backend_;
};

inline std::string LimiterName(const ::testing::TestParamInfo<LimiterParam>& info) {
  return info.param.name;
}

}  // namespace berth::auth
