// JWS signing and verification over OpenSSL EVP (RFC 7515/7518): ES256
// (raw R||S, not DER), ES384, ES512 and RS256/384/512. Keys come with the
// X.509 certificate that vouches for them, so tokens can carry x5c.
//
// Thread-safety: SigningKey, PublicKey and TrustStore are immutable after
// loading and safe to share between threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/ttl_cache.hpp"

struct evp_pkey_st;
struct x509_store_st;

namespace berth::crypto {

struct PkeyDeleter {
  void operator()(evp_pkey_st* p) const;
};
using PkeyPtr = std::unique_ptr<evp_pkey_st, PkeyDeleter>;

// A public key that can check JWS signatures.
class PublicKey {
 public:
  // From a DER X.509 certificate; kInternal... (kUnauthorized) when unusable.
  static Result<std::shared_ptr<PublicKey>> FromCertificateDer(std::string_view der);

  // The JWS algorithm this key signs with: ES256/ES384/ES512 for P-256/384/521,
  // RS256 for RSA (RSA also verifies RS384/RS512).
  const std::string& alg() const { return alg_; }
  bool SupportsAlg(std::string_view alg) const;
  // RFC 7638 JWK SHA-256 thumbprint, base64url.
  const std::string& thumbprint() const { return thumbprint_; }
  // The libtrust key id the reference registry 2.x uses for `kid`.
  const std::string& libtrust_id() const { return libtrust_id_; }

  // Checks `signature` (JOSE form) over `input` with algorithm `alg`.
  bool Verify(std::string_view alg, std::string_view input, std::string_view signature) const;

  evp_pkey_st* pkey() const { return pkey_.get(); }

 private:
  PkeyPtr pkey_;
  std::string alg_, thumbprint_, libtrust_id_;
  friend class SigningKey;
  friend Result<std::shared_ptr<PublicKey>> MakePublicKey(PkeyPtr pkey);
};

// A private key with its certificate, for signing tokens.
class SigningKey {
 public:
  // Loads a PEM private key and a PEM certificate whose public key matches.
  static Result<std::unique_ptr<SigningKey>> Load(const std::string& key_path,
                                                  const std::string& cert_path);
  // Writes a new key (mode 0600) and a self-signed certificate for it:
  // "ES256" (P-256) or "RS256" (RSA 2048). Start-up only: throws on failure.
  static void Generate(const std::string& key_path, const std::string& cert_path,
                       const std::string& alg, const std::string& common_name);

  const std::string& alg() const { return public_->alg(); }
  const PublicKey& public_key() const { return *public_; }
  // DER of the certificate, for the x5c header.
  const std::string& certificate_der() const { return cert_der_; }

  // The JOSE signature of `input` (for ECDSA: R||S, each padded to the curve size).
  Result<std::string> Sign(std::string_view input) const;

 private:
  PkeyPtr key_;
  std::shared_ptr<PublicKey> public_;
  std::string cert_der_;
};

// The certificates a verifier trusts (a PEM bundle).
class TrustStore {
 public:
  ~TrustStore();
  // Every CERTIFICATE block of the PEM file at `path`. kInternal when the
  // file cannot be read or holds no certificate.
  static Result<std::unique_ptr<TrustStore>> Load(const std::string& path);

  // The key of x5c[0] after its chain (x5c[1..]) verifies to a trusted
  // certificate. kUnauthorized with the reason otherwise.
  Result<std::shared_ptr<PublicKey>> KeyForChain(const std::vector<std::string>& der_chain) const;
  // A trusted key whose RFC 7638 thumbprint or libtrust id is `kid`.
  std::shared_ptr<PublicKey> KeyForKid(std::string_view kid) const;

 private:
  TrustStore() = default;
  Result<std::shared_ptr<PublicKey>> VerifyChain(const std::vector<std::string>& der_chain) const;
  x509_store_st* store_ = nullptr;
  std::vector<std::shared_ptr<PublicKey>> keys_;
  // Chains that verified, by their DER bytes, for an hour: decoding and
  // verifying x5c was two thirds of an uncached token check, and a token
  // server signs every token with the same certificate (64: a handful of
  // signers at most).
  mutable TtlCache<std::shared_ptr<PublicKey>> verified_{64};
};

}  // namespace berth::crypto
