// Tests for auth/bearer/bearer.hpp: reading `Authorization: Bearer` and
// writing the exact `WWW-Authenticate: Bearer` challenge the reference
// registry sends (notes/test-peers.md §3).

#include "auth/bearer/bearer.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "test_keys.hpp"

namespace berth::auth {
namespace {

constexpr int64_t kNow = 1'700'000'000;

class BearerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = testkeys::MakeKey(dir_.path(), "signer", "ES256");
    ASSERT_TRUE(key_.key);
    auto trust = testkeys::MakeTrust(dir_.path(), {key_});
    ASSERT_NE(trust, nullptr);
    jwt::VerifyOptions o;
    o.issuer = "berth-token";
    o.audience = "berth";
    gate_ = std::make_unique<BearerGate>(std::make_shared<jwt::JwtVerifier>(trust, o), "R", "S",
                                         [this] { return now_; });
  }

  std::string Token(const std::string& subject = "alice") {
    jwt::Claims c;
    c.issuer = "berth-token";
    c.subject = subject;
    c.audience = "berth";
    c.issued_at = c.not_before = kNow;
    c.expires = kNow + 300;
    c.access = {{"repository", "alice/app", {"pull"}}};
    auto t = jwt::JwtSigner(key_.key).Sign(c);
    EXPECT_TRUE(t.ok());
    return t.ok() ? *t : "";
  }

  testkeys::TempDir dir_;
  testkeys::TestKey key_;
  int64_t now_ = kNow;
  std::unique_ptr<BearerGate> gate_;
};

TEST_F(BearerTest, CheckClassifiesTheAuthorizationHeader) {
  const std::string token = Token();
  struct Case {
    std::optional<std::string> header;
    BearerCheck::Kind want;
  };
  const Case cases[] = {
      {std::nullopt, BearerCheck::kMissing},
      {"", BearerCheck::kMissing},
      {"Basic x", BearerCheck::kMissing},
      {"Basic YWxpY2U6c2VjcmV0", BearerCheck::kMissing},
      {"Bearer", BearerCheck::kMissing},
      {"Bearer" + token, BearerCheck::kMissing},  // no space: another scheme
      {"Bearer " + token, BearerCheck::kOk},
      {"bearer " + token, BearerCheck::kOk},  // the scheme is case-insensitive
      {"BEARER " + token, BearerCheck::kOk},
      {"Bearer   " + token, BearerCheck::kOk},
      {"Bearer ", BearerCheck::kInvalid},
      {"Bearer not-a-token", BearerCheck::kInvalid},
      {"Bearer " + token + "x", BearerCheck::kInvalid},
      {"Bearer " + token + " ", BearerCheck::kInvalid},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header.value_or("<none>").substr(0, 20));
    std::optional<std::string_view> h;
    if (c.header) h = *c.header;
    BearerCheck got = gate_->Check(h);
    EXPECT_EQ(got.kind, c.want);
    if (got.kind == BearerCheck::kOk) {
      EXPECT_EQ(got.claims.subject, "alice");
      EXPECT_EQ(got.claims.access, (std::vector<Scope>{{"repository", "alice/app", {"pull"}}}));
    }
    if (got.kind == BearerCheck::kInvalid) {
      EXPECT_FALSE(got.reason.empty());
    }
  }
}

TEST_F(BearerTest, CheckUsesTheInjectedClock) {
  const std::string header = "Bearer " + Token();
  EXPECT_EQ(gate_->Check(header).kind, BearerCheck::kOk);
  now_ = kNow + 300 + 61;
  BearerCheck late = gate_->Check(header);
  EXPECT_EQ(late.kind, BearerCheck::kInvalid);
  EXPECT_NE(late.reason.find("expired"), std::string::npos) << late.reason;
  now_ = kNow - 61;
  EXPECT_EQ(gate_->Check(header).kind, BearerCheck::kInvalid);
}

TEST_F(BearerTest, ChallengeFormatsExactly) {
  struct Case {
    std::vector<Scope> needed;
    const char* error;
    const char* want;
  };
  const Case cases[] = {
      {{}, "", R"(Bearer realm="R",service="S")"},
      {{{"repository", "a", {"pull"}}},
       "",
       R"(Bearer realm="R",service="S",scope="repository:a:pull")"},
      {{{"repository", "a", {"pull"}}, {"repository", "b", {"pull", "push"}}},
       "",
       R"(Bearer realm="R",service="S",scope="repository:a:pull repository:b:pull,push")"},
      {{{"registry", "catalog", {"*"}}},
       "",
       R"(Bearer realm="R",service="S",scope="registry:catalog:*")"},
      {{{"repository", "a", {"pull"}}},
       "insufficient_scope",
       R"(Bearer realm="R",service="S",scope="repository:a:pull",error="insufficient_scope")"},
      {{}, "invalid_token", R"(Bearer realm="R",service="S",error="invalid_token")"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(gate_->Challenge(c.needed, c.error), c.want);
  }
}

}  // namespace
}  // namespace berth::auth
