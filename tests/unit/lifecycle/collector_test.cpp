// Tests for the Collector (lifecycle/collector.hpp) on real stores in a
// temporary root: what a run removes from the database and the disk, what it
// keeps, dry runs, retention, orphan files, and expired upload sessions.

#include "lifecycle/collector.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/time.h>

#include <filesystem>
#include <fstream>

#include "crypto/hasher.hpp"
#include "storage/db/sqlite_metadata_store.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/fs/fs_upload_store.hpp"
#include "storage/fs/layout.hpp"

namespace berth::lifecycle {
namespace {

namespace fs = std::filesystem;
using storage::ManifestPut;

Digest Sha256(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha256, s); }

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-gc-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    fs::create_directory(storage::layout::UploadsDir(root_));
    blobs_ = std::make_unique<storage::FsBlobStore>(root_);
    ASSERT_TRUE(blobs_->Prepare().ok());
    uploads_ = std::make_unique<storage::FsUploadStore>(root_, *blobs_);
    auto m = storage::SqliteMetadataStore::Open(storage::layout::MetadataDb(root_));
    ASSERT_TRUE(m.ok());
    meta_ = std::move(m).value();
  }
  void TearDown() override {
    meta_.reset();
    uploads_.reset();
    blobs_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  CollectorOptions NoDelays() {
    CollectorOptions o;
    o.interval = 0;
    o.delay = 0;
    o.untagged_delay = 0;
    o.batch = 2;
    o.dry_run_path = root_ + "/gc-dry-run.db";
    return o;
  }
  GcReport Run(CollectorOptions o, bool dry_run = false) {
    Collector c(*meta_, *meta_, *blobs_, *uploads_, locks_, &pulls_, std::move(o));
    auto r = c.Run(dry_run);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : GcReport{};
  }
  // Uploads `content` as a blob of `repo`, as the registry does.
  Digest Push(const std::string& repo, const std::string& content) {
    auto up = uploads_->Create(repo);
    EXPECT_TRUE(up.ok());
    EXPECT_TRUE((*up)->Append({content.data(), content.size()}).ok());
    Digest d = Sha256(content);
    EXPECT_TRUE((*up)->Complete(d).ok());
    EXPECT_TRUE(meta_->LinkBlob(repo, d, content.size(), 0).ok());
    return d;
  }
  Digest PutManifest(const std::string& repo, const std::string& content,
                     std::optional<std::string> tag, std::vector<std::string> blobs) {
    ManifestPut p;
    p.record.digest = Sha256(content);
    p.record.media_type = "application/vnd.oci.image.manifest.v1+json";
    p.record.content = content;
    p.tag = std::move(tag);
    p.blob_refs = std::move(blobs);
    EXPECT_TRUE(meta_->PutManifest(repo, p).ok());
    return p.record.digest;
  }
  bool OnDisk(const Digest& d) { return fs::exists(storage::layout::BlobPath(root_, d)); }

  std::string root_;
  std::unique_ptr<storage::FsBlobStore> blobs_;
  std::unique_ptr<storage::FsUploadStore> uploads_;
  std::unique_ptr<storage::SqliteMetadataStore> meta_;
  storage::DigestLocks locks_;
  PullRecorder pulls_;
};

TEST_F(CollectorTest, RemovesWhatADeletedImageLeftAndKeepsTheRest) {
  Digest shared = Push("a/x", "shared layer");
  Digest only_old = Push("a/x", "old layer");
  Digest only_new = Push("a/x", "new layer");
  Digest old_m = PutManifest("a/x", "old", "old", {shared.str(), only_old.str()});
  PutManifest("a/x", "new", "new", {shared.str(), only_new.str()});
  ASSERT_TRUE(meta_->DeleteManifest("a/x", old_m).ok());

  GcReport dry = Run(NoDelays(), true);
  EXPECT_EQ(dry.links_deleted, 1u);
  EXPECT_EQ(dry.blobs_deleted, 1u);  // what the links free, counted too
  EXPECT_TRUE(OnDisk(only_old));
  EXPECT_FALSE(fs::exists(root_ + "/gc-dry-run.db"));  // the copy is gone

  GcReport r = Run(NoDelays());
  EXPECT_EQ(r.links_deleted, 1u);
  EXPECT_EQ(r.blobs_deleted, 1u);
  EXPECT_EQ(r.bytes_freed, std::string("old layer").size());
  EXPECT_FALSE(OnDisk(only_old));
  EXPECT_TRUE(fs::is_empty(storage::layout::TrashDir(root_)));  // unlinked after the run
  EXPECT_TRUE(OnDisk(shared));
  EXPECT_TRUE(OnDisk(only_new));
  EXPECT_TRUE(meta_->GetManifest("a/x", Reference(std::string("new"))).ok());
  // Nothing left to do: a second run removes nothing.
  GcReport again = Run(NoDelays());
  EXPECT_EQ(again.links_deleted + again.blobs_deleted + again.manifests_deleted, 0u);
}

TEST_F(CollectorTest, ADryRunCountsExactlyWhatTheRunDeletes) {
  Digest layer = Push("a/x", "layer");
  Digest child = PutManifest("a/x", "child", std::nullopt, {layer.str()});
  ManifestPut index;
  index.record.digest = Sha256("index");
  index.record.media_type = "application/vnd.oci.image.index.v1+json";
  index.record.content = "index";
  index.tag = "latest";
  index.manifest_refs = {child.str()};
  ASSERT_TRUE(meta_->PutManifest("a/x", index).ok());
  ASSERT_TRUE(meta_->DeleteTag("a/x", "latest").ok());
  auto idle = uploads_->Create("a/x");
  ASSERT_TRUE(idle.ok());
  idle->reset();
  const timeval old[2] = {{::time(nullptr) - 7200, 0}, {::time(nullptr) - 7200, 0}};
  for (const auto& e : fs::directory_iterator(storage::layout::UploadsDir(root_))) {
    ASSERT_EQ(::utimes(e.path().c_str(), old), 0);
  }
  CollectorOptions o = NoDelays();
  o.upload_max_age = 3600;
  GcReport dry = Run(o, true);
  EXPECT_TRUE(dry.dry_run);
  EXPECT_TRUE(OnDisk(layer));
  EXPECT_TRUE(meta_->GetManifest("a/x", Reference(child)).ok());
  GcReport real = Run(o);
  EXPECT_EQ(dry.manifests_deleted, 2u);  // the index, then its child
  EXPECT_EQ(dry.manifests_deleted, real.manifests_deleted);
  EXPECT_EQ(dry.links_deleted, real.links_deleted);
  EXPECT_EQ(dry.blobs_deleted, real.blobs_deleted);
  EXPECT_EQ(dry.bytes_freed, real.bytes_freed);
  EXPECT_EQ(dry.uploads_deleted, 1u);
  EXPECT_EQ(real.uploads_deleted, 1u);
  EXPECT_FALSE(OnDisk(layer));
}

TEST_F(CollectorTest, ABlobLinkedElsewhereKeepsItsFile) {
  Digest d = Push("a/x", "layer");
  Push("b/y", "layer");
  PutManifest("b/y", "m", "v1", {d.str()});
  ASSERT_TRUE(meta_->UnlinkBlob("a/x", d).ok());
  GcReport r = Run(NoDelays());
  EXPECT_EQ(r.blobs_deleted, 0u);
  EXPECT_TRUE(OnDisk(d));
  EXPECT_TRUE(meta_->LinkedBlobSize("b/y", d).ok());
}

TEST_F(CollectorTest, DelaysProtectFreshGarbage) {
  Digest d = Push("a/x", "just uploaded, manifest in flight");
  CollectorOptions o = NoDelays();
  o.delay = 3600;
  GcReport r = Run(o);
  EXPECT_EQ(r.links_deleted, 0u);
  EXPECT_TRUE(OnDisk(d));
}

TEST_F(CollectorTest, OrphanFilesAreRemovedKnownOnesKept) {
  // A crash between an upload's rename and its link leaves a file with no row.
  Digest kept = Push("a/x", "linked");
  PutManifest("a/x", "m", "v1", {kept.str()});
  const std::string orphan_content = "orphan";
  Digest orphan = Sha256(orphan_content);
  fs::create_directories(storage::layout::ShardDir(root_, orphan));
  std::ofstream(storage::layout::BlobPath(root_, orphan)) << orphan_content;
  GcReport dry = Run(NoDelays(), true);
  EXPECT_EQ(dry.orphan_files_deleted, 1u);
  EXPECT_TRUE(OnDisk(orphan));
  GcReport r = Run(NoDelays());
  EXPECT_EQ(r.orphan_files_deleted, 1u);
  EXPECT_FALSE(OnDisk(orphan));
  EXPECT_TRUE(OnDisk(kept));
}

TEST_F(CollectorTest, RetentionDeletesTagsThenTheirImages) {
  Digest layer = Push("ret/app", "layer");
  for (const char* tag : {"a", "b", "c"})
    PutManifest("ret/app", std::string("m-") + tag, tag, {layer.str()});
  PutManifest("other/app", "m-o", "o", {});
  CollectorOptions o = NoDelays();
  RetentionPolicy p{"ret/*", 0, std::nullopt, "^c$", {}};  // keep only tag c
  ASSERT_TRUE(Compile(p).ok());
  o.retention.push_back(p);
  o.retention_dry_run = true;
  GcReport dry = Run(o);
  EXPECT_EQ(dry.tags_deleted, 2u);
  EXPECT_EQ(dry.manifests_deleted, 0u);  // report only: the tags are still there
  o.retention_dry_run = false;
  GcReport r = Run(o);
  EXPECT_EQ(r.tags_deleted, 2u);
  ASSERT_EQ(r.tags.size(), 2u);
  EXPECT_EQ(r.tags[0].repository, "ret/app");
  EXPECT_EQ(r.manifests_deleted, 2u);
  auto tags = meta_->ListTags("ret/app", "", 10);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(*tags, std::vector<std::string>{"c"});
  EXPECT_TRUE(OnDisk(layer));  // c still uses it
  EXPECT_TRUE(meta_->ListTags("other/app", "", 10).ok());
}

TEST_F(CollectorTest, IdleUploadsExpireHeldOnesStay) {
  auto idle = uploads_->Create("a/x");
  ASSERT_TRUE(idle.ok());
  ASSERT_TRUE((*idle)->Append({"abc", 3}).ok());
  ASSERT_TRUE((*idle)->Keep().ok());
  const std::string idle_id = (*idle)->id();
  idle->reset();  // released
  auto held = uploads_->Create("a/x");
  ASSERT_TRUE(held.ok());
  std::ofstream(storage::layout::UploadFile(root_, "stray.tmp")) << "old layout";
  // Age everything in uploads/ by two hours.
  const timeval old[2] = {{::time(nullptr) - 7200, 0}, {::time(nullptr) - 7200, 0}};
  for (const auto& e : fs::directory_iterator(storage::layout::UploadsDir(root_))) {
    ASSERT_EQ(::utimes(e.path().c_str(), old), 0);
  }
  CollectorOptions o = NoDelays();
  o.upload_max_age = 3600;
  GcReport r = Run(o);
  EXPECT_EQ(r.uploads_deleted, 2u);  // the idle session and the stray file
  EXPECT_EQ(uploads_->Acquire(idle_id, "a/x").status().code(), Errc::kBlobUploadUnknown);
  EXPECT_TRUE((*held)->Append({"x", 1}).ok());
  EXPECT_TRUE((*held)->Keep().ok());
}

TEST_F(CollectorTest, AStoppedCollectorWindsDownAtOnce) {
  for (int i = 0; i < 6; ++i) Push("a/x", "lonely " + std::to_string(i));
  Collector c(*meta_, *meta_, *blobs_, *uploads_, locks_, &pulls_, NoDelays());  // batch 2
  c.RequestStop();
  auto r = c.Run(false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->links_deleted, 0u);  // each step checks before its next batch
  EXPECT_EQ(r->blobs_deleted, 0u);
}

TEST_F(CollectorTest, PullTimesAreFlushedBeforeRetention) {
  PutManifest("ret/app", "m", "t", {});
  pulls_.Record("ret/app", "t", 12345);
  Run(NoDelays());
  auto tags = meta_->ListTagInfo("ret/app", "", 10);
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ((*tags)[0].pulled_at, 12345);
}

}  // namespace
}  // namespace berth::lifecycle
