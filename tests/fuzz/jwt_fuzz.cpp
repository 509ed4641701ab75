// Fuzz target for auth/jwt and crypto/jws: every bearer token a client sends
// goes through JwtVerifier before anything else looks at it.
//
// The first input byte picks a mode; the rest is:
//   bit 0 clear: a token, verified as is against the two fixed keys of
//                jwt_keys.hpp (header, x5c, kid, alg and signature checks);
//   bit 0 set:   "<header JSON>\n<claims JSON>", which the target signs with
//                the ES256 key (bit 1 clear) or the RS256 key (bit 1 set)
//                before verifying, so that mutated headers and claims get
//                past the signature to the claims checks. A fuzzer cannot
//                forge signatures, so without this mode they would be dead
//                code to it.
// Properties: a token verifies only as the issuer and audience configured;
// a verified token with one signature byte changed never verifies; base64
// and base64url round-trip any bytes.

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/base64.hpp"
#include "auth/jwt/jwt.hpp"
#include "crypto/jws.hpp"
#include "fuzz_check.hpp"
#include "jwt_keys.hpp"

namespace {

namespace jwt = berth::auth::jwt;
namespace crypto = berth::crypto;

constexpr int64_t kNow = 1'700'000'000;

struct Keys {
  std::unique_ptr<crypto::SigningKey> es, rs;
  std::unique_ptr<jwt::JwtVerifier> verifier;
};

bool WriteFile(const std::string& path, std::string_view text) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

// SigningKey and TrustStore load only from files: write the fixed PEMs to a
// temp dir, load them, remove it. Any failure is a broken harness: abort.
Keys LoadKeys() {
  std::string d = (std::filesystem::temp_directory_path() / "berth-fuzz-jwt-XXXXXX").string();
  FUZZ_CHECK(::mkdtemp(d.data()) != nullptr);
  const std::string files[] = {d + "/es.key", d + "/es.crt", d + "/rs.key", d + "/rs.crt",
                               d + "/bundle.crt"};
  FUZZ_CHECK(WriteFile(files[0], berth::fuzz::kEsKeyPem));
  FUZZ_CHECK(WriteFile(files[1], berth::fuzz::kEsCertPem));
  FUZZ_CHECK(WriteFile(files[2], berth::fuzz::kRsKeyPem));
  FUZZ_CHECK(WriteFile(files[3], berth::fuzz::kRsCertPem));
  FUZZ_CHECK(WriteFile(files[4], std::string(berth::fuzz::kEsCertPem) + berth::fuzz::kRsCertPem));
  Keys k;
  auto es = crypto::SigningKey::Load(files[0], files[1]);
  auto rs = crypto::SigningKey::Load(files[2], files[3]);
  auto trust = crypto::TrustStore::Load(files[4]);
  for (const auto& f : files) ::unlink(f.c_str());
  ::rmdir(d.c_str());
  FUZZ_CHECK(es && rs && trust);
  k.es = std::move(*es);
  k.rs = std::move(*rs);
  jwt::VerifyOptions options;
  options.issuer = "berth-token";
  options.audience = "berth";
  // No cache: each input must be judged on its own, or a crash would
  // depend on the inputs before it and not replay.
  options.cache_entries = 0;
  k.verifier = std::make_unique<jwt::JwtVerifier>(
      std::shared_ptr<const crypto::TrustStore>(std::move(*trust)), options);
  return k;
}

const Keys& GetKeys() {
  static const Keys keys = LoadKeys();
  return keys;
}

void CheckBase64(std::string_view bytes) {
  auto url = berth::Base64UrlDecode(berth::Base64UrlEncode(bytes));
  FUZZ_CHECK(url && *url == bytes);
  auto std64 = berth::Base64Decode(berth::Base64Encode(bytes));
  FUZZ_CHECK(std64 && *std64 == bytes);
  // Arbitrary text must be refused or decoded, never crash.
  (void)berth::Base64UrlDecode(bytes);
  (void)berth::Base64Decode(bytes);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  GetKeys();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Keys& keys = GetKeys();
  const uint8_t mode = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  CheckBase64(rest);

  std::string token;
  if (!(mode & 1)) {
    token = std::string(rest);
  } else {
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) return 0;
    token = berth::Base64UrlEncode(rest.substr(0, nl)) + "." +
            berth::Base64UrlEncode(rest.substr(nl + 1));
    const crypto::SigningKey& key = (mode & 2) ? *keys.rs : *keys.es;
    auto sig = key.Sign(token);
    FUZZ_CHECK(sig.ok());
    token += "." + berth::Base64UrlEncode(*sig);
  }

  auto claims = keys.verifier->Verify(token, kNow);
  if (!claims) {
    FUZZ_CHECK(claims.status().code() == berth::Errc::kUnauthorized);
    return 0;
  }
  FUZZ_CHECK(claims->issuer == "berth-token" && claims->audience == "berth");
  for (const auto& s : claims->access) FUZZ_CHECK(s.type.find('(') == std::string::npos);

  // Change one signature byte: the token must no longer verify.
  const auto dot2 = token.rfind('.');
  auto sig = berth::Base64UrlDecode(std::string_view(token).substr(dot2 + 1));
  FUZZ_CHECK(sig && !sig->empty());
  (*sig)[sig->size() / 2] ^= 0x01;
  const std::string forged = token.substr(0, dot2 + 1) + berth::Base64UrlEncode(*sig);
  FUZZ_CHECK(!keys.verifier->Verify(forged, kNow).ok());
  return 0;
}
