// Tests for storage/migrate/: the manifest order, and MigrateStore from a
// filesystem + SQLite root into other stores (memory blobs streamed as S3
// would, SQLite metadata in another directory).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "crypto/hasher.hpp"
#include "storage/db/sqlite_metadata_store.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/fs/fs_upload_store.hpp"
#include "storage/fs/layout.hpp"
#include "storage/memory/memory_blob_store.hpp"
#include "storage/memory/memory_upload_store.hpp"
#include "storage/migrate/manifest_order.hpp"
#include "storage/migrate/migrate_store.hpp"

namespace berth::storage::migrate {
namespace {

namespace fs = std::filesystem;

Digest Sha256(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha256, s); }

SnapshotManifest M(const std::string& repo, const std::string& content,
                   std::vector<std::string> children = {}) {
  SnapshotManifest m;
  m.repository = repo;
  m.record.digest = Sha256(content);
  m.record.content = content;
  m.manifest_refs = std::move(children);
  return m;
}

TEST(OrderManifests, ChildrenComeBeforeTheirIndex) {
  // index first in the input (digest order can put it anywhere)
  std::vector<SnapshotManifest> ms = {M("r", "index", {Sha256("a").str(), Sha256("b").str()}),
                                      M("r", "a"), M("r", "b"), M("r", "other")};
  std::vector<size_t> cyclic;
  auto order = OrderManifests(ms, &cyclic);
  EXPECT_EQ(order, (std::vector<size_t>{1, 2, 3, 0}));
  EXPECT_TRUE(cyclic.empty());
}

TEST(OrderManifests, NestedIndexes) {
  std::vector<SnapshotManifest> ms = {M("r", "top", {Sha256("mid").str()}),
                                      M("r", "mid", {Sha256("leaf").str()}), M("r", "leaf")};
  std::vector<size_t> cyclic;
  EXPECT_EQ(OrderManifests(ms, &cyclic), (std::vector<size_t>{2, 1, 0}));
}

TEST(OrderManifests, OrderIsPerRepository) {
  // "r2" holds the child too, but only r1's copy orders r1's index.
  std::vector<SnapshotManifest> ms = {M("r1", "index", {Sha256("a").str()}), M("r2", "a"),
                                      M("r1", "a")};
  std::vector<size_t> cyclic;
  auto order = OrderManifests(ms, &cyclic);
  ASSERT_EQ(order.size(), 3u);
  auto pos = [&](size_t i) { return std::find(order.begin(), order.end(), i) - order.begin(); };
  EXPECT_LT(pos(2), pos(0));
}

TEST(OrderManifests, MissingChildrenDoNotBlock) {
  std::vector<SnapshotManifest> ms = {M("r", "index", {Sha256("gone").str()})};
  std::vector<size_t> cyclic;
  EXPECT_EQ(OrderManifests(ms, &cyclic), (std::vector<size_t>{0}));
}

TEST(OrderManifests, CyclesAreLeftOutAndReported) {
  SnapshotManifest x = M("r", "x"), y = M("r", "y");
  x.manifest_refs = {y.record.digest.str()};
  y.manifest_refs = {x.record.digest.str()};
  std::vector<SnapshotManifest> ms = {x, y, M("r", "z")};
  std::vector<size_t> cyclic;
  EXPECT_EQ(OrderManifests(ms, &cyclic), (std::vector<size_t>{2}));
  EXPECT_EQ(cyclic, (std::vector<size_t>{0, 1}));
}

class MigrateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-migrate-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/src";
    fs::create_directories(root_ + "/blobs");
    fs::create_directories(root_ + "/uploads");
    src_blobs_ = std::make_unique<FsBlobStore>(root_);
    src_uploads_ = std::make_unique<FsUploadStore>(root_, *src_blobs_);
    auto meta = SqliteMetadataStore::Open(layout::MetadataDb(root_));
    ASSERT_TRUE(meta) << meta.status().message();
    src_meta_ = std::move(meta).value();
    auto tmeta = SqliteMetadataStore::Open(dir_ + "/target.db");
    ASSERT_TRUE(tmeta) << tmeta.status().message();
    dst_meta_ = std::move(tmeta).value();
    Populate();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Digest PushBlob(const std::string& repo, const std::string& bytes) {
    auto up = src_uploads_->Create(repo);
    EXPECT_TRUE(up);
    EXPECT_TRUE((*up)->Append({bytes.data(), bytes.size()}).ok());
    EXPECT_TRUE((*up)->Keep().ok());
    Digest d = Sha256(bytes);
    EXPECT_TRUE((*up)->Complete(d).ok());
    EXPECT_TRUE(src_meta_->LinkBlob(repo, d, bytes.size(), 0).ok());
    return d;
  }
  Digest PutManifest(const std::string& repo, const std::string& content,
                     std::optional<std::string> tag, std::vector<std::string> blobs,
                     std::vector<std::string> children, std::optional<std::string> subject = {}) {
    ManifestPut put;
    put.record.digest = Sha256(content);
    put.record.media_type = "application/vnd.oci.image.manifest.v1+json";
    put.record.content = content;
    put.record.subject = std::move(subject);
    put.tag = std::move(tag);
    put.blob_refs = std::move(blobs);
    put.manifest_refs = std::move(children);
    EXPECT_TRUE(src_meta_->PutManifest(repo, put).ok());
    return put.record.digest;
  }
  void Populate() {
    layer_ = PushBlob("app/one", std::string(3 << 20, 'L'));  // several chunks
    config_ = PushBlob("app/one", "config");
    ASSERT_TRUE(src_meta_->LinkBlob("other/two", layer_, 3 << 20, 0).ok());  // shared blob
    image_ = PutManifest("app/one", "image", "v1", {layer_.str(), config_.str()}, {});
    PutManifest("app/one", "child", std::nullopt, {config_.str()}, {});
    // The index sorts before its child by digest? Either way it must work.
    index_ = PutManifest("app/one", "index", "multi", {}, {Sha256("child").str()});
    // A referrer whose subject is not stored at all.
    PutManifest("app/one", "referrer", std::nullopt, {config_.str()}, {},
                Sha256("absent subject").str());
    PutManifest("other/two", "image2", "latest", {layer_.str()}, {});
  }
  Result<MigrateReport> Run(MemoryBlobStore& blobs, MemoryUploadStore& uploads,
                            bool verify = false) {
    MigrateOptions o;
    o.jobs = 3;
    o.verify = verify;
    o.chunk_bytes = 1 << 20;
    o.keep_bytes = 2 << 20;
    problems_.clear();
    return MigrateStore(
        root_, {blobs, uploads, *dst_meta_}, o,
        [&](const MigrateProblem& p) { problems_.push_back(p.kind + " " + p.subject); }, nullptr);
  }

  std::string dir_, root_;
  std::unique_ptr<FsBlobStore> src_blobs_;
  std::unique_ptr<FsUploadStore> src_uploads_;
  std::unique_ptr<SqliteMetadataStore> src_meta_, dst_meta_;
  Digest layer_{DigestAlgorithm::kSha256, ""}, config_{DigestAlgorithm::kSha256, ""};
  Digest image_{DigestAlgorithm::kSha256, ""}, index_{DigestAlgorithm::kSha256, ""};
  std::vector<std::string> problems_;
};

TEST_F(MigrateStoreTest, CopiesEverythingThenNothing) {
  MemoryBlobStore blobs(MemoryBlobStore::Serve::kStream);
  MemoryUploadStore uploads(blobs);
  auto r = Run(blobs, uploads);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_TRUE(r->ok()) << ::testing::PrintToString(problems_);
  EXPECT_EQ(r->blobs_total, 2u);
  EXPECT_EQ(r->blobs_copied, 2u);
  EXPECT_EQ(r->bytes_copied, (3u << 20) + 6);
  EXPECT_EQ(r->links_new, 3u);
  EXPECT_EQ(r->manifests_new, 5u);
  EXPECT_EQ(r->tags_new, 3u);
  EXPECT_EQ(r->verify_failures, 0u);

  auto tagged = dst_meta_->GetManifest("app/one", Reference(std::string("multi")));
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->digest, index_);
  auto refs = dst_meta_->ListReferrers("app/one", Sha256("absent subject"), std::nullopt, "", 10);
  ASSERT_TRUE(refs);
  EXPECT_EQ(refs->size(), 1u);
  EXPECT_TRUE(dst_meta_->LinkedBlobSize("other/two", layer_));

  auto again = Run(blobs, uploads, /*verify=*/true);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->ok()) << ::testing::PrintToString(problems_);
  EXPECT_EQ(again->blobs_copied, 0u);
  EXPECT_EQ(again->blobs_skipped, 2u);
  EXPECT_EQ(again->links_new, 0u);
  EXPECT_EQ(again->links_existing, 3u);
  EXPECT_EQ(again->manifests_new, 0u);
  EXPECT_EQ(again->manifests_existing, 5u);
  EXPECT_EQ(again->tags_existing, 3u);
  EXPECT_EQ(uploads.InProgress().value(), 0u);
}

TEST_F(MigrateStoreTest, CorruptSourceBlobIsReportedAndNotCopied) {
  {
    std::fstream f(layout::BlobPath(root_, config_),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f.put('C');  // same size, other bytes
  }
  MemoryBlobStore blobs;
  MemoryUploadStore uploads(blobs);
  auto r = Run(blobs, uploads);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->blobs_bad, 1u);
  EXPECT_EQ(r->blobs_copied, 1u);
  EXPECT_FALSE(blobs.Stat(config_));
  EXPECT_NE(std::find(problems_.begin(), problems_.end(), "corrupt_source " + config_.str()),
            problems_.end());
  EXPECT_GT(r->verify_failures, 0u);
  // What does not need it still arrived.
  EXPECT_TRUE(dst_meta_->GetManifest("other/two", Reference(std::string("latest"))));
  EXPECT_EQ(uploads.InProgress().value(), 0u);
}

TEST_F(MigrateStoreTest, VerifyFindsATargetCopyWithOtherBytes) {
  MemoryBlobStore blobs;
  MemoryUploadStore uploads(blobs);
  ASSERT_TRUE(Run(blobs, uploads)->ok());
  // Put another blob of the config's size under the config's digest.
  ASSERT_TRUE(blobs.Remove(config_).ok());
  ASSERT_TRUE(blobs.Purge());
  ASSERT_TRUE(blobs.Put(config_, "CONFIG").ok());
  EXPECT_TRUE(Run(blobs, uploads)->ok());  // sizes alone match
  auto r = Run(blobs, uploads, /*verify=*/true);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->blobs_bad, 1u);
}

TEST_F(MigrateStoreTest, MissingSourceMetadataIsAnError) {
  MemoryBlobStore blobs;
  MemoryUploadStore uploads(blobs);
  MigrateOptions o;
  auto r = MigrateStore(dir_ + "/nowhere", {blobs, uploads, *dst_meta_}, o, nullptr, nullptr);
  EXPECT_FALSE(r);
}

}  // namespace
}  // namespace berth::storage::migrate
