// The metadata store conformance suite: the same behavioural cases run
// against every implementation of MetadataStore, LifecycleStore, EventQueue,
// RefreshTokenStore, LeaseTable and ClusterLocks: SQLite (a temp directory)
// and PostgreSQL (when BERTH_PG_DSN is set; skipped otherwise). Each
// PostgreSQL case gets a schema of its own, dropped at its end.
// tests/integration/pg_store_test.sh runs it against a throwaway server.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/hasher.hpp"
#include "storage/cluster_lock.hpp"
#include "storage/db/sqlite_metadata_store.hpp"
#include "storage/db/sqlite_refresh_token_store.hpp"
#include "storage/pg/pg_schema.hpp"
#include "storage/pg/pg_stores.hpp"

namespace berth::storage {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

Digest Sha256(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha256, s); }

// Far in the future: everything is older than the delay.
constexpr int64_t kLater = int64_t{1} << 40;
// Far in the past: nothing is.
constexpr int64_t kEarlier = 0;

enum class Backend { kSqlite, kPostgres };

std::string PgDsn() {
  const char* dsn = std::getenv("BERTH_PG_DSN");
  return dsn ? dsn : "";
}

std::string RandomName(const std::string& prefix) {
  std::random_device rd;
  std::string s = prefix;
  for (int i = 0; i < 12; ++i) s += "0123456789abcdef"[rd() % 16];
  return s;
}

// One "node": its own store objects on the shared database.
struct Node {
  std::unique_ptr<SqliteMetadataStore> sqlite;
  std::unique_ptr<SqliteRefreshTokenStore> sqlite_tokens;
  std::unique_ptr<LocalClusterLocks> local_locks;
  std::optional<PgStores> pg;

  MetadataStore& meta() { return pg ? static_cast<MetadataStore&>(*pg->metadata) : *sqlite; }
  LifecycleStore& life() { return pg ? static_cast<LifecycleStore&>(*pg->metadata) : *sqlite; }
  EventQueue& events() { return pg ? static_cast<EventQueue&>(*pg->metadata) : *sqlite; }
  RefreshTokenStore& tokens() {
    return pg ? static_cast<RefreshTokenStore&>(*pg->refresh_tokens) : *sqlite_tokens;
  }
  LeaseTable* leases() { return pg ? pg->leases.get() : nullptr; }
  ClusterLocks& locks() {
    return pg ? static_cast<ClusterLocks&>(*pg->cluster_locks) : *local_locks;
  }
};

class MetadataConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      if (PgDsn().empty()) GTEST_SKIP() << "BERTH_PG_DSN is not set";
      schema_ = RandomName("berth_t_");
      auto admin = AdminPool();
      ASSERT_TRUE(admin) << admin.status().message();
      auto c = (*admin)->Acquire();
      ASSERT_TRUE(c) << c.status().message();
      ASSERT_TRUE(c->ExecScript("CREATE SCHEMA " + schema_).ok());
    } else {
      std::string tmpl = (fs::temp_directory_path() / "berth-conf-XXXXXX").string();
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
    }
    Reopen();
  }
  void TearDown() override {
    node_ = Node();
    if (!schema_.empty()) {
      auto admin = AdminPool();
      if (admin) {
        if (auto c = (*admin)->Acquire())
          (void)c->ExecScript("DROP SCHEMA " + schema_ + " CASCADE");
      }
    }
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  static Result<std::unique_ptr<pg::Pool>> AdminPool() {
    pg::PoolOptions o;
    o.dsn = PgDsn();
    o.size = 1;
    return pg::Pool::Open(o);
  }

  PgOptions PgOpts() const {
    PgOptions o;
    o.dsn = PgDsn();
    o.schema = schema_;
    o.pool_size = 4;
    return o;
  }

  // A new set of store objects on the same database (another node, or the
  // same one after a restart).
  Node OpenNode() {
    Node n;
    if (GetParam() == Backend::kPostgres) {
      auto s = OpenPostgres(PgOpts());
      EXPECT_TRUE(s.ok()) << s.status().message();
      if (s) n.pg = std::move(s).value();
    } else {
      auto m = SqliteMetadataStore::Open(dir_ + "/metadata.db");
      EXPECT_TRUE(m.ok()) << m.status().message();
      if (m) n.sqlite = std::move(m).value();
      auto t = SqliteRefreshTokenStore::Open(dir_ + "/tokens.db");
      EXPECT_TRUE(t.ok()) << t.status().message();
      if (t) n.sqlite_tokens = std::move(t).value();
      n.local_locks = std::make_unique<LocalClusterLocks>();
    }
    return n;
  }
  void Reopen() {
    node_ = Node();
    node_ = OpenNode();
    ASSERT_TRUE(node_.pg || (node_.sqlite && node_.sqlite_tokens));
  }

  MetadataStore& meta() { return node_.meta(); }
  LifecycleStore& life() { return node_.life(); }
  EventQueue& events() { return node_.events(); }
  RefreshTokenStore& tokens() { return node_.tokens(); }

  static ManifestPut MakePut(const std::string& content, std::optional<std::string> tag,
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
  Digest Link(const std::string& repo, const std::string& content, uint64_t quota = 0) {
    Digest d = Sha256(content);
    Status s = meta().LinkBlob(repo, d, content.size(), quota);
    EXPECT_TRUE(s.ok()) << s.message();
    return d;
  }
  Digest Put(const std::string& repo, const std::string& content, std::optional<std::string> tag,
             Strings blobs = {}, Strings manifests = {}, std::optional<std::string> subject = {}) {
    ManifestPut p = MakePut(content, std::move(tag), std::move(blobs), std::move(manifests));
    p.record.subject = std::move(subject);
    Status s = meta().PutManifest(repo, p);
    EXPECT_TRUE(s.ok()) << s.message();
    return p.record.digest;
  }
  Strings Tags(const std::string& repo, const std::string& last = "", size_t limit = 100) {
    auto t = meta().ListTags(repo, last, limit);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? *t : Strings{"<error>"};
  }
  Strings Manifests(LifecycleStore& l, int64_t before, bool dry_run = false) {
    Strings out;
    KeyCursor c;
    while (true) {
      auto b = l.CollectManifests(before, 2, dry_run, &c);
      EXPECT_TRUE(b.ok()) << b.status().message();
      if (!b.ok() || b->empty()) break;
      for (const auto& e : *b) out.push_back(e.repository + "@" + e.digest);
    }
    return out;
  }
  Strings Manifests(int64_t before, bool dry_run = false) {
    return Manifests(life(), before, dry_run);
  }
  Strings Links(LifecycleStore& l, int64_t before, bool dry_run = false) {
    Strings out;
    KeyCursor c;
    while (true) {
      auto b = l.CollectLinks(before, 2, dry_run, &c);
      EXPECT_TRUE(b.ok()) << b.status().message();
      if (!b.ok() || b->empty()) break;
      for (const auto& e : *b) out.push_back(e.repository + "@" + e.digest);
    }
    return out;
  }
  Strings Links(int64_t before, bool dry_run = false) { return Links(life(), before, dry_run); }
  bool HasManifest(const std::string& repo, const Digest& d) {
    return meta().GetManifest(repo, Reference(d)).ok();
  }
  static QueuedEvent Row(const std::string& endpoint, const std::string& id) {
    return {endpoint, id, R"({"id":")" + id + R"("})"};
  }
  Strings EventIds(const std::string& endpoint, size_t limit = 100) {
    auto p = events().Pending(endpoint, limit);
    EXPECT_TRUE(p.ok()) << p.status().message();
    Strings out;
    if (p) {
      for (const auto& e : *p) out.push_back(e.id);
    }
    return out;
  }

  std::string dir_;
  std::string schema_;
  Node node_;
};

// ---- MetadataStore ----

TEST_P(MetadataConformanceTest, LinkAndUnlinkBlob) {
  Digest d = Sha256("layer");
  EXPECT_EQ(meta().LinkedBlobSize("a", d).status().code(), Errc::kBlobUnknown);
  ASSERT_TRUE(meta().LinkBlob("a", d, 5, 0).ok());
  ASSERT_TRUE(meta().LinkBlob("a", d, 5, 0).ok());  // idempotent
  auto size = meta().LinkedBlobSize("a", d);
  ASSERT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(*size, 5u);
  EXPECT_TRUE(meta().UnlinkBlob("a", d).ok());
  EXPECT_EQ(meta().LinkedBlobSize("a", d).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(meta().UnlinkBlob("a", d).code(), Errc::kBlobUnknown);
  EXPECT_EQ(meta().UnlinkBlob("nosuch", d).code(), Errc::kBlobUnknown);
  EXPECT_TRUE(meta().Ping().ok());
}

TEST_P(MetadataConformanceTest, RepositoriesAreIsolated) {
  Digest d = Sha256("layer");
  ASSERT_TRUE(meta().LinkBlob("a", d, 5, 0).ok());
  ASSERT_TRUE(meta().LinkBlob("b", Sha256("other"), 5, 0).ok());
  EXPECT_EQ(meta().LinkedBlobSize("b", d).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(meta().UnlinkBlob("b", d).code(), Errc::kBlobUnknown);
  EXPECT_TRUE(meta().LinkedBlobSize("a", d).ok());

  ASSERT_TRUE(meta().PutManifest("a", MakePut("m", "latest", {d.str()})).ok());
  EXPECT_EQ(meta().GetManifest("b", Reference(std::string("latest"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(meta().GetManifest("b", Reference(Sha256("m"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(meta().PutManifest("b", MakePut("m2", "latest", {d.str()})).code(),
            Errc::kManifestBlobUnknown);
  EXPECT_EQ(Tags("b"), Strings{});
}

TEST_P(MetadataConformanceTest, PutAndGetManifestByteForByte) {
  Digest blob = Sha256("layer");
  ASSERT_TRUE(meta().LinkBlob("a", blob, 5, 0).ok());
  // Every byte value, NUL included, and invalid UTF-8: stored exactly.
  std::string content = "{\"x\":\"\xc3\xa9\"}\n";
  for (int i = 0; i < 256; ++i) content += static_cast<char>(i);
  ManifestPut p = MakePut(content, "v1", {blob.str()});
  p.record.subject = Sha256("subject").str();
  p.record.artifact_type = "application/vnd.example";
  p.record.annotations_json = R"({"k":"v \"q\" \\"})";
  Status s = meta().PutManifest("a", p);
  ASSERT_TRUE(s.ok()) << s.message();

  for (const Reference& ref : {Reference(std::string("v1")), Reference(p.record.digest)}) {
    auto m = meta().GetManifest("a", ref);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m->digest, p.record.digest);
    EXPECT_EQ(m->media_type, p.record.media_type);
    EXPECT_EQ(m->content, p.record.content);
    EXPECT_EQ(m->subject, p.record.subject);
    EXPECT_EQ(m->artifact_type, p.record.artifact_type);
    EXPECT_EQ(m->annotations_json, p.record.annotations_json);
  }
  auto plain = meta().GetManifest("a", Reference(p.record.digest));
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(meta().PutManifest("a", MakePut("no-extras", std::nullopt)).ok());
  auto bare = meta().GetManifest("a", Reference(Sha256("no-extras")));
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->subject.has_value());
  EXPECT_FALSE(bare->artifact_type.has_value());
  EXPECT_FALSE(bare->annotations_json.has_value());
  EXPECT_EQ(meta().GetManifest("a", Reference(std::string("v2"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(meta().GetManifest("nosuch", Reference(std::string("v1"))).status().code(),
            Errc::kManifestUnknown);
}

TEST_P(MetadataConformanceTest, PutManifestRefusesMissingReferences) {
  Digest present = Sha256("present");
  Digest missing = Sha256("missing");
  ASSERT_TRUE(meta().LinkBlob("a", present, 1, 0).ok());

  Status s = meta().PutManifest("a", MakePut("m1", "t", {present.str(), missing.str()}));
  EXPECT_EQ(s.code(), Errc::kManifestBlobUnknown);
  EXPECT_NE(s.message().find(missing.str()), std::string::npos) << s.message();

  s = meta().PutManifest("a", MakePut("index", "t", {}, {Sha256("child").str()}));
  EXPECT_EQ(s.code(), Errc::kManifestBlobUnknown);
  EXPECT_NE(s.message().find(Sha256("child").str()), std::string::npos) << s.message();

  EXPECT_EQ(meta().GetManifest("a", Reference(Sha256("m1"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(Tags("a"), Strings{});
  EXPECT_EQ(meta().PutManifest("fresh", MakePut("m", "t", {present.str()})).code(),
            Errc::kManifestBlobUnknown);
  EXPECT_EQ(meta().ListTags("fresh", "", 100).status().code(), Errc::kNameUnknown);

  ASSERT_TRUE(meta().PutManifest("a", MakePut("child", std::nullopt)).ok());
  EXPECT_TRUE(meta().PutManifest("a", MakePut("index", "t", {}, {Sha256("child").str()})).ok());
}

TEST_P(MetadataConformanceTest, TagsSortedBytewiseWithPaging) {
  const Strings tags = {"b", "B", "a", "_x", "A1", "a.b", "a-b", "10", "9", "latest", "Z"};
  for (const auto& t : tags) ASSERT_TRUE(meta().PutManifest("a", MakePut("m-" + t, t)).ok()) << t;
  Strings sorted = tags;
  std::sort(sorted.begin(), sorted.end());  // std::string compares bytewise
  EXPECT_EQ(Tags("a"), sorted);
  EXPECT_EQ(Tags("a", "", 3), Strings(sorted.begin(), sorted.begin() + 3));
  EXPECT_EQ(Tags("a", sorted[2], 3), Strings(sorted.begin() + 3, sorted.begin() + 6));
  EXPECT_EQ(Tags("a", "a"), Strings({"a-b", "a.b", "b", "latest"}));
  EXPECT_EQ(Tags("a", "latest"), Strings{});
  EXPECT_EQ(Tags("a", "", 0), Strings{});
  EXPECT_EQ(Tags("a", "", std::numeric_limits<size_t>::max()), sorted);
  EXPECT_EQ(meta().ListTags("nosuch", "", 100).status().code(), Errc::kNameUnknown);
}

TEST_P(MetadataConformanceTest, RetagMovesTheTag) {
  ASSERT_TRUE(meta().PutManifest("a", MakePut("one", "latest")).ok());
  ASSERT_TRUE(meta().PutManifest("a", MakePut("two", "latest")).ok());
  auto m = meta().GetManifest("a", Reference(std::string("latest")));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->content, "two");
  EXPECT_EQ(Tags("a"), Strings{"latest"});
  EXPECT_TRUE(meta().GetManifest("a", Reference(Sha256("one"))).ok());
}

TEST_P(MetadataConformanceTest, DeleteTagOnlyRemovesTag) {
  ASSERT_TRUE(meta().PutManifest("a", MakePut("m", "v1")).ok());
  ASSERT_TRUE(meta().PutManifest("a", MakePut("m", "v2")).ok());
  ASSERT_TRUE(meta().DeleteTag("a", "v1").ok());
  EXPECT_EQ(Tags("a"), Strings{"v2"});
  EXPECT_TRUE(meta().GetManifest("a", Reference(Sha256("m"))).ok());
  EXPECT_TRUE(meta().GetManifest("a", Reference(std::string("v2"))).ok());
  EXPECT_EQ(meta().DeleteTag("a", "v1").code(), Errc::kManifestUnknown);
  EXPECT_EQ(meta().DeleteTag("nosuch", "v2").code(), Errc::kManifestUnknown);
}

TEST_P(MetadataConformanceTest, DeleteManifestRemovesItsTags) {
  ASSERT_TRUE(meta().PutManifest("a", MakePut("m", "v1")).ok());
  ASSERT_TRUE(meta().PutManifest("a", MakePut("m", "v2")).ok());
  ASSERT_TRUE(meta().PutManifest("a", MakePut("other", "keep")).ok());
  ASSERT_TRUE(meta().DeleteManifest("a", Sha256("m")).ok());
  EXPECT_EQ(meta().GetManifest("a", Reference(Sha256("m"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(meta().GetManifest("a", Reference(std::string("v1"))).status().code(),
            Errc::kManifestUnknown);
  EXPECT_EQ(Tags("a"), Strings{"keep"});
  EXPECT_EQ(meta().DeleteManifest("a", Sha256("m")).code(), Errc::kManifestUnknown);
  EXPECT_EQ(meta().DeleteManifest("nosuch", Sha256("other")).code(), Errc::kManifestUnknown);
  EXPECT_TRUE(meta().PutManifest("a", MakePut("m", "v1")).ok());
}

TEST_P(MetadataConformanceTest, ReferrersWithArtifactTypeFilter) {
  const Digest subject = Sha256("subject");
  ASSERT_TRUE(meta().PutManifest("a", MakePut("subject", "latest")).ok());
  auto referrer = [&](const std::string& content, const std::string& type) {
    ManifestPut p = MakePut(content, std::nullopt);
    p.record.subject = subject.str();
    p.record.artifact_type = type;
    p.record.annotations_json = R"({"t":")" + type + "\"}";
    return p;
  };
  ASSERT_TRUE(meta().PutManifest("a", referrer("sbom-manifest", "application/sbom")).ok());
  ASSERT_TRUE(meta().PutManifest("a", referrer("sig", "application/sig")).ok());
  ASSERT_TRUE(meta().PutManifest("b", referrer("elsewhere", "application/sig")).ok());

  auto all = meta().ListReferrers("a", subject, std::nullopt, "", 100);
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
  auto sigs = meta().ListReferrers("a", subject, std::string("application/sig"), "", 100);
  ASSERT_TRUE(sigs.ok());
  ASSERT_EQ(sigs->size(), 1u);
  EXPECT_EQ((*sigs)[0].digest, Sha256("sig").str());
  auto none = meta().ListReferrers("a", subject, std::string("application/none"), "", 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto other = meta().ListReferrers("a", Sha256("sig"), std::nullopt, "", 100);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
  auto b = meta().ListReferrers("b", subject, std::nullopt, "", 100);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->size(), 1u);
}

TEST_P(MetadataConformanceTest, ReferrersPaging) {
  const Digest subject = Sha256("subject");
  ASSERT_TRUE(meta().PutManifest("a", MakePut("subject", "latest")).ok());
  Strings want;
  for (int i = 0; i < 7; ++i) {
    ManifestPut p = MakePut("referrer " + std::to_string(i), std::nullopt);
    p.record.subject = subject.str();
    p.record.artifact_type = i % 2 ? "application/odd" : "application/even";
    want.push_back(p.record.digest.str());
    ASSERT_TRUE(meta().PutManifest("a", p).ok());
  }
  std::sort(want.begin(), want.end());
  Strings got;
  std::string last;
  int pages = 0;
  while (true) {
    auto page = meta().ListReferrers("a", subject, std::nullopt, last, 3);
    ASSERT_TRUE(page.ok()) << page.status().message();
    ASSERT_LE(page->size(), 3u);
    for (const auto& r : *page) got.push_back(r.digest);
    ++pages;
    if (page->size() < 3) break;
    last = page->back().digest;
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(pages, 3);
  auto odd1 = meta().ListReferrers("a", subject, std::string("application/odd"), "", 2);
  ASSERT_TRUE(odd1.ok());
  ASSERT_EQ(odd1->size(), 2u);
  auto odd2 =
      meta().ListReferrers("a", subject, std::string("application/odd"), odd1->back().digest, 2);
  ASSERT_TRUE(odd2.ok());
  ASSERT_EQ(odd2->size(), 1u);
  EXPECT_EQ((*odd2)[0].artifact_type, "application/odd");
  EXPECT_GT((*odd2)[0].digest, odd1->back().digest);
}

TEST_P(MetadataConformanceTest, ListRepositoriesPagingInByteOrder) {
  for (const char* repo : {"b", "a", "c/d", "a/b", "a-c", "B", "a_c"}) {
    ASSERT_TRUE(meta().LinkBlob(repo, Sha256("x"), 1, 0).ok());
  }
  auto all = meta().ListRepositories("", std::numeric_limits<size_t>::max());
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(*all, Strings({"B", "a", "a-c", "a/b", "a_c", "b", "c/d"}));
  auto page1 = meta().ListRepositories("", 2);
  ASSERT_TRUE(page1.ok());
  EXPECT_EQ(*page1, Strings({"B", "a"}));
  auto page2 = meta().ListRepositories(page1->back(), 3);
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(*page2, Strings({"a-c", "a/b", "a_c"}));
  auto end = meta().ListRepositories("c/d", 2);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->empty());
}

TEST_P(MetadataConformanceTest, ReopenKeepsData) {
  Digest blob = Sha256("layer");
  ASSERT_TRUE(meta().LinkBlob("a", blob, 5, 0).ok());
  ASSERT_TRUE(meta().PutManifest("a", MakePut("m", "latest", {blob.str()})).ok());
  Reopen();
  auto size = meta().LinkedBlobSize("a", blob);
  ASSERT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(*size, 5u);
  auto m = meta().GetManifest("a", Reference(std::string("latest")));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->content, "m");
  EXPECT_EQ(Tags("a"), Strings{"latest"});
}

// ---- LifecycleStore ----

TEST_P(MetadataConformanceTest, TaggedManifestsAndTheirLinksStay) {
  Digest layer = Link("a/x", "layer");
  Put("a/x", "m1", "v1", {layer.str()});
  EXPECT_TRUE(Manifests(kLater).empty());
  EXPECT_TRUE(Links(kLater).empty());
}

TEST_P(MetadataConformanceTest, UntaggedManifestGoesAfterItsDelayThenItsLinks) {
  Digest layer = Link("a/x", "layer");
  Digest m = Put("a/x", "m1", "v1", {layer.str()});
  ASSERT_TRUE(meta().DeleteTag("a/x", "v1").ok());
  EXPECT_TRUE(Manifests(kEarlier).empty());
  EXPECT_TRUE(Links(kLater).empty());
  EXPECT_EQ(Manifests(kLater), Strings{"a/x@" + m.str()});
  EXPECT_FALSE(HasManifest("a/x", m));
  EXPECT_TRUE(Links(kEarlier).empty());
  EXPECT_EQ(Links(kLater), Strings{"a/x@" + layer.str()});
  EXPECT_FALSE(meta().LinkedBlobSize("a/x", layer).ok());
}

TEST_P(MetadataConformanceTest, DryRunDeletesNothing) {
  Digest m = Put("a/x", "m1", std::nullopt);
  Link("a/x", "lonely");
  EXPECT_EQ(Manifests(kLater, true).size(), 1u);
  EXPECT_EQ(Links(kLater, true).size(), 1u);
  EXPECT_TRUE(HasManifest("a/x", m));
  EXPECT_EQ(Links(kLater).size(), 1u);
}

TEST_P(MetadataConformanceTest, CopyCollectsExactlyWhatARunWouldAndLeavesTheStore) {
  Digest layer = Link("a/x", "layer");
  Digest m = Put("a/x", "m1", "v1", {layer.str()});
  Put("a/x", "m2", "v2");
  Link("b/y", "lonely");
  ASSERT_TRUE(meta().DeleteTag("a/x", "v1").ok());
  auto copy = life().Copy(dir_.empty() ? "unused" : dir_ + "/copy.db");
  ASSERT_TRUE(copy.ok()) << copy.status().message();
  // On the copy, a real run: the manifest, then its layer and the lonely link.
  EXPECT_EQ(Manifests((*copy)->lifecycle(), kLater), Strings{"a/x@" + m.str()});
  EXPECT_EQ(Links((*copy)->lifecycle(), kLater).size(), 2u);
  EXPECT_FALSE((*copy)->meta().GetManifest("a/x", Reference(m)).ok());
  // A write to the copy after the snapshot: new repositories get new ids.
  ASSERT_TRUE((*copy)->meta().LinkBlob("c/new", Sha256("n"), 1, 0).ok());
  // The store itself is untouched.
  EXPECT_TRUE(HasManifest("a/x", m));
  EXPECT_TRUE(meta().LinkedBlobSize("a/x", layer).ok());
  EXPECT_EQ(meta().LinkedBlobSize("c/new", Sha256("n")).status().code(), Errc::kBlobUnknown);
  copy = Status(Errc::kInternal, "dropped");  // the copy goes
  EXPECT_EQ(Manifests(kLater), Strings{"a/x@" + m.str()});
}

TEST_P(MetadataConformanceTest, IndexChildrenGoOnlyAfterTheIndex) {
  Digest c1 = Put("a/x", "child1", std::nullopt);
  Digest c2 = Put("a/x", "child2", std::nullopt);
  Digest index = Put("a/x", "index", "latest", {}, {c1.str(), c2.str()});
  EXPECT_TRUE(Manifests(kLater).empty());
  ASSERT_TRUE(meta().DeleteTag("a/x", "latest").ok());
  Strings first = Manifests(kLater);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0], "a/x@" + index.str());
  EXPECT_EQ(first.size() + Manifests(kLater).size(), 3u);
  EXPECT_FALSE(HasManifest("a/x", c1));
  EXPECT_FALSE(HasManifest("a/x", c2));
}

TEST_P(MetadataConformanceTest, ReferrersLiveAsLongAsTheirSubject) {
  Digest subject = Put("a/x", "image", "v1");
  Digest sig = Put("a/x", "signature", std::nullopt, {}, {}, subject.str());
  EXPECT_TRUE(Manifests(kLater).empty());
  ASSERT_TRUE(meta().DeleteManifest("a/x", subject).ok());
  EXPECT_EQ(Manifests(kLater), Strings{"a/x@" + sig.str()});
}

TEST_P(MetadataConformanceTest, APushAfterTheScanWins) {
  Digest m = Put("a/x", "m1", std::nullopt);
  EXPECT_EQ(Manifests(kLater, true).size(), 1u);
  Put("a/x", "m1", "v1");
  EXPECT_TRUE(Manifests(kLater).empty());
  EXPECT_TRUE(HasManifest("a/x", m));
  Digest layer = Link("a/x", "layer");
  EXPECT_EQ(Links(kLater, true).size(), 1u);
  Put("a/x", "m2", "v2", {layer.str()});
  EXPECT_TRUE(Links(kLater).empty());
}

TEST_P(MetadataConformanceTest, RetaggingStartsTheOldManifestsDelay) {
  Digest old = Put("a/x", "m1", "latest");
  Put("a/x", "m2", "latest");
  EXPECT_EQ(Manifests(kLater), Strings{"a/x@" + old.str()});
}

TEST_P(MetadataConformanceTest, UnlinkedBlobsAreForgottenOnlyWhileUnlinked) {
  Digest a = Link("a/x", "aa"), b = Link("b/y", "bb");
  ASSERT_TRUE(meta().UnlinkBlob("a/x", a).ok());
  auto unlinked = life().UnlinkedBlobs("", 10);
  ASSERT_TRUE(unlinked.ok());
  ASSERT_EQ(unlinked->size(), 1u);
  EXPECT_EQ((*unlinked)[0].digest, a);
  EXPECT_EQ((*unlinked)[0].size, 2u);
  Link("c/z", "aa");
  auto forgotten = life().ForgetBlobs({a, b});
  ASSERT_TRUE(forgotten.ok());
  EXPECT_TRUE(forgotten->empty());
  ASSERT_TRUE(meta().UnlinkBlob("c/z", a).ok());
  forgotten = life().ForgetBlobs({a});
  ASSERT_TRUE(forgotten.ok());
  EXPECT_EQ(forgotten->size(), 1u);
  auto known = life().BlobsKnown({a, b, a});
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(*known, (std::vector<bool>{false, true, false}));
  auto none = life().BlobsKnown({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(MetadataConformanceTest, UsageCountsEachBlobOncePerNamespace) {
  Link("alice/a", "12345");
  Link("alice/b", "12345");
  Link("alice/b", "678");
  Link("alice", "9");
  Link("bob/a", "12345");
  auto u = life().Usage("alice");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->bytes, 9u);
  EXPECT_EQ(u->blobs, 3u);
  EXPECT_EQ(u->repositories, 3u);
  auto none = life().Usage("carol");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->repositories, 0u);
  EXPECT_EQ(none->bytes, 0u);
  auto ns = life().ListNamespaces("", 10);
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(*ns, (Strings{"alice", "bob"}));
  auto after = life().ListNamespaces("alice", 10);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, (Strings{"bob"}));
}

TEST_P(MetadataConformanceTest, QuotaRefusesOnlyNewBytes) {
  Link("alice/a", "12345", 8);
  Status over = meta().LinkBlob("alice/b", Sha256("6789"), 4, 8);
  EXPECT_EQ(over.code(), Errc::kDenied);
  EXPECT_NE(over.message().find("quota exceeded for namespace alice"), std::string::npos);
  EXPECT_NE(over.message().find("(5 bytes)"), std::string::npos);
  EXPECT_NE(over.message().find("(8 bytes)"), std::string::npos);
  EXPECT_TRUE(meta().LinkBlob("alice/b", Sha256("12345"), 5, 8).ok());
  EXPECT_TRUE(meta().LinkBlob("bob/a", Sha256("6789"), 4, 8).ok());
  EXPECT_TRUE(meta().LinkBlob("alice/b", Sha256("678"), 3, 8).ok());  // exactly at the limit
  auto mounted = meta().MountBlob("bob/a", "alice/c", Sha256("6789"), 8);
  EXPECT_EQ(mounted.status().code(), Errc::kDenied);
  auto free_mount = meta().MountBlob("bob/a", "alice/c", Sha256("6789"), 0);
  ASSERT_TRUE(free_mount.ok()) << free_mount.status().message();
  EXPECT_EQ(*free_mount, 4u);
  EXPECT_EQ(meta().MountBlob("bob/none", "alice/c", Sha256("6789"), 0).status().code(),
            Errc::kBlobUnknown);
}

// Two nodes (each its own store objects on the same database) push distinct
// blobs into one namespace at once: together they never pass its quota.
TEST_P(MetadataConformanceTest, ConcurrentPushesFromTwoNodesNeverOvershootTheQuota) {
  Node other = OpenNode();
  constexpr uint64_t kSize = 10, kQuota = 1000;
  constexpr int kEach = 80;  // 2 x 80 x 10 bytes = 1600 wanted
  std::atomic<uint64_t> accepted{0};
  std::atomic<int> unexpected{0};
  std::string first_error;
  std::mutex error_mu;
  auto push = [&](MetadataStore& store, const std::string& repo, int node) {
    for (int i = 0; i < kEach; ++i) {
      Digest d = Sha256("node" + std::to_string(node) + "-" + std::to_string(i));
      Status s = store.LinkBlob(repo, d, kSize, kQuota);
      if (s.ok()) {
        accepted += kSize;
      } else if (s.code() != Errc::kDenied) {
        ++unexpected;
        std::lock_guard lock(error_mu);
        if (first_error.empty()) first_error = s.message();
      }
    }
  };
  std::thread t1([&] { push(meta(), "team/a", 1); });
  std::thread t2([&] { push(other.meta(), "team/b", 2); });
  t1.join();
  t2.join();
  EXPECT_EQ(unexpected.load(), 0) << first_error;
  auto u = life().Usage("team");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_LE(u->bytes, kQuota);
  EXPECT_EQ(u->bytes, accepted.load());
  EXPECT_EQ(u->bytes, kQuota);  // pushed until full, one blob at a time
}

TEST_P(MetadataConformanceTest, TagTimesAndConditionalTagDelete) {
  Put("a/x", "m1", "v1");
  auto tags = life().ListTagInfo("a/x", "", 10);
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_GT((*tags)[0].pushed_at, 0);
  EXPECT_EQ((*tags)[0].pulled_at, 0);
  ASSERT_TRUE(life().RecordPulls({{"a/x", "v1", 42}, {"a/x", "nope", 43}}).ok());
  ASSERT_TRUE(life().RecordPulls({{"a/x", "v1", 41}}).ok());
  ASSERT_TRUE(life().RecordPulls({}).ok());
  tags = life().ListTagInfo("a/x", "", 10);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ((*tags)[0].pulled_at, 42);
  TagInfo stale = (*tags)[0];
  stale.digest = Sha256("other").str();
  auto deleted = life().DeleteTagIf("a/x", stale);
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  TagInfo older = (*tags)[0];
  older.pushed_at -= 1;
  deleted = life().DeleteTagIf("a/x", older);
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  deleted = life().DeleteTagIf("a/x", (*tags)[0]);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  deleted = life().DeleteTagIf("nosuch/repo", (*tags)[0]);
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
}

TEST_P(MetadataConformanceTest, TotalsCountEverything) {
  Digest l = Link("a/x", "layer");
  Link("b/y", "layer");
  Link("b/y", "other");
  Put("a/x", "m1", "v1", {l.str()});
  Put("a/x", "m1", "v2");
  auto t = life().Totals();
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->repositories, 2u);
  EXPECT_EQ(t->manifests, 1u);
  EXPECT_EQ(t->tags, 2u);
  EXPECT_EQ(t->blobs, 2u);
  EXPECT_EQ(t->blob_bytes, 10u);
}

// ---- EventQueue ----

TEST_P(MetadataConformanceTest, EventsPendingInRecordingOrderPerEndpoint) {
  ASSERT_TRUE(events().Enqueue({Row("a", "1"), Row("b", "1"), Row("a", "2")}).ok());
  ASSERT_TRUE(events().Enqueue({Row("a", "3")}).ok());
  ASSERT_TRUE(events().Enqueue({}).ok());
  EXPECT_EQ(EventIds("a"), (Strings{"1", "2", "3"}));
  EXPECT_EQ(EventIds("b"), (Strings{"1"}));
  EXPECT_EQ(EventIds("a", 2), (Strings{"1", "2"}));
  EXPECT_EQ(*events().Count("a"), 3u);
  EXPECT_EQ(*events().Count("nobody"), 0u);
  auto p = events().Pending("a", 10);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)[0].payload, R"({"id":"1"})");
  EXPECT_LT((*p)[0].seq, (*p)[1].seq);
}

TEST_P(MetadataConformanceTest, EventsRemoveOnlyThroughSeqOfOneEndpoint) {
  ASSERT_TRUE(events().Enqueue({Row("a", "1"), Row("a", "2"), Row("b", "x"), Row("a", "3")}).ok());
  auto p = events().Pending("a", 2);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(events().Remove("a", p->back().seq).ok());
  EXPECT_EQ(EventIds("a"), (Strings{"3"}));
  EXPECT_EQ(EventIds("b"), (Strings{"x"}));
}

TEST_P(MetadataConformanceTest, EventsTrimDropsTheOldestFirst) {
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(events().Enqueue({Row("a", std::to_string(i))}).ok());
  ASSERT_TRUE(events().Enqueue({Row("b", "keep")}).ok());
  auto dropped = events().Trim("a", 2);
  ASSERT_TRUE(dropped.ok()) << dropped.status().message();
  EXPECT_EQ(*dropped, 3u);
  EXPECT_EQ(EventIds("a"), (Strings{"4", "5"}));
  EXPECT_EQ(*events().Trim("a", 2), 0u);
  EXPECT_EQ(*events().Trim("a", 0), 2u);
  EXPECT_TRUE(EventIds("a").empty());
  EXPECT_EQ(EventIds("b"), (Strings{"keep"}));
}

TEST_P(MetadataConformanceTest, ChangesRecordTheirEventsInTheirTransaction) {
  const Digest blob = Sha256("layer");
  ASSERT_TRUE(meta().LinkBlob("r", blob, 5, 0).ok());
  ManifestPut ok = MakePut("m1", "latest", {blob.str()});
  ok.events = {Row("a", "push-1")};
  ASSERT_TRUE(meta().PutManifest("r", ok).ok());
  ManifestPut missing = MakePut("m2", "latest", {Sha256("absent").str()});
  missing.events = {Row("a", "push-2")};
  EXPECT_EQ(meta().PutManifest("r", missing).code(), Errc::kManifestBlobUnknown);
  EXPECT_EQ(meta().DeleteTag("r", "nosuch", {Row("a", "del-0")}).code(), Errc::kManifestUnknown);
  EXPECT_EQ(meta().DeleteManifest("r", Sha256("nosuch"), {Row("a", "del-0")}).code(),
            Errc::kManifestUnknown);
  ASSERT_TRUE(meta().DeleteTag("r", "latest", {Row("a", "del-tag")}).ok());
  ASSERT_TRUE(meta().DeleteManifest("r", Sha256("m1"), {Row("a", "del-m")}).ok());
  EXPECT_EQ(EventIds("a"), (Strings{"push-1", "del-tag", "del-m"}));
  Reopen();
  EXPECT_EQ(EventIds("a"), (Strings{"push-1", "del-tag", "del-m"}));
}

// Two nodes record events at once while a reader removes what it has seen:
// no event is removed before it was seen (seq becomes visible in order).
TEST_P(MetadataConformanceTest, ConcurrentEventsAreNeverRemovedUnseen) {
  Node other = OpenNode();
  constexpr int kEach = 100;
  std::atomic<bool> done{false};
  auto writer = [&](EventQueue& q, const std::string& who) {
    for (int i = 0; i < kEach; ++i)
      EXPECT_TRUE(q.Enqueue({Row("ep", who + std::to_string(i))}).ok());
  };
  std::set<std::string> seen;
  std::thread w1([&] { writer(events(), "a"); });
  std::thread w2([&] { writer(other.events(), "b"); });
  std::thread reader([&] {
    auto drain = [&] {
      auto p = events().Pending("ep", 7);
      EXPECT_TRUE(p.ok()) << p.status().message();
      if (!p.ok() || p->empty()) return false;
      for (const auto& e : *p) seen.insert(e.id);
      EXPECT_TRUE(events().Remove("ep", p->back().seq).ok());
      return true;
    };
    while (!done.load()) drain();
    while (drain()) {
    }
  });
  w1.join();
  w2.join();
  done = true;
  reader.join();
  EXPECT_EQ(seen.size(), 2u * kEach);
}

// ---- RefreshTokenStore ----

TEST_P(MetadataConformanceTest, TokensSaveFindTouchRevoke) {
  RefreshGrant g{"alice", "berth", true, "gen-a", 1, 2, ""};
  ASSERT_TRUE(tokens().Save("h1", g, 1000).ok());
  ASSERT_TRUE(tokens().Save("h2", {"bob", "berth", false, "gen-b", 0, 0, ""}, 1000).ok());
  auto found = tokens().Find("h1");
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(found->subject, "alice");
  EXPECT_EQ(found->service, "berth");
  EXPECT_TRUE(found->admin);
  EXPECT_EQ(found->generation, "gen-a");
  EXPECT_EQ(found->created, 1000);
  EXPECT_EQ(found->last_used, 1000);
  EXPECT_FALSE(tokens().Find("h2")->admin);
  ASSERT_TRUE(tokens().Touch("h1", 1500).ok());
  EXPECT_EQ(tokens().Find("h1")->last_used, 1500);
  EXPECT_EQ(tokens().Find("h1")->created, 1000);
  EXPECT_TRUE(tokens().Touch("gone", 1500).ok());
  EXPECT_EQ(tokens().Find("nope").status().code(), Errc::kUnauthorized);
  ASSERT_TRUE(tokens().Save("h3", {"alice", "berth", false, "gen-a", 0, 0, ""}, 1000).ok());
  EXPECT_EQ(tokens().RevokeOne("h3").value(), 1);
  EXPECT_EQ(tokens().Find("h3").status().code(), Errc::kUnauthorized);
  EXPECT_EQ(tokens().RevokeOne("h3").value(), 0);
  EXPECT_TRUE(tokens().Find("h1").ok());
  EXPECT_EQ(tokens().Revoke("alice").value(), 1);
  EXPECT_EQ(tokens().Find("h1").status().code(), Errc::kUnauthorized);
  EXPECT_TRUE(tokens().Find("h2").ok());
  EXPECT_EQ(tokens().Revoke("").value(), 1);
  EXPECT_EQ(tokens().Find("h2").status().code(), Errc::kUnauthorized);
}

// A Keystone grant keeps the backend's session sealed (RefreshGrant::sealed_session).
TEST_P(MetadataConformanceTest, TokensKeepTheSealedSession) {
  const std::string sealed(2 * 300, 'a');  // hex of a long Keystone token, sealed
  ASSERT_TRUE(tokens().Save("ks", {"alice", "berth", false, "", 0, 0, sealed}, 1000).ok());
  ASSERT_TRUE(tokens().Save("plain", {"bob", "berth", false, "g", 0, 0, ""}, 1000).ok());
  EXPECT_EQ(tokens().Find("ks")->sealed_session, sealed);
  EXPECT_EQ(tokens().Find("ks")->generation, "");
  EXPECT_EQ(tokens().Find("plain")->sealed_session, "");
  ASSERT_TRUE(tokens().Touch("ks", 1100).ok());
  EXPECT_EQ(tokens().Find("ks")->sealed_session, sealed);
  EXPECT_EQ(tokens().RevokeOne("ks").value(), 1);
  EXPECT_EQ(tokens().Find("ks").status().code(), Errc::kUnauthorized);
}

TEST_P(MetadataConformanceTest, TokensDeleteExpiredByAgeOrIdleTime) {
  ASSERT_TRUE(tokens().Save("old", {"a", "berth", false, "g", 0, 0, ""}, 100).ok());
  ASSERT_TRUE(tokens().Save("idle", {"b", "berth", false, "g", 0, 0, ""}, 500).ok());
  ASSERT_TRUE(tokens().Save("busy", {"c", "berth", false, "g", 0, 0, ""}, 500).ok());
  ASSERT_TRUE(tokens().Touch("busy", 900).ok());
  EXPECT_EQ(tokens().DeleteExpired(200, 800).value(), 2);
  EXPECT_FALSE(tokens().Find("old").ok());
  EXPECT_FALSE(tokens().Find("idle").ok());
  EXPECT_TRUE(tokens().Find("busy").ok());
}

TEST_P(MetadataConformanceTest, TokenRevocationFromAnotherNodeIsImmediate) {
  ASSERT_TRUE(tokens().Save("h", {"bob", "berth", false, "g", 0, 0, ""}, 1).ok());
  ASSERT_TRUE(tokens().Find("h").ok());
  {
    Node cli = OpenNode();
    EXPECT_EQ(cli.tokens().Revoke("bob").value(), 1);
  }
  EXPECT_EQ(tokens().Find("h").status().code(), Errc::kUnauthorized);
}

// ---- LeaseTable and ClusterLocks ----

TEST_P(MetadataConformanceTest, LeasesAreExclusiveUntilReleasedOrLapsed) {
  LeaseTable* leases = node_.leases();
  if (!leases) GTEST_SKIP() << "no LeaseTable on this backend";
  Node other = OpenNode();
  LeaseTable& theirs = *other.leases();
  EXPECT_TRUE(*leases->TryAcquire("upload-1", "h1", 60));
  EXPECT_TRUE(*leases->TryAcquire("upload-1", "h1", 60));  // renewed by its holder
  EXPECT_FALSE(*theirs.TryAcquire("upload-1", "h2", 60));
  EXPECT_TRUE(*theirs.TryAcquire("upload-2", "h2", 60));  // another key is free
  ASSERT_TRUE(theirs.Release("upload-1", "h2").ok());     // not its holder: nothing
  EXPECT_FALSE(*theirs.TryAcquire("upload-1", "h2", 60));
  ASSERT_TRUE(leases->Release("upload-1", "h1").ok());
  EXPECT_TRUE(*theirs.TryAcquire("upload-1", "h2", 60));
  ASSERT_TRUE(leases->Release("nosuch", "h1").ok());
  // A lease not renewed lapses after its time to live.
  EXPECT_TRUE(*leases->TryAcquire("upload-3", "h1", 1));
  EXPECT_FALSE(*theirs.TryAcquire("upload-3", "h2", 60));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_TRUE(*theirs.TryAcquire("upload-3", "h2", 60));
  EXPECT_FALSE(*leases->TryAcquire("upload-3", "h1", 60));
}

TEST_P(MetadataConformanceTest, ClusterLockIsHeldByOneUntilDropped) {
  auto held = node_.locks().TryLock("gc");
  ASSERT_TRUE(held.ok()) << held.status().message();
  EXPECT_TRUE((*held)->Check().ok());
  EXPECT_EQ(node_.locks().TryLock("gc").status().code(), Errc::kBusy);
  auto other_name = node_.locks().TryLock("other");
  EXPECT_TRUE(other_name.ok());
  if (GetParam() == Backend::kPostgres) {
    Node other = OpenNode();
    EXPECT_EQ(other.locks().TryLock("gc").status().code(), Errc::kBusy);
    held = Status(Errc::kInternal, "released");
    auto theirs = other.locks().TryLock("gc");
    ASSERT_TRUE(theirs.ok()) << theirs.status().message();
    EXPECT_TRUE((*theirs)->Check().ok());
  } else {
    held = Status(Errc::kInternal, "released");
    EXPECT_TRUE(node_.locks().TryLock("gc").ok());
  }
}

// A node whose database connection dies loses its lock at once (the server
// releases it), learns so from Check(), and another node may take it.
TEST_P(MetadataConformanceTest, ClusterLockIsLostWithItsConnection) {
  if (GetParam() != Backend::kPostgres) GTEST_SKIP() << "a process-local lock has no connection";
  auto held = node_.locks().TryLock("gc-lost");
  ASSERT_TRUE(held.ok()) << held.status().message();
  auto admin = AdminPool();
  ASSERT_TRUE(admin.ok());
  {
    auto c = (*admin)->Acquire();
    ASSERT_TRUE(c.ok());
    auto killed = c->Exec(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' "
        "AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1::bigint",
        {pg::AdvisoryKey("berth.cluster:" + schema_ + ":gc-lost")});
    ASSERT_TRUE(killed.ok()) << killed.status().message();
    ASSERT_EQ(killed->Int(0, 0), 1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ((*held)->Check().code(), Errc::kUnavailable);
  Node other = OpenNode();
  EXPECT_TRUE(other.locks().TryLock("gc-lost").ok());
  held = Status(Errc::kInternal, "dropped");  // releasing a lost lock is harmless
  EXPECT_TRUE(meta().Ping().ok());            // and the pool goes on
}

INSTANTIATE_TEST_SUITE_P(, MetadataConformanceTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

// ---- PostgreSQL migrations ----

class PgMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (PgDsn().empty()) GTEST_SKIP() << "BERTH_PG_DSN is not set";
    schema_ = RandomName("berth_m_");
    auto c = Admin();
    ASSERT_TRUE(c) << c.status().message();
    ASSERT_TRUE(c->ExecScript("CREATE SCHEMA " + schema_).ok());
  }
  void TearDown() override {
    if (schema_.empty()) return;
    if (auto c = Admin()) (void)c->ExecScript("DROP SCHEMA " + schema_ + " CASCADE");
  }
  Result<pg::Conn> Admin() {
    if (!admin_) {
      pg::PoolOptions o;
      o.dsn = PgDsn();
      o.size = 1;
      auto p = pg::Pool::Open(o);
      if (!p) return p.status();
      admin_ = std::move(p).value();
    }
    return admin_->Acquire();
  }
  PgOptions Opts() const {
    PgOptions o;
    o.dsn = PgDsn();
    o.schema = schema_;
    return o;
  }
  int64_t Applied() {
    auto c = Admin();
    if (!c.ok()) return -1;
    auto r = c->Exec("SELECT count(*) FROM " + schema_ + ".schema_migrations");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r ? r->Int(0, 0) : -1;
  }

  std::string schema_;
  std::unique_ptr<pg::Pool> admin_;
};

TEST_F(PgMigrationTest, OpenWithoutMigrateRefusesAnUnmigratedSchema) {
  PgOptions o = Opts();
  o.migrate = false;
  auto s = OpenPostgres(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("berth migrate"), std::string::npos) << s.status().message();
  ASSERT_TRUE(MigratePostgres(Opts()).ok());
  EXPECT_TRUE(OpenPostgres(o).ok());
}

TEST_F(PgMigrationTest, SecondRunIsANoOp) {
  ASSERT_TRUE(MigratePostgres(Opts()).ok());
  EXPECT_EQ(Applied(), pg::LatestSchemaVersion());
  Status again = MigratePostgres(Opts());
  EXPECT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(Applied(), pg::LatestSchemaVersion());
}

TEST_F(PgMigrationTest, ConcurrentRunsApplyEachMigrationOnce) {
  constexpr int kRunners = 4;
  std::vector<Status> results(kRunners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRunners; ++i) {
    threads.emplace_back([&, i] { results[i] = MigratePostgres(Opts()); });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Applied(), pg::LatestSchemaVersion());
}

TEST_F(PgMigrationTest, RefusesANewerSchema) {
  ASSERT_TRUE(MigratePostgres(Opts()).ok());
  {
    auto c = Admin();
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->Exec("INSERT INTO " + schema_ +
                        ".schema_migrations(version, name) VALUES (999, 'future')")
                    .ok());
  }
  Status s = MigratePostgres(Opts());
  EXPECT_EQ(s.code(), Errc::kInternal);
  EXPECT_NE(s.message().find("newer"), std::string::npos) << s.message();
  EXPECT_FALSE(OpenPostgres(Opts()).ok());
}

// A database at version 2 holding refresh tokens (logins made before
// Keystone sessions were sealed) keeps them through migration 3: they are
// found, unchanged, with no sealed session, and new rows can carry one. The
// version-2 shape is made by undoing migration 3 on a fresh schema, as no
// version-2 build is at hand.
TEST_F(PgMigrationTest, Version2RefreshTokensSurviveMigration3) {
  ASSERT_TRUE(MigratePostgres(Opts()).ok());
  {
    auto c = Admin();
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->ExecScript("ALTER TABLE " + schema_ +
                              ".refresh_tokens DROP COLUMN sealed_session; DELETE FROM " + schema_ +
                              ".schema_migrations WHERE version = 3")
                    .ok());
    auto r = c->Exec("INSERT INTO " + schema_ +
                     ".refresh_tokens(hash, subject, service, admin, generation, created, "
                     "last_used) VALUES ('h-alice', 'alice', 'berth', false, 'g1', 100, 150), "
                     "('h-root', 'root', 'berth', true, '', 200, 200)");
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  ASSERT_EQ(Applied(), 2);

  ASSERT_TRUE(MigratePostgres(Opts()).ok());
  EXPECT_EQ(Applied(), pg::LatestSchemaVersion());
  auto stores = OpenPostgres(Opts());
  ASSERT_TRUE(stores.ok()) << stores.status().message();
  auto& tokens = *stores->refresh_tokens;

  auto alice = tokens.Find("h-alice");
  ASSERT_TRUE(alice.ok()) << alice.status().message();
  EXPECT_EQ(alice->subject, "alice");
  EXPECT_EQ(alice->service, "berth");
  EXPECT_FALSE(alice->admin);
  EXPECT_EQ(alice->generation, "g1");
  EXPECT_EQ(alice->created, 100);
  EXPECT_EQ(alice->last_used, 150);
  EXPECT_EQ(alice->sealed_session, "");
  auto root = tokens.Find("h-root");
  ASSERT_TRUE(root.ok()) << root.status().message();
  EXPECT_TRUE(root->admin);
  EXPECT_EQ(root->sealed_session, "");

  RefreshGrant sealed{"carol", "berth", false, "", 0, 0, "00aa"};
  ASSERT_TRUE(tokens.Save("h-carol", sealed, 300).ok());
  auto carol = tokens.Find("h-carol");
  ASSERT_TRUE(carol.ok()) << carol.status().message();
  EXPECT_EQ(carol->sealed_session, "00aa");
  auto revoked = tokens.Revoke("alice");
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(*revoked, 1);
  EXPECT_EQ(tokens.Find("h-alice").status().code(), Errc::kUnauthorized);
}

TEST_F(PgMigrationTest, UnreachableServerIsUnavailableQuickly) {
  PgOptions o;
  o.dsn = "host=127.0.0.1 port=1 dbname=berth user=berth";
  o.connect_timeout_s = 2;
  auto start = std::chrono::steady_clock::now();
  auto s = OpenPostgres(o);
  EXPECT_EQ(s.status().code(), Errc::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace berth::storage
