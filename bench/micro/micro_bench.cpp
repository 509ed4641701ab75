// Micro-benchmarks of functions on berth's request path: digest parsing,
// SHA-256 over 1 MiB, route parsing, manifest parsing, scope parsing and JWT
// verification (with the verified-token cache off and on).
//
// Build: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBERTH_BENCH=ON
// Run:   build-bench/bench/micro/berth_micro_bench [--benchmark_min_time=0.1]
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "auth/jwt/jwt.hpp"
#include "auth/scope.hpp"
#include "common/digest.hpp"
#include "crypto/hasher.hpp"
#include "crypto/jws.hpp"
#include "registry/manifest.hpp"
#include "registry/routes.hpp"

namespace {

using namespace berth;

const std::string kDigest =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void BM_DigestParse(benchmark::State& state) {
  for (auto _ : state) {
    auto d = Digest::Parse(kDigest);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_DigestParse);

void BM_DigestParseInvalid(benchmark::State& state) {
  const std::string bad = "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
  for (auto _ : state) {
    auto d = Digest::Parse(bad);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_DigestParseInvalid);

void BM_Sha256_1MiB(benchmark::State& state) {
  std::string buf(1 << 20, '\0');
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<char>(i * 2654435761u >> 24);
  for (auto _ : state) {
    crypto::Hasher h(DigestAlgorithm::kSha256);
    h.Update(buf);
    auto d = h.Peek();
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_Sha256_1MiB);

// The streaming shape: 64 KiB updates, as a request body arrives.
void BM_Sha256_1MiB_64KiBChunks(benchmark::State& state) {
  std::string buf(64 << 10, 'x');
  for (auto _ : state) {
    crypto::Hasher h(DigestAlgorithm::kSha256);
    for (int i = 0; i < 16; ++i) h.Update(buf);
    auto d = h.Peek();
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * (1 << 20));
}
BENCHMARK(BM_Sha256_1MiB_64KiBChunks);

void BM_ParseRoute(benchmark::State& state, const std::string& path) {
  for (auto _ : state) {
    auto r = registry::ParseRoute(path);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_ParseRoute, blob, "/v2/library/team/app/blobs/" + kDigest);
BENCHMARK_CAPTURE(BM_ParseRoute, manifest_tag, std::string("/v2/library/app/manifests/v1.2.3"));
BENCHMARK_CAPTURE(
    BM_ParseRoute, upload,
    std::string("/v2/library/app/blobs/uploads/3f1b0f0e-8f5a-4c3e-9c1d-6a7b8c9d0e1f"));
BENCHMARK_CAPTURE(BM_ParseRoute, tags_list, std::string("/v2/library/app/tags/list"));

std::string ImageManifest(int layers) {
  std::string m = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                  R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                  kDigest + R"(","size":1234},"layers":[)";
  for (int i = 0; i < layers; ++i) {
    if (i) m += ",";
    char hex[65];
    for (int j = 0; j < 64; ++j) hex[j] = "0123456789abcdef"[(i * 7 + j * 13) % 16];
    hex[64] = 0;
    m += R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:)" +
         std::string(hex) + R"(","size":)" + std::to_string(1000 + i) + "}";
  }
  m += R"(],"annotations":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z"}})";
  return m;
}

void BM_ParseManifest(benchmark::State& state) {
  const std::string body = ImageManifest(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto r = registry::ParseManifest("application/vnd.oci.image.manifest.v1+json", body);
    if (!r) throw std::runtime_error("manifest rejected: " + r.status().message());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ParseManifest)->Arg(1)->Arg(10)->Arg(100);

void BM_ParseScopes(benchmark::State& state) {
  const std::string s =
      "repository:library/app:pull,push repository:team/tool:pull "
      "repository(plugin):registry.example.com:5000/ns/app:pull,push,delete registry:catalog:*";
  for (auto _ : state) {
    auto r = auth::ParseScopes(s);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseScopes);

// A key generated the way `berth init` does it, in a temp dir removed at exit.
struct JwtFixture {
  std::filesystem::path dir;
  std::shared_ptr<const crypto::SigningKey> key;
  std::shared_ptr<const crypto::TrustStore> trust;
  std::string token;
  int64_t now = 0;

  explicit JwtFixture(const std::string& alg) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "berth-microbench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    std::string k = (dir / "token.key").string(), c = (dir / "token.crt").string();
    crypto::SigningKey::Generate(k, c, alg, "berth-bench");
    auto loaded = crypto::SigningKey::Load(k, c);
    if (!loaded) throw std::runtime_error("load key: " + loaded.status().message());
    key = std::move(loaded).value();
    auto ts = crypto::TrustStore::Load(c);
    if (!ts) throw std::runtime_error("load trust: " + ts.status().message());
    trust = std::move(ts).value();
    now = std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
    auth::jwt::Claims cl;
    cl.issuer = "berth-token";
    cl.subject = "bench";
    cl.audience = "berth";
    cl.issued_at = now;
    cl.not_before = now;
    cl.expires = now + 3600;
    cl.id = "bench-jti";
    auto sc = auth::ParseScopes("repository:bench/x:pull,push");
    cl.access = *sc;
    auto t = auth::jwt::JwtSigner(key).Sign(cl);
    if (!t) throw std::runtime_error("sign: " + t.status().message());
    token = *t;
  }
  ~JwtFixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// Built on first use, removed (with its temp dir) at exit.
JwtFixture& Fixture(const std::string& alg) {
  if (alg == "ES256") {
    static JwtFixture es("ES256");
    return es;
  }
  static JwtFixture rs("RS256");
  return rs;
}

void BM_JwtVerify(benchmark::State& state, const std::string& alg, size_t cache_entries) {
  JwtFixture& f = Fixture(alg);
  auth::jwt::VerifyOptions o;
  o.issuer = "berth-token";
  o.audience = "berth";
  o.cache_entries = cache_entries;
  auth::jwt::JwtVerifier v(f.trust, o);
  for (auto _ : state) {
    auto c = v.Verify(f.token, f.now);
    if (!c) throw std::runtime_error("verify: " + c.status().message());
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK_CAPTURE(BM_JwtVerify, ES256_nocache, std::string("ES256"), size_t{0});
BENCHMARK_CAPTURE(BM_JwtVerify, ES256_cache, std::string("ES256"), size_t{10000});
BENCHMARK_CAPTURE(BM_JwtVerify, RS256_nocache, std::string("RS256"), size_t{0});
BENCHMARK_CAPTURE(BM_JwtVerify, RS256_cache, std::string("RS256"), size_t{10000});

void BM_JwtSign(benchmark::State& state) {
  JwtFixture& f = Fixture("ES256");
  auth::jwt::JwtSigner s(f.key);
  auth::jwt::Claims cl;
  cl.issuer = "berth-token";
  cl.subject = "bench";
  cl.audience = "berth";
  cl.expires = f.now + 3600;
  cl.access = *auth::ParseScopes("repository:bench/x:pull,push");
  for (auto _ : state) {
    auto t = s.Sign(cl);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_JwtSign);

}  // namespace

BENCHMARK_MAIN();
