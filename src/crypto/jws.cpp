#include "crypto/jws.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdio>

#include "common/base64.hpp"
#include "crypto/hasher.hpp"
#include "crypto/openssl_ptr.hpp"
#include "crypto/self_signed.hpp"

namespace berth::crypto {

void PkeyDeleter::operator()(evp_pkey_st* p) const { EVP_PKEY_free(p); }

namespace {

using ossl::Free;
using X509Ptr = ossl::X509Ptr;
using BnPtr = ossl::Bn;
using MdCtxPtr = ossl::MdCtx;
using SigPtr = ossl::EcdsaSig;

std::string BnBytes(const BIGNUM* bn, int pad) {
  int n = pad > 0 ? pad : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(n), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n);
  return out;
}

std::string Sha256Raw(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

// Curve size in bytes for the EC JWS algorithms; 0 for others.
int CoordinateSize(std::string_view alg) {
  if (alg == "ES256") return 32;
  if (alg == "ES384") return 48;
  if (alg == "ES512") return 66;
  return 0;
}

const EVP_MD* MdFor(std::string_view alg) {
  if (alg.ends_with("256")) return EVP_sha256();
  if (alg.ends_with("384")) return EVP_sha384();
  if (alg.ends_with("512")) return EVP_sha512();
  return nullptr;
}

std::string LibtrustId(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return {};
  std::string h =
      Sha256Raw(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
  OPENSSL_free(der);
  h.resize(30);
  static constexpr char kB32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string b32;
  uint64_t acc = 0;
  int bits = 0;
  for (unsigned char c : h) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      b32 += kB32[(acc >> bits) & 31];
    }
  }
  std::string out;
  for (size_t i = 0; i < b32.size(); i += 4) {
    if (i) out += ':';
    out += b32.substr(i, 4);
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<PublicKey>> MakePublicKey(PkeyPtr pkey) {
  auto key = std::make_shared<PublicKey>();
  EVP_PKEY* p = pkey.get();
  if (EVP_PKEY_get_base_id(p) == EVP_PKEY_EC) {
    char group[64] = {0};
    size_t glen = 0;
    EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen);
    std::string g(group);
    std::string crv;
    int size = 0;
    if (g == "prime256v1" || g == "P-256") {
      key->alg_ = "ES256", crv = "P-256", size = 32;
    } else if (g == "secp384r1" || g == "P-384") {
      key->alg_ = "ES384", crv = "P-384", size = 48;
    } else if (g == "secp521r1" || g == "P-521") {
      key->alg_ = "ES512", crv = "P-521", size = 66;
    } else {
      return Status(Errc::kUnauthorized, "unsupported EC curve " + g);
    }
    BIGNUM* x = nullptr;
    BIGNUM* y = nullptr;
    EVP_PKEY_get_bn_param(p, OSSL_PKEY_PARAM_EC_PUB_X, &x);
    EVP_PKEY_get_bn_param(p, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
    BnPtr bx(x), by(y);
    if (!x || !y) return Status(Errc::kUnauthorized, "cannot read EC public key");
    std::string jwk = R"({"crv":")" + crv + R"(","kty":"EC","x":")" +
                      Base64UrlEncode(BnBytes(x, size)) + R"(","y":")" +
                      Base64UrlEncode(BnBytes(y, size)) + R"("})";
    key->thumbprint_ = Base64UrlEncode(Sha256Raw(jwk));
  } else if (EVP_PKEY_get_base_id(p) == EVP_PKEY_RSA) {
    key->alg_ = "RS256";
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    EVP_PKEY_get_bn_param(p, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(p, OSSL_PKEY_PARAM_RSA_E, &e);
    BnPtr bn(n), be(e);
    if (!n || !e) return Status(Errc::kUnauthorized, "cannot read RSA public key");
    std::string jwk = R"({"e":")" + Base64UrlEncode(BnBytes(e, 0)) + R"(","kty":"RSA","n":")" +
                      Base64UrlEncode(BnBytes(n, 0)) + R"("})";
    key->thumbprint_ = Base64UrlEncode(Sha256Raw(jwk));
  } else {
    return Status(Errc::kUnauthorized, "unsupported key type (use EC or RSA)");
  }
  key->libtrust_id_ = LibtrustId(p);
  key->pkey_ = std::move(pkey);
  return key;
}

Result<std::shared_ptr<PublicKey>> PublicKey::FromCertificateDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return Status(Errc::kUnauthorized, "malformed certificate");
  PkeyPtr pkey(X509_get_pubkey(cert.get()));
  if (!pkey) return Status(Errc::kUnauthorized, "certificate has no usable public key");
  return MakePublicKey(std::move(pkey));
}

bool PublicKey::SupportsAlg(std::string_view alg) const {
  if (alg_ == "RS256") return alg == "RS256" || alg == "RS384" || alg == "RS512";
  return alg == alg_;
}

bool PublicKey::Verify(std::string_view alg, std::string_view input,
                       std::string_view signature) const {
  if (!SupportsAlg(alg)) return false;
  const EVP_MD* md = MdFor(alg);
  if (!md) return false;
  std::string sig(signature);
  if (int size = CoordinateSize(alg)) {
    if (signature.size() != 2 * static_cast<size_t>(size)) return false;
    const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
    SigPtr es(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(raw, size, nullptr);
    BIGNUM* s = BN_bin2bn(raw + size, size, nullptr);
    if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return false;
    }
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(es.get(), &der);
    if (len <= 0) return false;
    sig.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey_.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

Result<std::unique_ptr<SigningKey>> SigningKey::Load(const std::string& key_path,
                                                     const std::string& cert_path) {
  FILE* kf = std::fopen(key_path.c_str(), "r");
  if (!kf) return Status(Errc::kInternal, "cannot read token signing key " + key_path);
  PkeyPtr key(PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr));
  std::fclose(kf);
  if (!key) return Status(Errc::kInternal, "token signing key " + key_path + " is not a PEM key");
  FILE* cf = std::fopen(cert_path.c_str(), "r");
  if (!cf) return Status(Errc::kInternal, "cannot read token certificate " + cert_path);
  X509Ptr cert(PEM_read_X509(cf, nullptr, nullptr, nullptr));
  std::fclose(cf);
  if (!cert) return Status(Errc::kInternal, cert_path + " is not a PEM certificate");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return Status(Errc::kInternal, cert_path + " does not match " + key_path);
  }
  auto out = std::make_unique<SigningKey>();
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len <= 0) return Status(Errc::kInternal, "cannot encode " + cert_path);
  out->cert_der_.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  auto pub = PublicKey::FromCertificateDer(out->cert_der_);
  if (!pub) return Status(Errc::kInternal, "token certificate: " + pub.status().message());
  out->public_ = *pub;
  out->key_ = std::move(key);
  return out;
}

void SigningKey::Generate(const std::string& key_path, const std::string& cert_path,
                          const std::string& alg, const std::string& common_name) {
  WriteSigningCertificate(cert_path, key_path, common_name, alg == "RS256");
}

Result<std::string> SigningKey::Sign(std::string_view input) const {
  const EVP_MD* md = MdFor(alg());
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.get()) != 1) {
    return Status(Errc::kInternal, "sign init failed");
  }
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1) {
    return Status(Errc::kInternal, "sign failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     input.size()) != 1) {
    return Status(Errc::kInternal, "sign failed");
  }
  sig.resize(len);
  if (int size = CoordinateSize(alg())) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    SigPtr es(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
    if (!es) return Status(Errc::kInternal, "bad ECDSA signature encoding");
    return BnBytes(ECDSA_SIG_get0_r(es.get()), size) + BnBytes(ECDSA_SIG_get0_s(es.get()), size);
  }
  return sig;
}

TrustStore::~TrustStore() { X509_STORE_free(store_); }

Result<std::unique_ptr<TrustStore>> TrustStore::Load(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return Status(Errc::kInternal, "cannot read token certificate bundle " + path);
  std::unique_ptr<TrustStore> ts(new TrustStore());
  ts->store_ = X509_STORE_new();
  while (X509* c = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
    X509Ptr cert(c);
    X509_STORE_add_cert(ts->store_, cert.get());
    PkeyPtr pkey(X509_get_pubkey(cert.get()));
    if (!pkey) continue;
    auto key = MakePublicKey(std::move(pkey));
    if (key) ts->keys_.push_back(*key);
  }
  std::fclose(f);
  if (ts->keys_.empty()) return Status(Errc::kInternal, path + " holds no usable certificate");
  return ts;
}

Result<std::shared_ptr<PublicKey>> TrustStore::KeyForChain(
    const std::vector<std::string>& der_chain) const {
  if (der_chain.empty()) return Status(Errc::kUnauthorized, "empty x5c");
  std::string cache_key;
  for (const auto& der : der_chain) cache_key += std::to_string(der.size()) + ":" + der;
  if (auto hit = verified_.Lookup(cache_key)) return std::move(*hit);
  auto key = VerifyChain(der_chain);
  if (key) verified_.Insert(cache_key, *key, std::chrono::hours(1));
  return key;
}

Result<std::shared_ptr<PublicKey>> TrustStore::VerifyChain(
    const std::vector<std::string>& der_chain) const {
  auto parse = [](const std::string& der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  };
  X509Ptr leaf = parse(der_chain[0]);
  if (!leaf) return Status(Errc::kUnauthorized, "malformed x5c certificate");
  struct StackFree {
    void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
  };
  std::unique_ptr<STACK_OF(X509), StackFree> rest(sk_X509_new_null());
  std::vector<X509Ptr> owned;
  for (size_t i = 1; i < der_chain.size(); ++i) {
    X509Ptr c = parse(der_chain[i]);
    if (!c) return Status(Errc::kUnauthorized, "malformed x5c certificate");
    sk_X509_push(rest.get(), c.get());
    owned.push_back(std::move(c));
  }
  std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store_, leaf.get(), rest.get()) != 1) {
    return Status(Errc::kInternal, "x509 verify init failed");
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);
  if (X509_verify_cert(ctx.get()) != 1) {
    return Status(Errc::kUnauthorized,
                  std::string("x5c not trusted: ") +
                      X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  PkeyPtr pkey(X509_get_pubkey(leaf.get()));
  if (!pkey) return Status(Errc::kUnauthorized, "x5c certificate has no usable key");
  return MakePublicKey(std::move(pkey));
}

std::shared_ptr<PublicKey> TrustStore::KeyForKid(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (k->thumbprint() == kid || k->libtrust_id() == kid) return k;
  }
  return nullptr;
}

}  // namespace berth::crypto
