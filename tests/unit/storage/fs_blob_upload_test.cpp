// Tests for FsBlobStore and FsUploadStore (storage/fs/) past the interface
// contracts (blob_store_conformance_test.cpp, upload_store_conformance_test.cpp):
// what lands on disk and where, rollback of the session file, restart,
// shard preparation.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "crypto/hasher.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/fs/fs_upload_store.hpp"

namespace berth::storage {
namespace {

namespace fs = std::filesystem;

std::span<const char> Bytes(std::string_view s) { return {s.data(), s.size()}; }
Digest Sha256(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha256, s); }
Digest Sha512(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha512, s); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class FsUploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-upload-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    fs::create_directory(root_ + "/blobs");
    fs::create_directory(root_ + "/uploads");
    blobs_ = std::make_unique<FsBlobStore>(root_);
    uploads_ = std::make_unique<FsUploadStore>(root_, *blobs_);
  }
  void TearDown() override {
    uploads_.reset();
    blobs_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string BlobPath(const Digest& d) const {
    return root_ + "/blobs/" + std::string(d.algorithm_name()) + "/" + d.hex().substr(0, 2) + "/" +
           d.hex();
  }
  // The session file of upload `id` ("<id>-<key>" in uploads/), or "" when there is none.
  std::string SessionFile(const std::string& id) const {
    for (const auto& e : fs::directory_iterator(root_ + "/uploads")) {
      if (e.path().filename().string().rfind(id + "-", 0) == 0) return e.path().string();
    }
    return "";
  }

  // Starts a session in `repo` holding `content` (kept) and returns its id.
  std::string StartWith(const std::string& repo, std::string_view content) {
    auto up = uploads_->Create(repo);
    EXPECT_TRUE(up.ok()) << up.status().message();
    if (!up.ok()) return "";
    EXPECT_TRUE((*up)->Append(Bytes(content)).ok());
    EXPECT_TRUE((*up)->Keep().ok());
    return (*up)->id();
  }

  std::string root_;
  std::unique_ptr<FsBlobStore> blobs_;
  std::unique_ptr<FsUploadStore> uploads_;
};

TEST_F(FsUploadTest, ChunkedUploadCompletesIntoBlob) {
  std::string id = StartWith("a", "hello ");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_NE(SessionFile(id), "");

  auto up = uploads_->Acquire(id, "a");
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ((*up)->size(), 6u);
  ASSERT_TRUE((*up)->Append(Bytes("world")).ok());
  EXPECT_EQ((*up)->size(), 11u);
  ASSERT_TRUE((*up)->Keep().ok());
  Digest d = Sha256("hello world");
  Status s = (*up)->Complete(d);
  ASSERT_TRUE(s.ok()) << s.message();
  up->reset();

  EXPECT_EQ(ReadFile(BlobPath(d)), "hello world");
  auto size = blobs_->Stat(d);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 11u);
  auto open = blobs_->Open(d);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size, 11u);
  char buf[16] = {};
  EXPECT_EQ(::pread(open->fd.get(), buf, sizeof buf, 0), 11);
  EXPECT_EQ(std::string(buf, 11), "hello world");

  EXPECT_EQ(SessionFile(id), "");
  auto again = uploads_->Acquire(id, "a");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Errc::kBlobUploadUnknown);
}

TEST_F(FsUploadTest, WrongDigestRemovesSession) {
  std::string id = StartWith("a", "abc");
  auto up = uploads_->Acquire(id, "a");
  ASSERT_TRUE(up.ok());
  Digest wrong = Sha256("abd");
  Status s = (*up)->Complete(wrong);
  EXPECT_EQ(s.code(), Errc::kDigestInvalid);
  up->reset();

  EXPECT_FALSE(fs::exists(BlobPath(wrong)));
  EXPECT_FALSE(fs::exists(BlobPath(Sha256("abc"))));
  EXPECT_EQ(blobs_->Stat(wrong).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(SessionFile(id), "");
  EXPECT_EQ(uploads_->Acquire(id, "a").status().code(), Errc::kBlobUploadUnknown);
}

TEST_F(FsUploadTest, DroppedLeaseWithoutKeepRollsBack) {
  std::string id = StartWith("a", "abc");
  {
    auto up = uploads_->Acquire(id, "a");
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Append(Bytes("garbage")).ok());
    EXPECT_EQ((*up)->size(), 10u);
  }  // dropped without Keep: the client went away mid-chunk
  EXPECT_EQ(fs::file_size(SessionFile(id)), 3u);
  auto up = uploads_->Acquire(id, "a");
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ((*up)->size(), 3u);
  // The running hash was rolled back too.
  ASSERT_TRUE((*up)->Append(Bytes("def")).ok());
  Status s = (*up)->Complete(Sha256("abcdef"));
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST_F(FsUploadTest, Sha512Completion) {
  std::string id = StartWith("a", "ab");
  auto up = uploads_->Acquire(id, "a");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append(Bytes("c")).ok());
  Digest d = Sha512("abc");
  Status s = (*up)->Complete(d);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(BlobPath(d)), "abc");
  EXPECT_TRUE(fs::exists(root_ + "/blobs/sha512/dd/" + d.hex()));
}

// Regression: Create opened the data file write-only, so a sha512 completion
// on the creating lease (monolithic upload) could not re-read it (EBADF).
TEST_F(FsUploadTest, Sha512CompleteOnCreateLease) {
  auto up = uploads_->Create("a");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append(Bytes("abc")).ok());
  Status s = (*up)->Complete(Sha512("abc"));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(BlobPath(Sha512("abc"))), "abc");
}

TEST_F(FsUploadTest, SessionSurvivesRestart) {
  std::string id = StartWith("a", "hello ");
  // A new store over the same root, as after a restart: no in-memory state.
  uploads_ = std::make_unique<FsUploadStore>(root_, *blobs_);
  EXPECT_EQ(uploads_->Acquire(id, "b").status().code(), Errc::kBlobUploadUnknown);
  auto up = uploads_->Acquire(id, "a");
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ((*up)->size(), 6u);
  EXPECT_EQ(uploads_->Acquire(id, "a").status().code(), Errc::kBusy);
  ASSERT_TRUE((*up)->Append(Bytes("world")).ok());
  Status s = (*up)->Complete(Sha256("hello world"));  // hash rebuilt from the file
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(BlobPath(Sha256("hello world"))), "hello world");
}

TEST_F(FsUploadTest, CancelAfterRestart) {
  std::string id = StartWith("a", "x");
  uploads_ = std::make_unique<FsUploadStore>(root_, *blobs_);
  EXPECT_EQ(uploads_->Cancel(id, "b").code(), Errc::kBlobUploadUnknown);
  EXPECT_TRUE(uploads_->Cancel(id, "a").ok());
  EXPECT_EQ(SessionFile(id), "");
}

TEST_F(FsUploadTest, PrepareMakesEveryShardOnceAndPublishUsesThem) {
  ASSERT_TRUE(blobs_->Prepare().ok());
  size_t shards = 0;
  for (const auto& e : fs::directory_iterator(root_ + "/blobs/sha256")) {
    EXPECT_TRUE(e.is_directory());
    EXPECT_EQ(e.path().filename().string().size(), 2u);
    ++shards;
  }
  EXPECT_EQ(shards, 256u);
  ASSERT_TRUE(blobs_->Prepare().ok());  // again on a prepared root: nothing to do

  auto up = uploads_->Create("a");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append(Bytes("shard")).ok());
  ASSERT_TRUE((*up)->Complete(Sha256("shard")).ok());
  EXPECT_EQ(ReadFile(BlobPath(Sha256("shard"))), "shard");
}

TEST_F(FsUploadTest, OneFilePerSessionNamedForItsRepository) {
  std::string a = StartWith("team/app", "x");
  std::string b = StartWith("team/other", "y");
  ASSERT_NE(SessionFile(a), "");
  ASSERT_NE(SessionFile(b), "");
  EXPECT_TRUE(fs::is_regular_file(SessionFile(a)));
  std::string na = fs::path(SessionFile(a)).filename().string();
  std::string nb = fs::path(SessionFile(b)).filename().string();
  // "<id>-<key>": the keys differ with the repository; no slash of a name on disk.
  EXPECT_EQ(na.size(), 32u + 1 + 32);
  EXPECT_NE(na.substr(33), nb.substr(33));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(root_ + "/uploads")) files += e.is_regular_file();
  EXPECT_EQ(files, 2u);
}

}  // namespace
}  // namespace berth::storage
