// Tests for the lifecycle half of SqliteMetadataStore (sqlite_lifecycle.cpp):
// which manifests and links are garbage, that every deletion rechecks its
// condition, quotas, usage, tag times, and the schema upgrade from version 1.

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "crypto/hasher.hpp"
#include "storage/db/sqlite_metadata_store.hpp"

namespace berth::storage {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

Digest Sha256(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha256, s); }

// Far in the future: everything is older than the delay.
constexpr int64_t kLater = int64_t{1} << 40;
// Far in the past: nothing is.
constexpr int64_t kEarlier = 0;

class SqliteLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-life-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Open();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void Open() {
    store_.reset();
    auto s = SqliteMetadataStore::Open(dir_ + "/metadata.db");
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
  }

  Digest Link(const std::string& repo, const std::string& content, uint64_t quota = 0) {
    Digest d = Sha256(content);
    EXPECT_TRUE(store_->LinkBlob(repo, d, content.size(), quota).ok());
    return d;
  }
  Digest Put(const std::string& repo, const std::string& content, std::optional<std::string> tag,
             Strings blobs = {}, Strings manifests = {}, std::optional<std::string> subject = {}) {
    ManifestPut p;
    p.record.digest = Sha256(content);
    p.record.media_type = "application/vnd.oci.image.manifest.v1+json";
    p.record.content = content;
    p.record.subject = std::move(subject);
    p.tag = std::move(tag);
    p.blob_refs = std::move(blobs);
    p.manifest_refs = std::move(manifests);
    Status s = store_->PutManifest(repo, p);
    EXPECT_TRUE(s.ok()) << s.message();
    return p.record.digest;
  }
  // Runs CollectManifests to the end; returns the digests it gave.
  Strings Manifests(int64_t before, bool dry_run = false) {
    Strings out;
    KeyCursor c;
    while (true) {
      auto b = store_->CollectManifests(before, 2, dry_run, &c);
      EXPECT_TRUE(b.ok()) << b.status().message();
      if (!b.ok() || b->empty()) break;
      for (const auto& e : *b) out.push_back(e.repository + "@" + e.digest);
    }
    return out;
  }
  Strings Links(int64_t before, bool dry_run = false) {
    Strings out;
    KeyCursor c;
    while (true) {
      auto b = store_->CollectLinks(before, 2, dry_run, &c);
      EXPECT_TRUE(b.ok()) << b.status().message();
      if (!b.ok() || b->empty()) break;
      for (const auto& e : *b) out.push_back(e.repository + "@" + e.digest);
    }
    return out;
  }
  bool HasManifest(const std::string& repo, const Digest& d) {
    return store_->GetManifest(repo, Reference(d)).ok();
  }

  std::string dir_;
  std::unique_ptr<SqliteMetadataStore> store_;
};

TEST_F(SqliteLifecycleTest, TaggedManifestsAndTheirLinksStay) {
  Digest layer = Link("a/x", "layer");
  Put("a/x", "m1", "v1", {layer.str()});
  EXPECT_TRUE(Manifests(kLater).empty());
  EXPECT_TRUE(Links(kLater).empty());
}

TEST_F(SqliteLifecycleTest, UntaggedManifestGoesAfterItsDelayThenItsLinks) {
  Digest layer = Link("a/x", "layer");
  Digest m = Put("a/x", "m1", "v1", {layer.str()});
  ASSERT_TRUE(store_->DeleteTag("a/x", "v1").ok());
  EXPECT_TRUE(Manifests(kEarlier).empty());  // within its delay
  EXPECT_TRUE(Links(kLater).empty());        // still referenced
  EXPECT_EQ(Manifests(kLater), Strings{"a/x@" + m.str()});
  EXPECT_FALSE(HasManifest("a/x", m));
  EXPECT_TRUE(Links(kEarlier).empty());  // the link's delay started with the delete
  EXPECT_EQ(Links(kLater), Strings{"a/x@" + layer.str()});
  EXPECT_FALSE(store_->LinkedBlobSize("a/x", layer).ok());
}

TEST_F(SqliteLifecycleTest, DryRunDeletesNothing) {
  Digest m = Put("a/x", "m1", std::nullopt);
  Link("a/x", "lonely");
  EXPECT_EQ(Manifests(kLater, true).size(), 1u);
  EXPECT_EQ(Links(kLater, true).size(), 1u);
  EXPECT_TRUE(HasManifest("a/x", m));
  EXPECT_EQ(Links(kLater).size(), 1u);
}

TEST_F(SqliteLifecycleTest, IndexChildrenGoOnlyAfterTheIndex) {
  Digest c1 = Put("a/x", "child1", std::nullopt);
  Digest c2 = Put("a/x", "child2", std::nullopt);
  Digest index = Put("a/x", "index", "latest", {}, {c1.str(), c2.str()});
  EXPECT_TRUE(Manifests(kLater).empty());
  ASSERT_TRUE(store_->DeleteTag("a/x", "latest").ok());
  // The index goes first: its children have a parent until it is gone (the
  // same pass may then take those that sort after it; the next takes the rest).
  Strings first = Manifests(kLater);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0], "a/x@" + index.str());
  EXPECT_EQ(first.size() + Manifests(kLater).size(), 3u);
  EXPECT_FALSE(HasManifest("a/x", c1));
  EXPECT_FALSE(HasManifest("a/x", c2));
}

TEST_F(SqliteLifecycleTest, ReferrersLiveAsLongAsTheirSubject) {
  Digest subject = Put("a/x", "image", "v1");
  Digest sig = Put("a/x", "signature", std::nullopt, {}, {}, subject.str());
  EXPECT_TRUE(Manifests(kLater).empty());
  ASSERT_TRUE(store_->DeleteManifest("a/x", subject).ok());
  EXPECT_EQ(Manifests(kLater), Strings{"a/x@" + sig.str()});
}

TEST_F(SqliteLifecycleTest, APushAfterTheScanWins) {
  // The deleting transaction rechecks: a tag put between scan and delete
  // keeps the manifest. Simulated by scanning dry, then tagging, then
  // collecting with the same cut-off.
  Digest m = Put("a/x", "m1", std::nullopt);
  EXPECT_EQ(Manifests(kLater, true).size(), 1u);
  Put("a/x", "m1", "v1");
  EXPECT_TRUE(Manifests(kLater).empty());
  EXPECT_TRUE(HasManifest("a/x", m));
  // Same for a link that a manifest starts to reference.
  Digest layer = Link("a/x", "layer");
  EXPECT_EQ(Links(kLater, true).size(), 1u);
  Put("a/x", "m2", "v2", {layer.str()});
  EXPECT_TRUE(Links(kLater).empty());
}

TEST_F(SqliteLifecycleTest, RetaggingStartsTheOldManifestsDelay) {
  Digest old = Put("a/x", "m1", "latest");
  Put("a/x", "m2", "latest");
  EXPECT_EQ(Manifests(kLater), Strings{"a/x@" + old.str()});
}

TEST_F(SqliteLifecycleTest, UnlinkedBlobsAreForgottenOnlyWhileUnlinked) {
  Digest a = Link("a/x", "aa"), b = Link("b/y", "bb");
  ASSERT_TRUE(store_->UnlinkBlob("a/x", a).ok());
  auto unlinked = store_->UnlinkedBlobs("", 10);
  ASSERT_TRUE(unlinked.ok());
  ASSERT_EQ(unlinked->size(), 1u);
  EXPECT_EQ((*unlinked)[0].digest, a);
  EXPECT_EQ((*unlinked)[0].size, 2u);
  Link("c/z", "aa");  // linked again before the delete
  auto forgotten = store_->ForgetBlobs({a, b});
  ASSERT_TRUE(forgotten.ok());
  EXPECT_TRUE(forgotten->empty());
  ASSERT_TRUE(store_->UnlinkBlob("c/z", a).ok());
  forgotten = store_->ForgetBlobs({a});
  ASSERT_TRUE(forgotten.ok());
  EXPECT_EQ(forgotten->size(), 1u);
  auto known = store_->BlobsKnown({a, b});
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(*known, (std::vector<bool>{false, true}));
}

TEST_F(SqliteLifecycleTest, UsageCountsEachBlobOncePerNamespace) {
  Link("alice/a", "12345");
  Link("alice/b", "12345");
  Link("alice/b", "678");
  Link("alice", "9");
  Link("bob/a", "12345");
  auto u = store_->Usage("alice");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->bytes, 9u);
  EXPECT_EQ(u->blobs, 3u);
  EXPECT_EQ(u->repositories, 3u);
  auto none = store_->Usage("carol");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->repositories, 0u);
  auto ns = store_->ListNamespaces("", 10);
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(*ns, (Strings{"alice", "bob"}));
}

TEST_F(SqliteLifecycleTest, QuotaRefusesOnlyNewBytes) {
  Link("alice/a", "12345", 8);
  Status over = store_->LinkBlob("alice/b", Sha256("6789"), 4, 8);
  EXPECT_EQ(over.code(), Errc::kDenied);
  EXPECT_NE(over.message().find("quota exceeded for namespace alice"), std::string::npos);
  EXPECT_NE(over.message().find("(5 bytes)"), std::string::npos);
  EXPECT_NE(over.message().find("(8 bytes)"), std::string::npos);
  // A blob the namespace already has adds nothing; another namespace is apart.
  EXPECT_TRUE(store_->LinkBlob("alice/b", Sha256("12345"), 5, 8).ok());
  EXPECT_TRUE(store_->LinkBlob("bob/a", Sha256("6789"), 4, 8).ok());
  EXPECT_TRUE(store_->LinkBlob("alice/b", Sha256("678"), 3, 8).ok());  // exactly at the limit
  auto mounted = store_->MountBlob("bob/a", "alice/c", Sha256("6789"), 8);
  EXPECT_EQ(mounted.status().code(), Errc::kDenied);
  EXPECT_TRUE(store_->MountBlob("bob/a", "alice/c", Sha256("6789"), 0).ok());
  EXPECT_EQ(store_->MountBlob("bob/none", "alice/c", Sha256("6789"), 0).status().code(),
            Errc::kBlobUnknown);
}

TEST_F(SqliteLifecycleTest, TagTimesAndConditionalTagDelete) {
  Put("a/x", "m1", "v1");
  auto tags = store_->ListTagInfo("a/x", "", 10);
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_GT((*tags)[0].pushed_at, 0);
  EXPECT_EQ((*tags)[0].pulled_at, 0);
  ASSERT_TRUE(store_->RecordPulls({{"a/x", "v1", 42}, {"a/x", "nope", 43}}).ok());
  ASSERT_TRUE(store_->RecordPulls({{"a/x", "v1", 41}}).ok());  // older: ignored
  tags = store_->ListTagInfo("a/x", "", 10);
  EXPECT_EQ((*tags)[0].pulled_at, 42);
  TagInfo stale = (*tags)[0];
  stale.digest = Sha256("other").str();
  auto deleted = store_->DeleteTagIf("a/x", stale);
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);  // moved meanwhile: kept
  deleted = store_->DeleteTagIf("a/x", (*tags)[0]);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
}

TEST_F(SqliteLifecycleTest, UpgradesAVersionOneStore) {
  store_.reset();
  fs::remove(dir_ + "/metadata.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/metadata.db").c_str(), &db), SQLITE_OK);
  // The schema berth wrote before the storage lifecycle (user_version 1).
  const char* v1 = R"sql(
CREATE TABLE repositories (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE repo_blobs (repo_id INTEGER NOT NULL REFERENCES repositories(id),
  digest TEXT NOT NULL REFERENCES blobs(digest), PRIMARY KEY (repo_id, digest)) WITHOUT ROWID;
CREATE TABLE manifests (repo_id INTEGER NOT NULL REFERENCES repositories(id), digest TEXT NOT NULL,
  media_type TEXT NOT NULL, content BLOB NOT NULL, subject TEXT, artifact_type TEXT,
  annotations TEXT, PRIMARY KEY (repo_id, digest));
CREATE INDEX manifests_by_subject ON manifests(repo_id, subject) WHERE subject IS NOT NULL;
CREATE TABLE manifest_refs (repo_id INTEGER NOT NULL, digest TEXT NOT NULL, ref TEXT NOT NULL,
  PRIMARY KEY (repo_id, digest, ref)) WITHOUT ROWID;
CREATE TABLE tags (repo_id INTEGER NOT NULL REFERENCES repositories(id), name TEXT NOT NULL,
  digest TEXT NOT NULL, PRIMARY KEY (repo_id, name)) WITHOUT ROWID;
CREATE INDEX tags_by_digest ON tags(repo_id, digest);
INSERT INTO repositories VALUES (1, 'alice/app');
INSERT INTO blobs VALUES ('sha256:0000000000000000000000000000000000000000000000000000000000000001', 7);
INSERT INTO repo_blobs VALUES (1, 'sha256:0000000000000000000000000000000000000000000000000000000000000001');
PRAGMA user_version=1;
)sql";
  ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Open();
  auto u = store_->Usage("alice");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->bytes, 7u);
  // Old links were stamped with the upgrade time: not garbage yet.
  EXPECT_TRUE(Links(kEarlier + 1000).empty());
  EXPECT_EQ(Links(kLater).size(), 1u);
  Open();  // and the upgraded store opens again as is
}

}  // namespace
}  // namespace berth::storage
