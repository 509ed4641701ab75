// Tests for registry/referrers.cpp and the paging of registry/tags.cpp
// without sockets: pages of `n`, Link headers that lead through the whole
// list (filter kept), and the server's page cap when no `n` is given.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "open_registry.hpp"
#include "registry/paging.hpp"

namespace berth::registry {
namespace {

namespace json = boost::json;

class ReferrersTest : public OpenRegistryTest {
 protected:
  void SetUp() override {
    OpenRegistryTest::SetUp();
    config_ = PushBlob("r", "{}");
    const std::string subject = ImageManifest(config_, 2);
    http::Response r = PutManifest("r", "v1", subject);
    ASSERT_EQ(r.status, 201) << r.body;
    subject_ = Header(r, "Docker-Content-Digest");
  }

  // Pushes `count` referrers of the subject (artifactType odd/even by index
  // when `typed`) straight into the store, which is quicker than through the
  // handler; returns their digests, sorted.
  std::vector<std::string> AddReferrers(int count, bool typed = false) {
    std::vector<std::string> digests;
    for (int i = 0; i < count; ++i) {
      storage::ManifestPut p;
      p.record.content =
          ImageManifest(config_, 2, R"(,"annotations":{"i":")" + std::to_string(i) + "\"}");
      p.record.digest = crypto::HashBytes(DigestAlgorithm::kSha256, p.record.content);
      p.record.media_type = "application/vnd.oci.image.manifest.v1+json";
      p.record.subject = subject_;
      p.record.artifact_type = typed && i % 2 ? "application/vnd.x+odd" : "application/vnd.x+even";
      p.blob_refs = {config_};
      EXPECT_TRUE(meta_->PutManifest("r", p).ok());
      digests.push_back(p.record.digest.str());
    }
    std::sort(digests.begin(), digests.end());
    return digests;
  }

  // Follows Link headers from `path` (with `query`); returns every digest
  // listed and counts the pages.
  std::vector<std::string> Walk(http::Fields query, int* pages) {
    std::vector<std::string> got;
    std::string path = "/v2/r/referrers/" + subject_;
    *pages = 0;
    while (true) {
      http::Response r = Send(Req("GET", path, query));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      ++*pages;
      json::value index = json::parse(r.body);
      for (const auto& m : index.at("manifests").as_array()) {
        got.emplace_back(m.at("digest").as_string());
      }
      std::string link = Header(r, "Link");
      if (link == "<none>") break;
      // "<path?query>; rel=\"next\"": decode the query as the session would.
      EXPECT_EQ(link.substr(link.size() - 12), "; rel=\"next\"");
      std::string target = link.substr(1, link.find('>') - 1);
      path = target.substr(0, target.find('?'));
      query.clear();
      std::string q = target.substr(target.find('?') + 1);
      size_t start = 0;
      while (start <= q.size()) {
        size_t amp = q.find('&', start);
        std::string kv = q.substr(start, amp == q.npos ? q.npos : amp - start);
        size_t eq = kv.find('=');
        std::string v = kv.substr(eq + 1), decoded;
        for (size_t i = 0; i < v.size(); ++i) {
          if (v[i] == '%' && i + 2 < v.size()) {
            decoded += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
            i += 2;
          } else {
            decoded += v[i];
          }
        }
        query.emplace_back(kv.substr(0, eq), decoded);
        if (amp == q.npos) break;
        start = amp + 1;
      }
      if (*pages > 100) break;
    }
    return got;
  }

  std::string config_;
  std::string subject_;
};

// Referrers pushed through the manifest handler: the artifact type comes
// from the manifest's artifactType, else its config's media type, and the
// filter keeps exactly the matching ones.
TEST_F(ReferrersTest, PushedReferrersFilteredByArtifactType) {
  const std::string subject_size = std::to_string(ImageManifest(config_, 2).size());
  const std::string subject_ref =
      R"(,"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("digest":")" +
      subject_ + R"(","size":)" + subject_size + "}";
  std::string sbom =
      ImageManifest(config_, 2, R"(,"artifactType":"application/vnd.example.sbom")" + subject_ref);
  const std::string sig_config = PushBlob("r", "sig");
  std::string sig = ImageManifest(sig_config, 3, subject_ref);
  sig.replace(sig.find("application/vnd.example.config"), 30, "application/vnd.example.sig");
  std::string sbom_digest, sig_digest;
  for (auto [body, digest] : {std::pair{&sbom, &sbom_digest}, std::pair{&sig, &sig_digest}}) {
    *digest = crypto::HashBytes(DigestAlgorithm::kSha256, *body).str();
    http::Response r = PutManifest("r", *digest, *body);
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(Header(r, "OCI-Subject"), subject_);
  }
  auto list = [&](http::Fields query) {
    http::Response r = Send(Req("GET", "/v2/r/referrers/" + subject_, std::move(query)));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Header(r, "Content-Type"), "application/vnd.oci.image.index.v1+json");
    std::vector<std::string> got;
    const json::value index = json::parse(r.body);
    for (const auto& m : index.at("manifests").as_array()) {
      got.push_back(std::string(m.at("digest").as_string()) + " " +
                    std::string(m.at("artifactType").as_string()));
    }
    return std::make_pair(got, Header(r, "OCI-Filters-Applied"));
  };
  std::vector<std::string> both = {sbom_digest + " application/vnd.example.sbom",
                                   sig_digest + " application/vnd.example.sig"};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(list({}), std::make_pair(both, std::string("<none>")));
  EXPECT_EQ(list({{"artifactType", "application/vnd.example.sbom"}}),
            std::make_pair(std::vector<std::string>{sbom_digest + " application/vnd.example.sbom"},
                           std::string("artifactType")));
  EXPECT_EQ(list({{"artifactType", "application/vnd.example.sig"}}),
            std::make_pair(std::vector<std::string>{sig_digest + " application/vnd.example.sig"},
                           std::string("artifactType")));
  EXPECT_EQ(list({{"artifactType", "application/vnd.example.none"}}),
            std::make_pair(std::vector<std::string>{}, std::string("artifactType")));
}

// A subject nobody refers to, or that does not exist: an empty index (the
// spec's answer), not 404; a malformed digest is DIGEST_INVALID.
TEST_F(ReferrersTest, UnknownSubjectIsAnEmptyIndexAndABadDigestIs400) {
  for (const std::string& subject : {subject_, "sha256:" + std::string(64, '1')}) {
    http::Response r = Send(Req("GET", "/v2/r/referrers/" + subject));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body).at("manifests").as_array().size(), 0u);
    EXPECT_EQ(std::string(json::parse(r.body).at("mediaType").as_string()),
              "application/vnd.oci.image.index.v1+json");
  }
  http::Response r = Send(Req("GET", "/v2/r/referrers/sha256:nothex"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
}

TEST_F(ReferrersTest, PagesOfNWithLinkThroughTheWholeList) {
  const auto want = AddReferrers(7);
  int pages = 0;
  EXPECT_EQ(Walk({{"n", "3"}}, &pages), want);
  EXPECT_EQ(pages, 3);
  // Exactly n: one page, no Link.
  http::Response r = Send(Req("GET", "/v2/r/referrers/" + subject_, {{"n", "7"}}));
  EXPECT_EQ(Header(r, "Link"), "<none>");
  EXPECT_EQ(json::parse(r.body).at("manifests").as_array().size(), 7u);
  // The first Link, exactly.
  r = Send(Req("GET", "/v2/r/referrers/" + subject_, {{"n", "3"}}));
  EXPECT_EQ(Header(r, "Link"), "</v2/r/referrers/" + subject_ + "?last=" + QueryEscape(want[2]) +
                                   "&n=3>; rel=\"next\"");
  // n=0: an empty index, no Link.
  r = Send(Req("GET", "/v2/r/referrers/" + subject_, {{"n", "0"}}));
  EXPECT_EQ(json::parse(r.body).at("manifests").as_array().size(), 0u);
  EXPECT_EQ(Header(r, "Link"), "<none>");
  // A bad n.
  r = Send(Req("GET", "/v2/r/referrers/" + subject_, {{"n", "x"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "PAGINATION_NUMBER_INVALID");
}

TEST_F(ReferrersTest, LinkKeepsTheArtifactTypeFilter) {
  AddReferrers(7, /*typed=*/true);
  int pages = 0;
  auto got = Walk({{"n", "2"}, {"artifactType", "application/vnd.x+odd"}}, &pages);
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(pages, 2);
  http::Response r = Send(Req("GET", "/v2/r/referrers/" + subject_,
                              {{"n", "2"}, {"artifactType", "application/vnd.x+odd"}}));
  EXPECT_EQ(Header(r, "OCI-Filters-Applied"), "artifactType");
  EXPECT_NE(Header(r, "Link").find("?artifactType=application%2Fvnd.x%2Bodd&last="),
            std::string::npos);
}

TEST_F(ReferrersTest, ServerCapsThePageWithoutN) {
  const auto want = AddReferrers(static_cast<int>(kMaxPageSize) + 1);
  http::Response r = Send(Req("GET", "/v2/r/referrers/" + subject_));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body).at("manifests").as_array().size(), kMaxPageSize);
  EXPECT_NE(Header(r, "Link"), "<none>");
  // A larger n is cut to the cap as well.
  r = Send(Req("GET", "/v2/r/referrers/" + subject_, {{"n", "5000"}}));
  EXPECT_EQ(json::parse(r.body).at("manifests").as_array().size(), kMaxPageSize);
  int pages = 0;
  EXPECT_EQ(Walk({}, &pages), want);
  EXPECT_EQ(pages, 2);
}

TEST_F(ReferrersTest, TagsAndCatalogAreCappedWithoutN) {
  // Tags straight into the store (one transaction each).
  storage::ManifestRecord m = *meta_->GetManifest("r", Reference(std::string("v1")));
  for (size_t i = 0; i < kMaxPageSize + 1; ++i) {
    storage::ManifestPut p;
    p.record = m;
    p.tag = "t" + std::to_string(10000 + i);
    p.blob_refs = {config_};
    ASSERT_TRUE(meta_->PutManifest("r", p).ok());
  }
  http::Response r = Send(Req("GET", "/v2/r/tags/list"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body).at("tags").as_array().size(), kMaxPageSize);
  EXPECT_EQ(Header(r, "Link"), "</v2/r/tags/list?last=t10999&n=1000>; rel=\"next\"");
  r = Send(Req("GET", "/v2/r/tags/list", {{"last", "t10999"}, {"n", "1000"}}));
  // t11000 and v1 remain.
  EXPECT_EQ(json::parse(r.body).at("tags").as_array().size(), 2u);
  EXPECT_EQ(Header(r, "Link"), "<none>");

  // The catalog: a Link names the next repository, escaped.
  ASSERT_TRUE(meta_->LinkBlob("s/t", Digest::Parse(config_).value(), 2, 0).ok());
  r = Send(Req("GET", "/v2/_catalog", {{"n", "1"}}));
  EXPECT_EQ(Header(r, "Link"), "</v2/_catalog?last=r&n=1>; rel=\"next\"");
  r = Send(Req("GET", "/v2/_catalog"));
  EXPECT_EQ(r.body, R"({"repositories":["r","s/t"]})");
  EXPECT_EQ(Header(r, "Link"), "<none>");
}

}  // namespace
}  // namespace berth::registry
