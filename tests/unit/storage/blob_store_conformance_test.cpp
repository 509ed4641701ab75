// The BlobStore contract (storage/blob_store.hpp), run against every
// implementation: open, stat and unknown digests, OpenRange content for
// seekable and streamed answers, publishing twice, remove then purge, and
// ForEach. Each case gets an empty store over a fresh temp directory.
//
// Another implementation joins with one line in Stores() below; one whose
// store is remote and shared (S3) should make each store under a fresh
// prefix. Contents carry a random nonce, so runs never share a digest.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "blob_reader.hpp"
#include "crypto/hasher.hpp"
#include "crypto/random.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/memory/memory_blob_store.hpp"

namespace berth::storage {
namespace {

namespace fs = std::filesystem;

struct BlobStoreMaker {
  std::string name;
  // An empty store for one test; `dir` is a fresh temp directory that holds
  // the staged files given to Publish (and may hold the store). nullptr:
  // not available here (the test is skipped).
  std::function<BlobStorePtr(const std::string& dir)> make;
};

// Names the parameter in test output.
void PrintTo(const BlobStoreMaker& maker, std::ostream* os) { *os << maker.name; }

std::vector<BlobStoreMaker> Stores() {
  return {
      {"fs",
       [](const std::string& dir) -> BlobStorePtr {
         auto store = std::make_unique<FsBlobStore>(dir);
         return store->Prepare().ok() ? std::move(store) : nullptr;
       }},
      {"memory",
       [](const std::string&) -> BlobStorePtr { return std::make_unique<MemoryBlobStore>(); }},
      {"memory_stream",
       [](const std::string&) -> BlobStorePtr {
         return std::make_unique<MemoryBlobStore>(MemoryBlobStore::Serve::kStream);
       }},
  };
}

class BlobStoreConformance : public ::testing::TestWithParam<BlobStoreMaker> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-blobconf-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store_ = GetParam().make(dir_);
    if (!store_) GTEST_SKIP() << GetParam().name << " is not available here";
    auto nonce = crypto::RandomHex(8);
    ASSERT_TRUE(nonce.ok());
    nonce_ = *nonce;
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Content unique to this run: `text` with the nonce in front.
  std::string Unique(const std::string& text) const { return nonce_ + text; }
  static Digest Sha256(const std::string& s) {
    return crypto::HashBytes(DigestAlgorithm::kSha256, s);
  }

  std::string Stage(const std::string& content) {
    std::string path = dir_ + "/staged-" + std::to_string(++staged_);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  Digest Publish(const std::string& content) {
    Digest d = Sha256(content);
    Status s = store_->Publish(Stage(content), d);
    EXPECT_TRUE(s.ok()) << s.message();
    return d;
  }
  // What OpenRange(offset, length) yields, read as its `stream` flag says.
  std::string ReadRange(const Digest& d, uint64_t offset, uint64_t length) {
    auto blob = store_->OpenRange(d, offset, length);
    if (!blob.ok()) return "<" + blob.status().message() + ">";
    auto got = test_util::ReadBlobFd(blob->fd.get(), blob->stream, offset, length);
    if (!got) return "<read failed>";
    return *got;
  }

  std::string dir_;
  std::string nonce_;
  BlobStorePtr store_;
  int staged_ = 0;
};

TEST_P(BlobStoreConformance, UnknownDigest) {
  Digest d = Sha256(Unique("never stored"));
  EXPECT_EQ(store_->Stat(d).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(store_->Open(d).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(store_->OpenRange(d, 0, 1).status().code(), Errc::kBlobUnknown);
}

TEST_P(BlobStoreConformance, PublishThenStatAndOpen) {
  const std::string content = Unique("hello world");
  Digest d = Publish(content);
  auto size = store_->Stat(d);
  ASSERT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(*size, content.size());
  auto blob = store_->Open(d);
  ASSERT_TRUE(blob.ok()) << blob.status().message();
  EXPECT_EQ(blob->size, content.size());
  auto got = test_util::ReadBlobFd(blob->fd.get(), blob->stream, 0, content.size());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, content);
}

TEST_P(BlobStoreConformance, OpenRangeYieldsExactlyTheRange) {
  // Larger than a pipe's buffer, so a streamed answer must be fed as read.
  std::string content = Unique("");
  while (content.size() < (1 << 20) + 1) content += std::to_string(content.size()) + ",";
  Digest d = Publish(content);
  const uint64_t n = content.size();
  const std::pair<uint64_t, uint64_t> ranges[] = {{0, n},     {0, 1},           {3, 4},
                                                  {n - 1, 1}, {1000, n - 1000}, {n / 2, 70000}};
  for (auto [offset, length] : ranges) {
    SCOPED_TRACE(std::to_string(offset) + "+" + std::to_string(length));
    auto blob = store_->OpenRange(d, offset, length);
    ASSERT_TRUE(blob.ok()) << blob.status().message();
    EXPECT_EQ(blob->size, n);  // the whole blob's, whatever the range
    auto got = test_util::ReadBlobFd(blob->fd.get(), blob->stream, offset, length);
    ASSERT_TRUE(got.has_value());
    EXPECT_TRUE(*got == content.substr(offset, length)) << "got " << got->size() << " bytes";
  }
}

TEST_P(BlobStoreConformance, StreamReaderMayStopEarly) {
  std::string content(4 << 20, 'x');
  content += Unique("tail");
  Digest d = Publish(content);
  for (int i = 0; i < 3; ++i) {
    auto blob = store_->OpenRange(d, 0, content.size());
    ASSERT_TRUE(blob.ok());
    char c;
    if (blob->stream) {
      ASSERT_EQ(::read(blob->fd.get(), &c, 1), 1);
    }
  }  // closed unread: a producer must notice and stop, not hang or kill us
  EXPECT_EQ(ReadRange(d, content.size() - 4, 4), "tail");
}

TEST_P(BlobStoreConformance, EmptyBlob) {
  // The empty blob has one digest for everybody: no nonce possible.
  Digest d = Publish("");
  auto size = store_->Stat(d);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 0u);
  EXPECT_EQ(ReadRange(d, 0, 0), "");
}

TEST_P(BlobStoreConformance, PublishTwiceKeepsOneAndConsumesTheStagedFile) {
  const std::string content = Unique("twice");
  Digest d = Publish(content);
  std::string again = Stage(content);
  Status s = store_->Publish(again, d);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(fs::exists(again));
  EXPECT_EQ(ReadRange(d, 0, content.size()), content);
  int seen = 0;
  ASSERT_TRUE(store_->ForEach([&](const Digest& each, uint64_t) { seen += each == d; }).ok());
  EXPECT_EQ(seen, 1);
}

TEST_P(BlobStoreConformance, RemoveThenPurge) {
  const std::string content = Unique("doomed");
  Digest d = Publish(content);
  Digest kept = Publish(Unique("kept"));
  ASSERT_TRUE(store_->Remove(d).ok());
  EXPECT_EQ(store_->Stat(d).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(store_->Open(d).status().code(), Errc::kBlobUnknown);
  EXPECT_TRUE(store_->Remove(d).ok());  // already gone: OK
  auto freed = store_->Purge();
  ASSERT_TRUE(freed.ok()) << freed.status().message();
  EXPECT_GE(*freed, 1u);
  auto again = store_->Purge();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(store_->Stat(d).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(ReadRange(kept, 0, 100), Unique("kept"));
  // Published again after removal: back, whole.
  Publish(content);
  EXPECT_EQ(ReadRange(d, 0, content.size()), content);
}

TEST_P(BlobStoreConformance, ForEachVisitsEveryStoredBlobWithItsSize) {
  std::map<std::string, uint64_t> published;
  for (const std::string text : {"a", "bb", "ccc"}) {
    const std::string content = Unique(text);
    published[Publish(content).str()] = content.size();
  }
  Digest gone = Publish(Unique("removed"));
  ASSERT_TRUE(store_->Remove(gone).ok());
  std::map<std::string, uint64_t> seen;
  ASSERT_TRUE(store_->ForEach([&](const Digest& d, uint64_t size) { seen[d.str()] = size; }).ok());
  for (const auto& [digest, size] : published) {
    ASSERT_TRUE(seen.count(digest)) << digest;
    EXPECT_EQ(seen[digest], size);
  }
  EXPECT_EQ(seen.count(gone.str()), 0u);
}

INSTANTIATE_TEST_SUITE_P(Stores, BlobStoreConformance, ::testing::ValuesIn(Stores()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace berth::storage
