// Tests for crypto/jws.hpp: RFC 7515 Appendix A.2 (RS256) and A.3 (ES256)
// signatures, RFC 7638 thumbprints and libtrust key ids against published
// vectors (distribution jwt.md, notes/test-peers.md §3), signing with
// generated keys, and the trust store.

#include "crypto/jws.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <string>

#include "common/base64.hpp"
#include "../auth/test_keys.hpp"
#include "jose_vectors.hpp"

namespace berth::crypto {
namespace {

using namespace jose_vectors;  // NOLINT: test data

std::string Url(std::string_view text) {
  auto bytes = Base64UrlDecode(text);
  EXPECT_TRUE(bytes) << text;
  return bytes.value_or("");
}

// A PublicKey for a bare EVP_PKEY, through a certificate (the only way in).
std::shared_ptr<PublicKey> ToPublicKey(EVP_PKEY* pkey) {
  EXPECT_NE(pkey, nullptr);
  if (!pkey) return nullptr;
  auto key = PublicKey::FromCertificateDer(testkeys::WrapInCertificate(pkey));
  EVP_PKEY_free(pkey);
  EXPECT_TRUE(key.ok()) << key.status().message();
  return key.ok() ? *key : nullptr;
}

EVP_PKEY* FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (ctx && EVP_PKEY_fromdata_init(ctx) == 1) {
    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return pkey;
}

std::shared_ptr<PublicKey> RsaKey(const char* n_b64url, const char* e_b64url) {
  std::string n = Url(n_b64url), e = Url(e_b64url);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), int(n.size()), nullptr);
  BIGNUM* be = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), int(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be);
  EVP_PKEY* pkey = FromParams("RSA", bld);
  BN_free(bn);
  BN_free(be);
  return ToPublicKey(pkey);
}

std::shared_ptr<PublicKey> P256Key(const char* x_b64url, const char* y_b64url) {
  std::string point = "\x04" + Url(x_b64url) + Url(y_b64url);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  return ToPublicKey(FromParams("EC", bld));
}

TEST(JwsTest, Rfc7515A2Rs256Verifies) {
  auto key = RsaKey(kA2N, "AQAB");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->alg(), "RS256");
  const std::string input = std::string(kA2Input) + kPayload;
  const std::string sig = Url(kA2Sig);
  EXPECT_TRUE(key->Verify("RS256", input, sig));
  // Any change to input, signature or algorithm breaks it.
  EXPECT_FALSE(key->Verify("RS256", input + "x", sig));
  std::string bad = sig;
  bad[10] ^= 1;
  EXPECT_FALSE(key->Verify("RS256", input, bad));
  EXPECT_FALSE(key->Verify("RS384", input, sig));
  EXPECT_FALSE(key->Verify("ES256", input, sig));
  EXPECT_FALSE(key->Verify("HS256", input, sig));
  EXPECT_FALSE(key->Verify("none", input, ""));
}

TEST(JwsTest, Rfc7515A3Es256VerifiesRawSignatureOnly) {
  auto key = P256Key(kA3X, kA3Y);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->alg(), "ES256");
  const std::string input = std::string(kA3Input) + kPayload;
  const std::string sig = Url(kA3Sig);
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(key->Verify("ES256", input, sig));
  EXPECT_FALSE(key->Verify("ES256", input + "x", sig));
  std::string bad = sig;
  bad[40] ^= 1;
  EXPECT_FALSE(key->Verify("ES256", input, bad));
  EXPECT_FALSE(key->Verify("ES256", input, sig.substr(0, 63)));
  EXPECT_FALSE(key->Verify("ES384", input, sig));
  EXPECT_FALSE(key->Verify("RS256", input, sig));

  // The DER form of the same signature is not a JOSE signature.
  ECDSA_SIG* es = ECDSA_SIG_new();
  ECDSA_SIG_set0(es, BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(es, &der);
  ASSERT_GT(len, 0);
  EXPECT_FALSE(key->Verify("ES256", input, std::string(reinterpret_cast<char*>(der), size_t(len))));
  OPENSSL_free(der);
  ECDSA_SIG_free(es);
}

TEST(JwsTest, ThumbprintMatchesRfc7638Example) {
  auto key = RsaKey(kRfc7638N, "AQAB");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(JwsTest, EcKeyIdsMatchDistributionSpecVector) {
  // The same key two ways: from x/y and from its SPKI.
  auto from_xy = P256Key(kSpecX, kSpecY);
  auto spki = Base64Decode(kSpecSpki);
  ASSERT_TRUE(spki);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(spki->data());
  auto from_spki = ToPublicKey(d2i_PUBKEY(nullptr, &p, long(spki->size())));
  for (const auto& key : {from_xy, from_spki}) {
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(key->libtrust_id(), "PYYO:TEWU:V7JH:26JV:AQTZ:LJC3:SXVJ:XGHA:34F2:2LAQ:ZRMK:Z7Q6");
    EXPECT_EQ(key->thumbprint(), "8qjioA3ZA7ti2JIE7c-U8smBFuZolQZvhSHDPU3hhB8");
    EXPECT_EQ(key->alg(), "ES256");
  }
}

TEST(JwsTest, RsaKeyIdsMatchRegistryVector) {
  BIO* bio = BIO_new_mem_buf(kRsaPem, -1);
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  auto key = ToPublicKey(pkey);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->libtrust_id(), "TGYR:2WLE:KVYI:4ABY:T7EH:UD3U:EAFL:SBTZ:TFGF:Z4GD:NFIC:2CJY");
  EXPECT_EQ(key->thumbprint(), "xEp9Xwo1sa974nUIBsQ8wnt7X6a1vLwU7jRBcVNpuuA");
  EXPECT_EQ(key->alg(), "RS256");
  EXPECT_TRUE(key->SupportsAlg("RS384"));
  EXPECT_TRUE(key->SupportsAlg("RS512"));
  EXPECT_FALSE(key->SupportsAlg("ES256"));
  EXPECT_FALSE(key->SupportsAlg("PS256"));
}

TEST(JwsTest, MalformedCertificateIsRefused) {
  auto key = PublicKey::FromCertificateDer("not a certificate");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), Errc::kUnauthorized);
}

class JwsKeysTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testkeys::TempDir();
    es_ = new testkeys::TestKey(testkeys::MakeKey(dir_->path(), "es", "ES256"));
    rs_ = new testkeys::TestKey(testkeys::MakeKey(dir_->path(), "rs", "RS256"));
    other_ = new testkeys::TestKey(testkeys::MakeKey(dir_->path(), "other", "ES256"));
  }
  static void TearDownTestSuite() {
    delete es_;
    delete rs_;
    delete other_;
    delete dir_;
  }
  static testkeys::TempDir* dir_;
  static testkeys::TestKey *es_, *rs_, *other_;
};
testkeys::TempDir* JwsKeysTest::dir_ = nullptr;
testkeys::TestKey* JwsKeysTest::es_ = nullptr;
testkeys::TestKey* JwsKeysTest::rs_ = nullptr;
testkeys::TestKey* JwsKeysTest::other_ = nullptr;

TEST_F(JwsKeysTest, SignVerifyRoundTrips) {
  ASSERT_TRUE(es_->key && rs_->key && other_->key);
  EXPECT_EQ(es_->key->alg(), "ES256");
  EXPECT_EQ(rs_->key->alg(), "RS256");
  for (const auto* k : {es_, rs_}) {
    SCOPED_TRACE(k->key->alg());
    const std::string input = "header.claims";
    auto sig = k->key->Sign(input);
    ASSERT_TRUE(sig.ok()) << sig.status().message();
    EXPECT_EQ(sig->size(), k->key->alg() == "ES256" ? 64u : 256u);  // raw R||S; RSA-2048
    EXPECT_TRUE(k->key->public_key().Verify(k->key->alg(), input, *sig));
    EXPECT_FALSE(k->key->public_key().Verify(k->key->alg(), input + ".", *sig));
    EXPECT_FALSE(other_->key->public_key().Verify(k->key->alg(), input, *sig));
  }
  // The certificate DER round-trips to the same public key.
  auto pub = PublicKey::FromCertificateDer(es_->key->certificate_der());
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ((*pub)->thumbprint(), es_->key->public_key().thumbprint());
  EXPECT_EQ((*pub)->libtrust_id(), es_->key->public_key().libtrust_id());
  EXPECT_NE(es_->key->public_key().thumbprint(), other_->key->public_key().thumbprint());
}

TEST_F(JwsKeysTest, EcdsaSignaturesAreAlwaysPaddedToTheCurveSize) {
  // About 1 signature in 128 has an R or S with a leading zero byte; 2000
  // make missing that case vanishingly unlikely (p < 1e-6).
  int short_parts = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string input = "input-" + std::to_string(i);
    auto sig = es_->key->Sign(input);
    ASSERT_TRUE(sig.ok());
    ASSERT_EQ(sig->size(), 64u) << i;
    ASSERT_TRUE(es_->key->public_key().Verify("ES256", input, *sig)) << i;
    short_parts += ((*sig)[0] == 0) + ((*sig)[32] == 0);
  }
  EXPECT_GT(short_parts, 0);
}

TEST_F(JwsKeysTest, RsaKeyVerifiesRs384AndRs512) {
  BIO* bio = BIO_new_file((dir_->path() + "/rs.key").c_str(), "r");
  ASSERT_NE(bio, nullptr);
  EVP_PKEY* priv = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(priv, nullptr);
  const std::string input = "header.claims";
  for (auto [alg, md] : {std::pair{"RS384", EVP_sha384()}, std::pair{"RS512", EVP_sha512()}}) {
    SCOPED_TRACE(alg);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 512;
    std::string sig(len, '\0');
    ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, md, nullptr, priv), 1);
    ASSERT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
              1);
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    EXPECT_TRUE(rs_->key->public_key().Verify(alg, input, sig));
    EXPECT_FALSE(rs_->key->public_key().Verify("RS256", input, sig));  // digest must match alg
  }
  EVP_PKEY_free(priv);
}

TEST_F(JwsKeysTest, LoadRejectsMissingOrMismatchedFiles) {
  const std::string d = dir_->path();
  EXPECT_EQ(SigningKey::Load(d + "/none.key", es_->cert_path).status().code(), Errc::kInternal);
  EXPECT_EQ(SigningKey::Load(d + "/es.key", d + "/none.crt").status().code(), Errc::kInternal);
  EXPECT_EQ(SigningKey::Load(d + "/es.key", other_->cert_path).status().code(), Errc::kInternal);
  EXPECT_EQ(SigningKey::Load(es_->cert_path, es_->cert_path).status().code(), Errc::kInternal);
}

TEST_F(JwsKeysTest, TrustStoreFindsKeysByChainAndKid) {
  auto trust = testkeys::MakeTrust(dir_->path(), {*es_, *rs_});
  ASSERT_NE(trust, nullptr);
  auto by_chain = trust->KeyForChain({es_->key->certificate_der()});
  ASSERT_TRUE(by_chain.ok()) << by_chain.status().message();
  EXPECT_EQ((*by_chain)->thumbprint(), es_->key->public_key().thumbprint());

  auto untrusted = trust->KeyForChain({other_->key->certificate_der()});
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), Errc::kUnauthorized);
  EXPECT_EQ(trust->KeyForChain({}).status().code(), Errc::kUnauthorized);
  EXPECT_EQ(trust->KeyForChain({"junk"}).status().code(), Errc::kUnauthorized);
  EXPECT_EQ(trust->KeyForChain({es_->key->certificate_der(), "junk"}).status().code(),
            Errc::kUnauthorized);

  for (const auto* k : {es_, rs_}) {
    const PublicKey& pub = k->key->public_key();
    auto a = trust->KeyForKid(pub.thumbprint());
    auto b = trust->KeyForKid(pub.libtrust_id());
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(a->thumbprint(), pub.thumbprint());
    EXPECT_EQ(b->thumbprint(), pub.thumbprint());
  }
  EXPECT_EQ(trust->KeyForKid(other_->key->public_key().thumbprint()), nullptr);
  EXPECT_EQ(trust->KeyForKid(""), nullptr);
}

TEST_F(JwsKeysTest, TrustStoreLoadFailures) {
  EXPECT_EQ(TrustStore::Load(dir_->path() + "/missing.pem").status().code(), Errc::kInternal);
  const std::string empty = dir_->path() + "/empty.pem";
  std::ofstream(empty) << "no certificates here\n";
  EXPECT_EQ(TrustStore::Load(empty).status().code(), Errc::kInternal);
}

}  // namespace
}  // namespace berth::crypto
