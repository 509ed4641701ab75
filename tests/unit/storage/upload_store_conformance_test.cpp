// The UploadStore contract (storage/upload_store.hpp), run against every
// implementation: create, append and keep, the lease (busy while held,
// rollback when dropped without Keep), completion with the right and the
// wrong digest, cancel, expiry of idle sessions, and the in-progress count.
// Each case gets empty stores over a fresh temp directory.
//
// Another implementation joins with one line in Stores() below.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "blob_reader.hpp"
#include "crypto/hasher.hpp"
#include "crypto/random.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/fs/fs_upload_store.hpp"
#include "storage/memory/memory_blob_store.hpp"
#include "storage/memory/memory_upload_store.hpp"

namespace berth::storage {
namespace {

namespace fs = std::filesystem;

// An upload store and the blob store it completes into (destroyed first).
struct UploadStores {
  BlobStorePtr blobs;
  UploadStorePtr uploads;
};

struct UploadStoreMaker {
  std::string name;
  // Empty stores for one test over the fresh temp directory `dir`; both
  // null: not available here (the test is skipped).
  std::function<UploadStores(const std::string& dir)> make;
};

// Names the parameter in test output.
void PrintTo(const UploadStoreMaker& maker, std::ostream* os) { *os << maker.name; }

std::vector<UploadStoreMaker> Stores() {
  return {
      {"fs",
       [](const std::string& dir) {
         fs::create_directory(dir + "/uploads");
         auto blobs = std::make_unique<FsBlobStore>(dir);
         if (!blobs->Prepare().ok()) return UploadStores{};
         auto uploads = std::make_unique<FsUploadStore>(dir, *blobs);
         return UploadStores{std::move(blobs), std::move(uploads)};
       }},
      {"memory",
       [](const std::string&) {
         auto blobs = std::make_unique<MemoryBlobStore>();
         auto uploads = std::make_unique<MemoryUploadStore>(*blobs);
         return UploadStores{std::move(blobs), std::move(uploads)};
       }},
  };
}

std::span<const char> Bytes(std::string_view s) { return {s.data(), s.size()}; }
Digest Sha256(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha256, s); }
Digest Sha512(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha512, s); }

class UploadStoreConformance : public ::testing::TestWithParam<UploadStoreMaker> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-uploadconf-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    stores_ = GetParam().make(dir_);
    if (!stores_.uploads) GTEST_SKIP() << GetParam().name << " is not available here";
    auto nonce = crypto::RandomHex(8);
    ASSERT_TRUE(nonce.ok());
    nonce_ = *nonce;
  }
  void TearDown() override {
    stores_.uploads.reset();
    stores_.blobs.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  UploadStore& uploads() { return *stores_.uploads; }
  BlobStore& blobs() { return *stores_.blobs; }
  std::string Unique(const std::string& text) const { return nonce_ + text; }

  // Starts a session in `repo` holding `content` (kept); returns its id.
  std::string StartWith(const std::string& repo, std::string_view content) {
    auto up = uploads().Create(repo);
    EXPECT_TRUE(up.ok()) << up.status().message();
    if (!up.ok()) return "";
    EXPECT_TRUE((*up)->Append(Bytes(content)).ok());
    EXPECT_TRUE((*up)->Keep().ok());
    return (*up)->id();
  }
  std::string BlobContent(const Digest& d) {
    auto blob = blobs().Open(d);
    if (!blob.ok()) return "<" + blob.status().message() + ">";
    auto got = test_util::ReadBlobFd(blob->fd.get(), blob->stream, 0, blob->size);
    return got ? *got : "<read failed>";
  }

  std::string dir_;
  std::string nonce_;
  UploadStores stores_;
};

TEST_P(UploadStoreConformance, AppendKeepAcrossLeasesThenComplete) {
  const std::string first = Unique("hello "), whole = first + "world";
  std::string id = StartWith("a", first);
  EXPECT_FALSE(id.empty());
  auto up = uploads().Acquire(id, "a");
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ((*up)->id(), id);
  EXPECT_EQ((*up)->size(), first.size());
  ASSERT_TRUE((*up)->Append(Bytes("world")).ok());
  EXPECT_EQ((*up)->size(), whole.size());
  ASSERT_TRUE((*up)->Keep().ok());
  Status s = (*up)->Complete(Sha256(whole));
  ASSERT_TRUE(s.ok()) << s.message();
  up->reset();
  auto size = blobs().Stat(Sha256(whole));
  ASSERT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(*size, whole.size());
  EXPECT_EQ(BlobContent(Sha256(whole)), whole);
  EXPECT_EQ(uploads().Acquire(id, "a").status().code(), Errc::kBlobUploadUnknown);
}

TEST_P(UploadStoreConformance, CompleteOnTheCreatingLease) {
  const std::string content = Unique("monolithic");
  for (const Digest& d : {Sha256(content), Sha512(content + "512")}) {
    SCOPED_TRACE(d.str());
    auto up = uploads().Create("a");
    ASSERT_TRUE(up.ok());
    const std::string bytes = d.algorithm() == DigestAlgorithm::kSha256 ? content : content + "512";
    ASSERT_TRUE((*up)->Append(Bytes(bytes)).ok());
    Status s = (*up)->Complete(d);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(BlobContent(d), bytes);
  }
}

TEST_P(UploadStoreConformance, BusyWhileLeased) {
  auto first = uploads().Create("a");
  ASSERT_TRUE(first.ok());
  const std::string id = (*first)->id();
  EXPECT_EQ(uploads().Acquire(id, "a").status().code(), Errc::kBusy);
  EXPECT_EQ(uploads().Cancel(id, "a").code(), Errc::kBusy);
  first->reset();
  auto second = uploads().Acquire(id, "a");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(uploads().Acquire(id, "a").status().code(), Errc::kBusy);
  second->reset();
  EXPECT_TRUE(uploads().Acquire(id, "a").ok());
}

TEST_P(UploadStoreConformance, DroppedWithoutKeepRollsBack) {
  const std::string start = Unique("abc");
  std::string id = StartWith("a", start);
  {
    auto up = uploads().Acquire(id, "a");
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Append(Bytes("garbage")).ok());
    EXPECT_EQ((*up)->size(), start.size() + 7);
  }  // the client went away mid-chunk
  auto up = uploads().Acquire(id, "a");
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ((*up)->size(), start.size());
  ASSERT_TRUE((*up)->Append(Bytes("def")).ok());  // the hash was rolled back too
  Status s = (*up)->Complete(Sha256(start + "def"));
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST_P(UploadStoreConformance, DroppedCreatingLeaseRollsBackToEmpty) {
  std::string id;
  {
    auto up = uploads().Create("a");
    ASSERT_TRUE(up.ok());
    id = (*up)->id();
    ASSERT_TRUE((*up)->Append(Bytes("partial")).ok());
  }
  auto up = uploads().Acquire(id, "a");
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ((*up)->size(), 0u);
  EXPECT_TRUE((*up)->Complete(Sha256("")).ok());
}

TEST_P(UploadStoreConformance, WrongDigestRemovesTheSessionAndStoresNothing) {
  const std::string content = Unique("abc");
  for (const Digest& wrong : {Sha256(content + "x"), Sha512(content + "x")}) {
    SCOPED_TRACE(wrong.str());
    std::string id = StartWith("a", content);
    auto up = uploads().Acquire(id, "a");
    ASSERT_TRUE(up.ok());
    EXPECT_EQ((*up)->Complete(wrong).code(), Errc::kDigestInvalid);
    up->reset();
    EXPECT_EQ(blobs().Stat(wrong).status().code(), Errc::kBlobUnknown);
    EXPECT_EQ(blobs().Stat(Sha256(content)).status().code(), Errc::kBlobUnknown);
    EXPECT_EQ(uploads().Acquire(id, "a").status().code(), Errc::kBlobUploadUnknown);
  }
}

TEST_P(UploadStoreConformance, SameContentTwiceKeepsOneBlob) {
  const std::string content = Unique("same");
  for (int i = 0; i < 2; ++i) {
    std::string id = StartWith("a", content);
    auto up = uploads().Acquire(id, "a");
    ASSERT_TRUE(up.ok());
    Status s = (*up)->Complete(Sha256(content));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  EXPECT_EQ(BlobContent(Sha256(content)), content);
}

TEST_P(UploadStoreConformance, UnknownOrForeignSessions) {
  std::string id = StartWith("a", "abc");
  EXPECT_EQ(uploads().Acquire(id, "b").status().code(), Errc::kBlobUploadUnknown);
  EXPECT_EQ(uploads().Cancel(id, "b").code(), Errc::kBlobUploadUnknown);
  const std::string bad_ids[] = {"", "0123456789abcdef0123456789abcdef", "../../etc",
                                 "0123456789ABCDEF0123456789ABCDEF", id + "0"};
  for (const auto& bad : bad_ids) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(uploads().Acquire(bad, "a").status().code(), Errc::kBlobUploadUnknown);
    EXPECT_EQ(uploads().Cancel(bad, "a").code(), Errc::kBlobUploadUnknown);
  }
  auto up = uploads().Acquire(id, "a");  // the foreign attempts did not disturb the owner
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ((*up)->size(), 3u);
}

TEST_P(UploadStoreConformance, CancelRemovesTheSession) {
  std::string id = StartWith("a", "abc");
  ASSERT_TRUE(uploads().Cancel(id, "a").ok());
  EXPECT_EQ(uploads().Acquire(id, "a").status().code(), Errc::kBlobUploadUnknown);
  EXPECT_EQ(uploads().Cancel(id, "a").code(), Errc::kBlobUploadUnknown);
}

TEST_P(UploadStoreConformance, ExpireIdleSparesYoungAndLeasedSessions) {
  std::string idle = StartWith("a", "idle");
  std::string held = StartWith("a", "held");
  auto lease = uploads().Acquire(held, "a");
  ASSERT_TRUE(lease.ok());
  auto none = uploads().ExpireIdle(3600, false);  // nothing is an hour old
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(*none, 0u);
  // A negative age puts the cutoff in the future: every session is "old".
  auto would = uploads().ExpireIdle(-60, true);
  ASSERT_TRUE(would.ok());
  EXPECT_EQ(*would, 1u);
  EXPECT_TRUE(uploads().Acquire(idle, "a").ok());  // a dry run removes nothing
  auto removed = uploads().ExpireIdle(-60, false);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(uploads().Acquire(idle, "a").status().code(), Errc::kBlobUploadUnknown);
  lease->reset();
  EXPECT_TRUE(uploads().Acquire(held, "a").ok());
}

TEST_P(UploadStoreConformance, InProgressCountsOpenSessions) {
  auto count = [&] {
    auto n = uploads().InProgress();
    EXPECT_TRUE(n.ok()) << n.status().message();
    return n.ok() ? *n : 999;
  };
  EXPECT_EQ(count(), 0u);
  const std::string content = Unique("count");
  std::string a = StartWith("a", content);
  std::string b = StartWith("b", "other");
  EXPECT_EQ(count(), 2u);
  {
    auto up = uploads().Acquire(a, "a");
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Complete(Sha256(content)).ok());
  }
  EXPECT_EQ(count(), 1u);
  ASSERT_TRUE(uploads().Cancel(b, "b").ok());
  EXPECT_EQ(count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Stores, UploadStoreConformance, ::testing::ValuesIn(Stores()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace berth::storage
