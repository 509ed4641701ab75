// The token gate that the web interface's tests put in front of the
// registry, as `berth serve` builds it: it trusts one ES256 test key made in
// a folder, expects issuer "berth-token" and service "berth", and names the
// realm "R". Its clock stands still at the time given.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "../auth/test_keys.hpp"
#include "auth/bearer/bearer.hpp"

namespace berth::ui::testgate {

struct TestGate {
  testkeys::TestKey key;  // signs tokens the gate accepts
  std::unique_ptr<auth::BearerGate> gate;
};

// Fails the current test when the key or the trust store cannot be made.
inline TestGate Make(const std::string& dir, int64_t now) {
  TestGate g;
  g.key = testkeys::MakeKey(dir, "signer", "ES256");
  auto trust = testkeys::MakeTrust(dir, {g.key});
  EXPECT_NE(g.key.key, nullptr);
  EXPECT_NE(trust, nullptr);
  auth::jwt::VerifyOptions vo;
  vo.issuer = "berth-token";
  vo.audience = "berth";
  g.gate = std::make_unique<auth::BearerGate>(std::make_shared<auth::jwt::JwtVerifier>(trust, vo),
                                              "R", "berth", [now] { return now; });
  return g;
}

}  // namespace berth::ui::testgate
