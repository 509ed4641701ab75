#include "crypto/self_signed.hpp"

#include "common/file.hpp"
#include "crypto/openssl_ptr.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>

namespace berth::crypto {
namespace {

using PkeyPtr = ossl::Pkey;
using X509Ptr = ossl::X509Ptr;
using ExtPtr = ossl::Ext;

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("certificate generation failed: ") + what);
}

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

void AddExt(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  Check(ext != nullptr, "extension");
  Check(X509_add_ext(cert, ext.get(), -1) == 1, "add extension");
}

// Renders the PEM in memory, then replaces `path` atomically and durably
// (common/file.hpp), so a crash never leaves half a key behind.
void WritePem(const std::string& path, mode_t mode, const std::function<bool(BIO*)>& write) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  Check(bio != nullptr, "BIO_new");
  Check(write(bio.get()), ("PEM for " + path).c_str());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  Check(size >= 0, ("PEM for " + path).c_str());
  Status s = ReplaceFileAtomic(path, std::string_view(data, static_cast<size_t>(size)), mode);
  Check(s.ok(), s.message().c_str());
}

}  // namespace

namespace {
void WriteCertificate(const std::string& cert_path, const std::string& key_path,
                      const std::vector<std::string>* tls_names, const std::string& cn, bool rsa) {
  PkeyPtr key(rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
  Check(key != nullptr, "key");

  X509Ptr cert(X509_new());
  Check(cert != nullptr, "x509");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  {
    FILE* r = std::fopen("/dev/urandom", "rb");
    Check(r != nullptr && std::fread(serial, 1, sizeof serial, r) == sizeof serial, "serial");
    std::fclose(r);
    serial[0] &= 0x7f;
  }
  ossl::Bn bn(BN_bin2bn(serial, sizeof serial, nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 3650);
  X509_set_pubkey(cert.get(), key.get());

  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  std::string subject_cn = cn.empty() ? std::string(host) : cn;
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("berth"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(subject_cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);

  std::vector<std::string> names;
  if (tls_names) {
    names = {"localhost", "127.0.0.1", "::1", host};
    names.insert(names.end(), tls_names->begin(), tls_names->end());
  }
  std::string san;
  std::vector<std::string> seen;
  for (const auto& n : names) {
    if (n.empty() || std::find(seen.begin(), seen.end(), n) != seen.end()) continue;
    seen.push_back(n);
    if (!san.empty()) san += ',';
    san += (IsIp(n) ? "IP:" : "DNS:") + n;
  }
  // CA:TRUE so that the same file can be dropped into a client's trust store
  // (certs.d/…/ca.crt) as the root that vouches for itself.
  AddExt(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  AddExt(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign");
  AddExt(cert.get(), NID_subject_key_identifier, "hash");
  if (tls_names) {
    AddExt(cert.get(), NID_ext_key_usage, "serverAuth");
    AddExt(cert.get(), NID_subject_alt_name, san);
  }
  Check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "sign");

  WritePem(key_path, 0600, [&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  WritePem(cert_path, 0644, [&](BIO* b) { return PEM_write_bio_X509(b, cert.get()) == 1; });
}
}  // namespace

void WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                const std::vector<std::string>& extra_names) {
  WriteCertificate(cert_path, key_path, &extra_names, "", false);
}

void WriteSigningCertificate(const std::string& cert_path, const std::string& key_path,
                             const std::string& common_name, bool rsa) {
  WriteCertificate(cert_path, key_path, nullptr, common_name, rsa);
}

}  // namespace berth::crypto
