// Tests for SqliteMetadataStore (storage/db/): blob links, manifests, tags,
// referrers and repository listing, per repository, across a reopen.

#include "storage/db/sqlite_metadata_store.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "crypto/hasher.hpp"

namespace berth::storage {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

Digest Sha256(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha256, s); }

class SqliteMetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-meta-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void Reopen() {
    store_.reset();
    auto s = SqliteMetadataStore::Open(dir_ + "/metadata.db");
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
  }

  // A manifest put whose content is `content`, referencing `blobs`.
  static ManifestPut Put(const std::string& content, std::optional<std::string> tag,
                         Strings blobs = {}, Strings manifests = {}) {
    ManifestPut p;
    p.record.digest = Sha256(content);
    p.record.media_type = "application/vnd.oci.image.manifest.v1+json";
    p.record.content = content;
    p.tag = std::move(tag);
    p.blob_refs = std::move(blobs);
    p.manifest_refs = std::move(manifests);
    return p;
  }

  Strings Tags(const std::string& repo, const std::string& last = "", size_t limit = 100) {
    auto t = store_->ListTags(repo, last, limit);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? *t : Strings{"<error>"};
  }

  std::string dir_;
  std::unique_ptr<SqliteMetadataStore> store_;
};

TEST_F(SqliteMetadataStoreTest, LinkAndUnlinkBlob) {
  Digest d = Sha256("layer");
  EXPECT_EQ(store_->LinkedBlobSize("a", d).status().code(), Errc::kBlobUnknown);
  ASSERT_TRUE(store_->LinkBlob("a", d, 5, 0).ok());
  ASSERT_TRUE(store_->LinkBlob("a", d, 5, 0).ok());  // idempotent
  auto size = store_->LinkedBlobSize("a", d);
  ASSERT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(*size, 5u);
  EXPECT_TRUE(store_->UnlinkBlob("a", d).ok());
  EXPECT_EQ(store_->LinkedBlobSize("a", d).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(store_->UnlinkBlob("a", d).code(), Errc::kBlobUnknown);
  EXPECT_EQ(store_->UnlinkBlob("nosuch", d).code(), Errc::kBlobUnknown);
}

TEST_F(SqliteMetadataStoreTest, RepositoriesAreIsolated) {
  Digest d = Sha256("layer");
  ASSERT_TRUE(store_->LinkBlob("a", d, 5, 0).ok());
  ASSERT_TRUE(store_->LinkBlob("b", Sha256("other"), 5, 0).ok());
  EXPECT_EQ(store_->LinkedBlobSize("b", d).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(store_->UnlinkBlob("b", d).code(), Errc::kBlobUnknown);
  EXPECT_TRUE(store_->LinkedBlobSize("a", d).ok());  // b's unlink did not touch a

  ASSERT_TRUE(store_->PutManifest("a", Put("m", "latest", {d.str()})).ok());
  EXPECT_EQ(store_->GetManifest("b", Reference(std::string("latest"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(store_->GetManifest("b", Reference(Sha256("m"))).status().code(),
            Errc::kManifestUnknown);
  // b cannot reference a's blob.
  EXPECT_EQ(store_->PutManifest("b", Put("m2", "latest", {d.str()})).code(),
            Errc::kManifestBlobUnknown);
  EXPECT_EQ(Tags("b"), Strings{});
}

TEST_F(SqliteMetadataStoreTest, PutAndGetManifest) {
  Digest blob = Sha256("layer");
  ASSERT_TRUE(store_->LinkBlob("a", blob, 5, 0).ok());
  ManifestPut p = Put("{\"x\":\"\xc3\xa9\"}\n", "v1", {blob.str()});
  p.record.subject = Sha256("subject").str();
  p.record.artifact_type = "application/vnd.example";
  p.record.annotations_json = R"({"k":"v"})";
  Status s = store_->PutManifest("a", p);
  ASSERT_TRUE(s.ok()) << s.message();

  for (const Reference& ref : {Reference(std::string("v1")), Reference(p.record.digest)}) {
    auto m = store_->GetManifest("a", ref);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m->digest, p.record.digest);
    EXPECT_EQ(m->media_type, p.record.media_type);
    EXPECT_EQ(m->content, p.record.content);  // byte for byte
    EXPECT_EQ(m->subject, p.record.subject);
    EXPECT_EQ(m->artifact_type, p.record.artifact_type);
    EXPECT_EQ(m->annotations_json, p.record.annotations_json);
  }
  EXPECT_EQ(store_->GetManifest("a", Reference(std::string("v2"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(store_->GetManifest("nosuch", Reference(std::string("v1"))).status().code(),
            Errc::kManifestUnknown);
}

TEST_F(SqliteMetadataStoreTest, PutManifestRefusesMissingReferences) {
  Digest present = Sha256("present");
  Digest missing = Sha256("missing");
  ASSERT_TRUE(store_->LinkBlob("a", present, 1, 0).ok());

  Status s = store_->PutManifest("a", Put("m1", "t", {present.str(), missing.str()}));
  EXPECT_EQ(s.code(), Errc::kManifestBlobUnknown);
  EXPECT_NE(s.message().find(missing.str()), std::string::npos) << s.message();

  s = store_->PutManifest("a", Put("index", "t", {}, {Sha256("child").str()}));
  EXPECT_EQ(s.code(), Errc::kManifestBlobUnknown);
  EXPECT_NE(s.message().find(Sha256("child").str()), std::string::npos) << s.message();

  // Nothing was stored, not even the tag.
  EXPECT_EQ(store_->GetManifest("a", Reference(Sha256("m1"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(Tags("a"), Strings{});
  // A refused put does not create the repository either.
  EXPECT_EQ(store_->PutManifest("fresh", Put("m", "t", {present.str()})).code(),
            Errc::kManifestBlobUnknown);
  EXPECT_EQ(store_->ListTags("fresh", "", 100).status().code(), Errc::kNameUnknown);

  // An index whose child is present is accepted.
  ASSERT_TRUE(store_->PutManifest("a", Put("child", std::nullopt)).ok());
  EXPECT_TRUE(store_->PutManifest("a", Put("index", "t", {}, {Sha256("child").str()})).ok());
}

TEST_F(SqliteMetadataStoreTest, TagsSortedBytewiseWithPaging) {
  const Strings tags = {"b", "B", "a", "_x", "A1", "a.b", "a-b", "10", "9", "latest", "Z"};
  for (const auto& t : tags) {
    ASSERT_TRUE(store_->PutManifest("a", Put("m-" + t, t)).ok()) << t;
  }
  Strings sorted = tags;
  std::sort(sorted.begin(), sorted.end());  // std::string compares bytewise
  EXPECT_EQ(Tags("a"), sorted);
  EXPECT_EQ(Tags("a", "", 3), Strings(sorted.begin(), sorted.begin() + 3));
  EXPECT_EQ(Tags("a", sorted[2], 3), Strings(sorted.begin() + 3, sorted.begin() + 6));
  EXPECT_EQ(Tags("a", "a"), Strings({"a-b", "a.b", "b", "latest"}));
  EXPECT_EQ(Tags("a", "latest"), Strings{});
  EXPECT_EQ(Tags("a", "", 0), Strings{});
  EXPECT_EQ(Tags("a", "", 100), sorted);
  EXPECT_EQ(store_->ListTags("nosuch", "", 100).status().code(), Errc::kNameUnknown);
}

TEST_F(SqliteMetadataStoreTest, RetagMovesTheTag) {
  ASSERT_TRUE(store_->PutManifest("a", Put("one", "latest")).ok());
  ASSERT_TRUE(store_->PutManifest("a", Put("two", "latest")).ok());
  auto m = store_->GetManifest("a", Reference(std::string("latest")));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->content, "two");
  EXPECT_EQ(Tags("a"), Strings{"latest"});
  EXPECT_TRUE(store_->GetManifest("a", Reference(Sha256("one"))).ok());
}

TEST_F(SqliteMetadataStoreTest, DeleteTagOnlyRemovesTag) {
  ASSERT_TRUE(store_->PutManifest("a", Put("m", "v1")).ok());
  ASSERT_TRUE(store_->PutManifest("a", Put("m", "v2")).ok());
  ASSERT_TRUE(store_->DeleteTag("a", "v1").ok());
  EXPECT_EQ(Tags("a"), Strings{"v2"});
  EXPECT_TRUE(store_->GetManifest("a", Reference(Sha256("m"))).ok());
  EXPECT_TRUE(store_->GetManifest("a", Reference(std::string("v2"))).ok());
  EXPECT_EQ(store_->DeleteTag("a", "v1").code(), Errc::kManifestUnknown);
  EXPECT_EQ(store_->DeleteTag("nosuch", "v2").code(), Errc::kManifestUnknown);
}

TEST_F(SqliteMetadataStoreTest, DeleteManifestRemovesItsTags) {
  ASSERT_TRUE(store_->PutManifest("a", Put("m", "v1")).ok());
  ASSERT_TRUE(store_->PutManifest("a", Put("m", "v2")).ok());
  ASSERT_TRUE(store_->PutManifest("a", Put("other", "keep")).ok());
  ASSERT_TRUE(store_->DeleteManifest("a", Sha256("m")).ok());
  EXPECT_EQ(store_->GetManifest("a", Reference(Sha256("m"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(store_->GetManifest("a", Reference(std::string("v1"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(Tags("a"), Strings{"keep"});
  EXPECT_EQ(store_->DeleteManifest("a", Sha256("m")).code(), Errc::kManifestUnknown);
  EXPECT_EQ(store_->DeleteManifest("nosuch", Sha256("other")).code(), Errc::kManifestUnknown);
  // It can be pushed again.
  EXPECT_TRUE(store_->PutManifest("a", Put("m", "v1")).ok());
}

TEST_F(SqliteMetadataStoreTest, ReferrersWithArtifactTypeFilter) {
  const Digest subject = Sha256("subject");
  ASSERT_TRUE(store_->PutManifest("a", Put("subject", "latest")).ok());
  auto referrer = [&](const std::string& content, const std::string& type) {
    ManifestPut p = Put(content, std::nullopt);
    p.record.subject = subject.str();
    p.record.artifact_type = type;
    p.record.annotations_json = R"({"t":")" + type + "\"}";
    return p;
  };
  ASSERT_TRUE(store_->PutManifest("a", referrer("sbom-manifest", "application/sbom")).ok());
  ASSERT_TRUE(store_->PutManifest("a", referrer("sig", "application/sig")).ok());
  ASSERT_TRUE(store_->PutManifest("b", referrer("elsewhere", "application/sig")).ok());

  auto all = store_->ListReferrers("a", subject, std::nullopt, "", 100);
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 2u);
  Strings digests = {(*all)[0].digest, (*all)[1].digest};
  Strings want = {Sha256("sbom-manifest").str(), Sha256("sig").str()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(digests, want);
  for (const auto& r : *all) {
    const bool sbom = r.digest == Sha256("sbom-manifest").str();
    EXPECT_EQ(r.size, sbom ? 13u : 3u);
    EXPECT_EQ(r.media_type, "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(r.artifact_type, sbom ? "application/sbom" : "application/sig");
    EXPECT_EQ(r.annotations_json,
              sbom ? R"({"t":"application/sbom"})" : R"({"t":"application/sig"})");
  }

  auto sigs = store_->ListReferrers("a", subject, std::string("application/sig"), "", 100);
  ASSERT_TRUE(sigs.ok());
  ASSERT_EQ(sigs->size(), 1u);
  EXPECT_EQ((*sigs)[0].digest, Sha256("sig").str());

  auto none = store_->ListReferrers("a", subject, std::string("application/none"), "", 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto other = store_->ListReferrers("a", Sha256("sig"), std::nullopt, "", 100);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
  auto b = store_->ListReferrers("b", subject, std::nullopt, "", 100);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->size(), 1u);
}

TEST_F(SqliteMetadataStoreTest, ReferrersPaging) {
  const Digest subject = Sha256("subject");
  ASSERT_TRUE(store_->PutManifest("a", Put("subject", "latest")).ok());
  Strings want;
  for (int i = 0; i < 7; ++i) {
    ManifestPut p = Put("referrer " + std::to_string(i), std::nullopt);
    p.record.subject = subject.str();
    p.record.artifact_type = i % 2 ? "application/odd" : "application/even";
    want.push_back(p.record.digest.str());
    ASSERT_TRUE(store_->PutManifest("a", p).ok());
  }
  std::sort(want.begin(), want.end());
  // Pages of 3 in digest order, each after the last digest of the one before.
  Strings got;
  std::string last;
  int pages = 0;
  while (true) {
    auto page = store_->ListReferrers("a", subject, std::nullopt, last, 3);
    ASSERT_TRUE(page.ok()) << page.status().message();
    ASSERT_LE(page->size(), 3u);
    for (const auto& r : *page) got.push_back(r.digest);
    ++pages;
    if (page->size() < 3) break;
    last = page->back().digest;
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(pages, 3);
  // The filter and the page combine: 3 odd ones, 2 then 1.
  auto odd1 = store_->ListReferrers("a", subject, std::string("application/odd"), "", 2);
  ASSERT_TRUE(odd1.ok());
  ASSERT_EQ(odd1->size(), 2u);
  auto odd2 =
      store_->ListReferrers("a", subject, std::string("application/odd"), odd1->back().digest, 2);
  ASSERT_TRUE(odd2.ok());
  ASSERT_EQ(odd2->size(), 1u);
  EXPECT_EQ((*odd2)[0].artifact_type, "application/odd");
  EXPECT_GT((*odd2)[0].digest, odd1->back().digest);
}

TEST_F(SqliteMetadataStoreTest, LimitPastInt64MaxDoesNotWrap) {
  // A limit past INT64_MAX must not wrap to a negative LIMIT (no limit) or fail.
  ASSERT_TRUE(store_->LinkBlob("a", Sha256("x"), 1, 0).ok());
  auto all = store_->ListRepositories("", std::numeric_limits<size_t>::max());
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(*all, Strings{"a"});
}

TEST_F(SqliteMetadataStoreTest, ListRepositoriesPaging) {
  for (const char* repo : {"b", "a", "c/d", "a/b", "a-c"}) {
    ASSERT_TRUE(store_->LinkBlob(repo, Sha256("x"), 1, 0).ok());
  }
  auto all = store_->ListRepositories("", 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, Strings({"a", "a-c", "a/b", "b", "c/d"}));
  auto page1 = store_->ListRepositories("", 2);
  ASSERT_TRUE(page1.ok());
  EXPECT_EQ(*page1, Strings({"a", "a-c"}));
  auto page2 = store_->ListRepositories(page1->back(), 2);
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(*page2, Strings({"a/b", "b"}));
  auto page3 = store_->ListRepositories(page2->back(), 2);
  ASSERT_TRUE(page3.ok());
  EXPECT_EQ(*page3, Strings{"c/d"});
  auto end = store_->ListRepositories("c/d", 2);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->empty());
}

TEST_F(SqliteMetadataStoreTest, ReopenKeepsData) {
  Digest blob = Sha256("layer");
  ASSERT_TRUE(store_->LinkBlob("a", blob, 5, 0).ok());
  ASSERT_TRUE(store_->PutManifest("a", Put("m", "latest", {blob.str()})).ok());
  Reopen();
  auto size = store_->LinkedBlobSize("a", blob);
  ASSERT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(*size, 5u);
  auto m = store_->GetManifest("a", Reference(std::string("latest")));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->content, "m");
  EXPECT_EQ(Tags("a"), Strings{"latest"});
  auto repos = store_->ListRepositories("", 100);
  ASSERT_TRUE(repos.ok());
  EXPECT_EQ(*repos, Strings{"a"});
}

}  // namespace
}  // namespace berth::storage
