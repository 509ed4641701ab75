// Tests for auth/jwt/jwt.hpp: the tokens JwtSigner makes (distribution
// jwt.md: typ/alg/kid/x5c header, integer times, string aud, raw ECDSA
// signatures) and the tokens JwtVerifier must refuse (forged, tampered,
// misaddressed, expired, malformed), plus its cache.

#include "auth/jwt/jwt.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <limits>
#include <string>
#include <vector>

#include "common/base64.hpp"
#include "test_keys.hpp"

namespace berth::auth::jwt {
namespace {

namespace json = boost::json;
using testkeys::TestKey;

constexpr int64_t kNow = 1'700'000'000;

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testkeys::TempDir();
    es_ = new TestKey(testkeys::MakeKey(dir_->path(), "es", "ES256"));
    rs_ = new TestKey(testkeys::MakeKey(dir_->path(), "rs", "RS256"));
    other_ = new TestKey(testkeys::MakeKey(dir_->path(), "other", "ES256"));
    trust_ = new std::shared_ptr<const crypto::TrustStore>(
        testkeys::MakeTrust(dir_->path(), {*es_, *rs_}));
  }
  static void TearDownTestSuite() {
    delete trust_;
    delete es_;
    delete rs_;
    delete other_;
    delete dir_;
  }
  void SetUp() override { ASSERT_TRUE(es_->key && rs_->key && other_->key && *trust_); }

  static VerifyOptions Options() {
    VerifyOptions o;
    o.issuer = "berth-token";
    o.audience = "berth";
    return o;
  }
  static JwtVerifier Verifier(VerifyOptions o = Options()) { return JwtVerifier(*trust_, o); }

  static Claims SampleClaims() {
    Claims c;
    c.issuer = "berth-token";
    c.subject = "alice";
    c.audience = "berth";
    c.issued_at = kNow;
    c.not_before = kNow;
    c.expires = kNow + 300;
    c.id = "jti-1";
    c.access = {{"repository", "alice/app", {"pull", "push"}}};
    return c;
  }
  // The claims JwtSigner would write, as JSON, to forge variants of.
  static json::object ClaimsJson() {
    return json::object{
        {"iss", "berth-token"},
        {"sub", "alice"},
        {"aud", "berth"},
        {"exp", kNow + 300},
        {"nbf", kNow},
        {"iat", kNow},
        {"jti", "jti-1"},
        {"access", json::array{json::object{{"type", "repository"},
                                            {"name", "alice/app"},
                                            {"actions", json::array{"pull", "push"}}}}}};
  }
  static json::object Header(const TestKey& k, bool x5c = true, bool kid = true) {
    json::object h{{"typ", "JWT"}, {"alg", k.key->alg()}};
    if (kid) h["kid"] = k.key->public_key().thumbprint();
    if (x5c) h["x5c"] = json::array{json::string(Base64Encode(k.key->certificate_der()))};
    return h;
  }
  static std::string Token(const json::object& claims) {
    return testkeys::SignedToken(Header(*es_), claims, *es_->key);
  }
  // alg "none" with an empty signature.
  static std::string NoneToken() {
    json::object h = Header(*es_);
    h["alg"] = "none";
    return testkeys::SigningInput(h, ClaimsJson()) + ".";
  }
  // HS256 keyed with the trusted certificate (the classic key-confusion forgery).
  static std::string HsToken() {
    json::object h = Header(*es_);
    h["alg"] = "HS256";
    const std::string input = testkeys::SigningInput(h, ClaimsJson());
    return input + "." + Base64UrlEncode(testkeys::HmacSha256(es_->key->certificate_der(), input));
  }

  static testkeys::TempDir* dir_;
  static TestKey *es_, *rs_, *other_;
  static std::shared_ptr<const crypto::TrustStore>* trust_;
};
testkeys::TempDir* JwtTest::dir_ = nullptr;
TestKey* JwtTest::es_ = nullptr;
TestKey* JwtTest::rs_ = nullptr;
TestKey* JwtTest::other_ = nullptr;
std::shared_ptr<const crypto::TrustStore>* JwtTest::trust_ = nullptr;

TEST_F(JwtTest, SignerWritesTheDockerTokenFormat) {
  for (const TestKey* k : {es_, rs_}) {
    SCOPED_TRACE(k->key->alg());
    JwtSigner signer(k->key);
    EXPECT_EQ(signer.alg(), k->key->alg());
    auto token = signer.Sign(SampleClaims());
    ASSERT_TRUE(token.ok()) << token.status().message();
    ASSERT_EQ(std::count(token->begin(), token->end(), '.'), 2);

    json::value header = testkeys::DecodePart(*token, 0);
    ASSERT_TRUE(header.is_object());
    const json::object& h = header.as_object();
    EXPECT_EQ(h.at("typ"), "JWT");
    EXPECT_EQ(h.at("alg"), json::string(k->key->alg()));
    EXPECT_EQ(h.at("kid"), json::string(k->key->public_key().thumbprint()));
    ASSERT_TRUE(h.at("x5c").is_array());
    ASSERT_EQ(h.at("x5c").as_array().size(), 1u);
    // x5c is standard (padded) base64 of the certificate DER, not base64url.
    std::string x5c(h.at("x5c").as_array()[0].as_string());
    EXPECT_EQ(x5c, Base64Encode(k->key->certificate_der()));
    EXPECT_EQ(Base64Decode(x5c), k->key->certificate_der());

    json::value claims = testkeys::DecodePart(*token, 1);
    ASSERT_TRUE(claims.is_object());
    const json::object& c = claims.as_object();
    EXPECT_EQ(c.at("iss"), "berth-token");
    EXPECT_EQ(c.at("sub"), "alice");
    EXPECT_TRUE(c.at("aud").is_string());  // registry 2.8 refuses an array
    EXPECT_EQ(c.at("aud"), "berth");
    for (const char* t : {"exp", "nbf", "iat"}) EXPECT_TRUE(c.at(t).is_int64()) << t;
    EXPECT_EQ(c.at("exp").as_int64(), kNow + 300);
    EXPECT_EQ(c.at("jti"), "jti-1");
    EXPECT_EQ(json::serialize(c.at("access")),
              R"([{"type":"repository","name":"alice/app","actions":["pull","push"]}])");

    auto sig = Base64UrlDecode(std::string_view(*token).substr(token->rfind('.') + 1));
    ASSERT_TRUE(sig);
    EXPECT_EQ(sig->size(), k->key->alg() == "ES256" ? 64u : 256u);
  }
}

TEST_F(JwtTest, SignVerifyRoundTrips) {
  for (const TestKey* k : {es_, rs_}) {
    SCOPED_TRACE(k->key->alg());
    auto token = JwtSigner(k->key).Sign(SampleClaims());
    ASSERT_TRUE(token.ok());
    auto c = Verifier().Verify(*token, kNow);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->issuer, "berth-token");
    EXPECT_EQ(c->subject, "alice");
    EXPECT_EQ(c->audience, "berth");
    EXPECT_EQ(c->issued_at, kNow);
    EXPECT_EQ(c->not_before, kNow);
    EXPECT_EQ(c->expires, kNow + 300);
    EXPECT_EQ(c->id, "jti-1");
    EXPECT_EQ(c->access, SampleClaims().access);
  }
}

TEST_F(JwtTest, AcceptsOtherWaysOfNamingTheKeyAndAudience) {
  json::object aud_array = ClaimsJson();
  aud_array["aud"] = json::array{"other", "berth"};
  json::object exp_in_leeway = ClaimsJson();
  exp_in_leeway["exp"] = kNow - 60;
  json::object nbf_in_leeway = ClaimsJson();
  nbf_in_leeway["nbf"] = kNow + 60;
  json::object bare = ClaimsJson();  // no nbf, iat, sub, jti, access
  for (const char* k : {"nbf", "iat", "sub", "jti", "access"}) bare.erase(k);
  json::object with_class = ClaimsJson();
  with_class["access"].as_array()[0].as_object()["type"] = "repository(plugin)";

  json::object libtrust_kid = Header(*es_, false, false);
  libtrust_kid["kid"] = es_->key->public_key().libtrust_id();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"aud array holding the audience", Token(aud_array)},
      {"exp 60 s ago (leeway)", Token(exp_in_leeway)},
      {"nbf 60 s ahead (leeway)", Token(nbf_in_leeway)},
      {"only the required claims", Token(bare)},
      {"resource class", Token(with_class)},
      {"x5c only", testkeys::SignedToken(Header(*es_, true, false), ClaimsJson(), *es_->key)},
      {"thumbprint kid only", testkeys::SignedToken(Header(*es_, false), ClaimsJson(), *es_->key)},
      {"libtrust kid only", testkeys::SignedToken(libtrust_kid, ClaimsJson(), *es_->key)},
      {"RS256 kid only", testkeys::SignedToken(Header(*rs_, false), ClaimsJson(), *rs_->key)},
  };
  for (const auto& [name, token] : cases) {
    SCOPED_TRACE(name);
    auto c = Verifier().Verify(token, kNow);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->audience, "berth");
  }
  auto c = Verifier().Verify(Token(with_class), kNow);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->access.size(), 1u);
  EXPECT_EQ(c->access[0].type, "repository");
}

TEST_F(JwtTest, RejectsForgedAndInvalidTokens) {
  const std::string good = Token(ClaimsJson());
  const std::string head = good.substr(0, good.find('.'));
  const std::string sig = good.substr(good.rfind('.') + 1);
  auto with = [](const char* key, json::value v) {
    json::object c = ClaimsJson();
    c[key] = std::move(v);
    return Token(c);
  };
  auto without = [](const char* key) {
    json::object c = ClaimsJson();
    c.erase(key);
    return Token(c);
  };
  auto header = [](json::object h) { return testkeys::SignedToken(h, ClaimsJson(), *es_->key); };
  auto raw = [](const std::string& input) {  // signs exactly `input`
    return input + "." + Base64UrlEncode(es_->key->Sign(input).value());
  };

  std::string bad_sig = *Base64UrlDecode(sig);
  bad_sig[5] ^= 0x01;
  json::object tampered = ClaimsJson();
  tampered["access"].as_array()[0].as_object()["name"] = "bob/app";
  json::object es_alg_rsa_key = Header(*rs_);
  es_alg_rsa_key["alg"] = "ES256";

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"alg none, empty signature", NoneToken()},
      {"HS256 keyed with the trusted certificate", HsToken()},
      {"other key, trusted kid",
       testkeys::SignedToken(Header(*es_, false), ClaimsJson(), *other_->key)},
      {"other key, trusted x5c", testkeys::SignedToken(Header(*es_), ClaimsJson(), *other_->key)},
      {"self-signed x5c not in the trust store", *JwtSigner(other_->key).Sign(SampleClaims())},
      {"untrusted kid", testkeys::SignedToken(Header(*other_, false), ClaimsJson(), *other_->key)},
      {"no x5c and no kid", header(Header(*es_, false, false))},
      {"x5c not an array", header(json::object{{"alg", "ES256"}, {"x5c", "abc"}})},
      {"x5c empty", header(json::object{{"alg", "ES256"}, {"x5c", json::array{}}})},
      {"x5c junk", header(json::object{{"alg", "ES256"}, {"x5c", json::array{"!!"}}})},
      {"no alg", header(json::object{{"kid", es_->key->public_key().thumbprint()}})},
      {"alg the key does not do", testkeys::SignedToken(es_alg_rsa_key, ClaimsJson(), *rs_->key)},
      {"tampered payload", head + "." + Base64UrlEncode(json::serialize(tampered)) + "." + sig},
      {"tampered signature", good.substr(0, good.rfind('.')) + "." + Base64UrlEncode(bad_sig)},
      {"wrong iss", with("iss", "someone-else")},
      {"missing iss", without("iss")},
      {"wrong aud", with("aud", "other")},
      {"aud array without the audience", with("aud", json::array{"other", "more"})},
      {"aud empty array", with("aud", json::array{})},
      {"missing aud", without("aud")},
      {"exp 61 s ago", with("exp", kNow - 61)},
      {"nbf 61 s ahead", with("nbf", kNow + 61)},
      {"exp as a float", with("exp", double(kNow + 300) + 0.5)},
      {"exp as a string", with("exp", json::string(std::to_string(kNow + 300)))},
      {"missing exp", without("exp")},
      {"nbf as a float", with("nbf", double(kNow))},
      {"access not an array", with("access", "repository:alice/app:pull")},
      {"claims not an object", raw(head + "." + Base64UrlEncode("[]"))},
      {"claims not JSON", raw(head + "." + Base64UrlEncode("{\"iss\":"))},
      {"two parts", head + "." + sig},
      {"four parts", good + ".x"},
      {"empty", ""},
      {"only dots", ".."},
      {"padded base64", head + "=." + good.substr(head.size() + 1)},
      {"bad base64", "!!!." + good.substr(head.size() + 1)},
      {"header not JSON", Base64UrlEncode("not json") + good.substr(head.size())},
      {"header a JSON array", Base64UrlEncode("[1]") + good.substr(head.size())},
  };
  const JwtVerifier v = Verifier();
  for (const auto& [name, token] : cases) {
    SCOPED_TRACE(name);
    auto c = v.Verify(token, kNow);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), Errc::kUnauthorized) << c.status().message();
  }
  EXPECT_TRUE(v.Verify(good, kNow).ok());  // the control
}

TEST_F(JwtTest, AlgorithmAllowList) {
  VerifyOptions rs_only = Options();
  rs_only.algorithms = {"RS256"};
  const JwtVerifier v = Verifier(rs_only);
  EXPECT_EQ(v.Verify(Token(ClaimsJson()), kNow).status().code(), Errc::kUnauthorized);
  EXPECT_TRUE(v.Verify(*JwtSigner(rs_->key).Sign(SampleClaims()), kNow).ok());

  // "none" and HS* stay refused even when listed.
  VerifyOptions unsafe = Options();
  unsafe.algorithms = {"none", "HS256", "ES256"};
  const JwtVerifier u = Verifier(unsafe);
  EXPECT_FALSE(u.Verify(NoneToken(), kNow).ok());
  EXPECT_FALSE(u.Verify(HsToken(), kNow).ok());
  EXPECT_TRUE(u.Verify(Token(ClaimsJson()), kNow).ok());
}

TEST_F(JwtTest, CacheKeepsCheckingTimes) {
  for (size_t entries : {size_t{10000}, size_t{1}, size_t{0}}) {
    SCOPED_TRACE(entries);
    VerifyOptions o = Options();
    o.cache_entries = entries;
    const JwtVerifier v = Verifier(o);
    const std::string token = Token(ClaimsJson());
    auto first = v.Verify(token, kNow);
    auto second = v.Verify(token, kNow + 10);
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second->subject, first->subject);
    EXPECT_EQ(second->expires, first->expires);
    EXPECT_EQ(second->access, first->access);
    // Once expired (past the leeway) the cached token is refused too.
    EXPECT_TRUE(v.Verify(token, kNow + 300 + 60).ok());
    EXPECT_EQ(v.Verify(token, kNow + 300 + 61).status().code(), Errc::kUnauthorized);
    EXPECT_EQ(v.Verify(token, kNow - 61).status().code(), Errc::kUnauthorized);
    // Another token evicts or joins; both still verify.
    json::object c2 = ClaimsJson();
    c2["sub"] = "bob";
    auto bob = v.Verify(Token(c2), kNow);
    ASSERT_TRUE(bob.ok());
    EXPECT_EQ(bob->subject, "bob");
    EXPECT_EQ(v.Verify(token, kNow)->subject, "alice");
  }
}

// Times at the ends of int64 (found by the jwt fuzz target: exp 2e10
// overflowed the cache's nanoseconds). Under UBSan an overflow aborts the
// test; without it the answers below still have to be right.
TEST_F(JwtTest, ExtremeTimesNeitherOverflowNorPass) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const JwtVerifier v = Verifier();
  for (int64_t exp : {kMax, kMax - 1, int64_t{20000000360}}) {
    SCOPED_TRACE(exp);
    json::object c = ClaimsJson();
    c["exp"] = exp;
    const std::string token = Token(c);
    EXPECT_TRUE(v.Verify(token, kNow).ok());
    EXPECT_TRUE(v.Verify(token, kNow + 1000).ok());  // from the cache
  }
  for (int64_t exp : {kMin, kMin + 1, int64_t{0}}) {
    SCOPED_TRACE(exp);
    json::object c = ClaimsJson();
    c["exp"] = exp;
    EXPECT_EQ(v.Verify(Token(c), kNow).status().code(), Errc::kUnauthorized);
  }
  json::object late = ClaimsJson();
  late["nbf"] = kMax;
  EXPECT_EQ(v.Verify(Token(late), kNow).status().code(), Errc::kUnauthorized);
  json::object early = ClaimsJson();
  early["nbf"] = kMin;
  EXPECT_TRUE(v.Verify(Token(early), kNow).ok());
}

}  // namespace
}  // namespace berth::auth::jwt
