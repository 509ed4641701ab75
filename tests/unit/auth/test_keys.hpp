// Test helpers shared by the auth tests: temporary directories, token
// signing keys generated the way `berth` does at start-up, trust stores made
// from their certificates, X.509 wrappers for bare public keys (RFC test
// vectors), and hand-made compact JWS for forged tokens.
//
// Thread-safety: test code; each helper works on its own objects.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/base64.hpp"
#include "crypto/jws.hpp"

namespace berth::testkeys {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "berth-authtest-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A token signing key made by SigningKey::Generate and read back by Load.
struct TestKey {
  std::shared_ptr<const crypto::SigningKey> key;
  std::string cert_path;  // PEM certificate (usable as a trust bundle)
};

// `alg` is "ES256" or "RS256". Fails the current test when anything breaks.
inline TestKey MakeKey(const std::string& dir, const std::string& name, const std::string& alg) {
  TestKey k;
  k.cert_path = dir + "/" + name + ".crt";
  const std::string key_path = dir + "/" + name + ".key";
  crypto::SigningKey::Generate(key_path, k.cert_path, alg, name);
  auto loaded = crypto::SigningKey::Load(key_path, k.cert_path);
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  if (loaded.ok()) k.key = std::shared_ptr<const crypto::SigningKey>(std::move(*loaded));
  return k;
}

// A trust store holding the certificates of `keys` (one PEM bundle).
inline std::shared_ptr<const crypto::TrustStore> MakeTrust(const std::string& dir,
                                                           const std::vector<TestKey>& keys) {
  const std::string bundle = dir + "/bundle-" + std::to_string(keys.size()) + ".pem";
  std::ofstream out(bundle, std::ios::binary | std::ios::trunc);
  for (const auto& k : keys) out << ReadFile(k.cert_path);
  out.close();
  auto trust = crypto::TrustStore::Load(bundle);
  EXPECT_TRUE(trust.ok()) << trust.status().message();
  if (!trust.ok()) return nullptr;
  return std::shared_ptr<const crypto::TrustStore>(std::move(*trust));
}

// DER of a certificate for public key `pub`, issued and signed by a
// throwaway P-256 key: only the public key inside matters to the tests.
inline std::string WrapInCertificate(EVP_PKEY* pub) {
  std::string der;
  EVP_PKEY* issuer = EVP_EC_gen("P-256");
  X509* x = X509_new();
  if (issuer && x) {
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("vector"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, pub);
    if (X509_sign(x, issuer, EVP_sha256()) > 0) {
      unsigned char* buf = nullptr;
      int len = i2d_X509(x, &buf);
      if (len > 0) der.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
      OPENSSL_free(buf);
    }
  }
  X509_free(x);
  EVP_PKEY_free(issuer);
  EXPECT_FALSE(der.empty()) << "could not build a certificate";
  return der;
}

// "b64url(header).b64url(claims)" — the JWS signing input.
inline std::string SigningInput(const boost::json::object& header,
                                const boost::json::object& claims) {
  return Base64UrlEncode(boost::json::serialize(header)) + "." +
         Base64UrlEncode(boost::json::serialize(claims));
}

// A compact JWS over `header` and `claims`, signed by `key`.
inline std::string SignedToken(const boost::json::object& header, const boost::json::object& claims,
                               const crypto::SigningKey& key) {
  std::string input = SigningInput(header, claims);
  auto sig = key.Sign(input);
  EXPECT_TRUE(sig.ok()) << sig.status().message();
  return input + "." + Base64UrlEncode(sig.ok() ? *sig : std::string());
}

// HMAC-SHA256 of `input` under `key` (for forged HS256 tokens).
inline std::string HmacSha256(const std::string& key, const std::string& input) {
  unsigned char md[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

// Decodes one base64url part of a compact JWS as JSON (null when broken).
inline boost::json::value DecodePart(const std::string& token, int index) {
  size_t start = 0;
  for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
  size_t end = token.find('.', start);
  auto bytes = Base64UrlDecode(
      std::string_view(token).substr(start, end == std::string::npos ? end : end - start));
  if (!bytes) return nullptr;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*bytes, ec);
  return ec ? boost::json::value(nullptr) : v;
}

}  // namespace berth::testkeys
