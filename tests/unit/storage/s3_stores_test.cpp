// Tests for S3BlobStore and S3UploadStore (storage/s3/) against a real S3
// (Ceph RGW in tests/integration/s3_store_test.sh), named by S3_ENDPOINT,
// S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION and S3_BUCKET; skipped without
// them. Every test works under a fresh random key prefix, so listings and
// counts are its own. S3_BENCH=1 also runs the throughput measurement.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "crypto/hasher.hpp"
#include "crypto/random.hpp"
#include "s3/client.hpp"
#include "storage/memory/memory_lease_table.hpp"
#include "storage/s3/s3_blob_store.hpp"
#include "storage/s3/s3_upload_store.hpp"

namespace berth::storage {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kPart = 5 * kMiB;  // the tests' part size: S3's minimum

std::span<const char> Bytes(std::string_view s) { return {s.data(), s.size()}; }
Digest Sha256(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha256, s); }

// `n` bytes that differ with `seed` and along the way (no two parts alike).
std::string Data(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x);
  }
  return s;
}

// Reads `fd` to EOF.
std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class S3StoresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Env("S3_ENDPOINT").empty() || Env("S3_BUCKET").empty()) {
      GTEST_SKIP()
          << "S3_ENDPOINT / S3_BUCKET not set (tests/integration/s3_store_test.sh sets them)";
    }
    s3::ClientOptions o;
    o.endpoint = Env("S3_ENDPOINT");
    o.region = Env("S3_REGION").empty() ? "us-east-1" : Env("S3_REGION");
    o.bucket = Env("S3_BUCKET");
    o.access_key = Env("S3_ACCESS_KEY");
    o.secret_key = Secret(Env("S3_SECRET_KEY"));
    client_ = std::make_unique<s3::Client>(o);
    auto checked = client_->CheckBucket(true);
    ASSERT_TRUE(checked.ok()) << checked.message();
    prefix_ = "t-" + crypto::RandomHex(6).value() + "/";
    std::string tmpl = (fs::temp_directory_path() / "berth-s3-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    spool_ = tmpl;
    blobs_ = MakeBlobs(false);
    uploads_ = MakeUploads();
  }

  void TearDown() override {
    uploads_.reset();
    blobs_.reset();
    if (!spool_.empty()) {
      std::error_code ec;
      fs::remove_all(spool_, ec);
    }
  }

  std::unique_ptr<S3BlobStore> MakeBlobs(bool redirect) {
    S3BlobStoreOptions o;
    o.prefix = prefix_;
    o.redirect = redirect;
    return std::make_unique<S3BlobStore>(*client_, o);
  }

  // Another S3UploadStore on the same bucket and lease table: another berth.
  std::unique_ptr<S3UploadStore> MakeUploads() {
    S3UploadStoreOptions o;
    o.prefix = prefix_;
    o.spool_dir = spool_;
    o.part_size = kPart;
    o.workers = 2;
    o.lease_ttl_seconds = 60;
    o.memory_bytes = memory_bytes_;
    return std::make_unique<S3UploadStore>(*client_, *blobs_, leases_, o);
  }

  // Keys under the test's prefix + `sub`.
  std::vector<std::string> Keys(const std::string& sub) {
    std::vector<std::string> keys;
    std::string token;
    do {
      auto page = client_->List(prefix_ + sub, token, 1000);
      EXPECT_TRUE(page.ok()) << page.status().message();
      if (!page) break;
      for (auto& [k, size] : page->objects) keys.push_back(k);
      token = page->next_token;
    } while (!token.empty());
    return keys;
  }

  // Publishes `content` through a staged local file.
  Digest Put(const std::string& content) {
    Digest d = Sha256(content);
    std::string staged = spool_ + "/staged-" + d.hex();
    FILE* f = std::fopen(staged.c_str(), "wb");
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    auto s = blobs_->Publish(staged, d);
    EXPECT_TRUE(s.ok()) << s.message();
    EXPECT_FALSE(fs::exists(staged));
    return d;
  }

  std::string ReadBlob(const Digest& d) {
    auto b = blobs_->Open(d);
    EXPECT_TRUE(b.ok()) << b.status().message();
    if (!b) return "";
    EXPECT_TRUE(b->stream);
    return ReadAll(b->fd.get());
  }

  // Pushes `content` into a session in `chunk`-byte requests, each on a
  // new store object, and completes it on yet another.
  void ChunkedPush(const std::string& content, size_t chunk,
                   DigestAlgorithm algorithm = DigestAlgorithm::kSha256) {
    auto first = uploads_->Create("library/chunked");
    ASSERT_TRUE(first.ok()) << first.status().message();
    const std::string id = (*first)->id();
    ASSERT_TRUE((*first)->Keep().ok());
    first->reset();
    for (size_t off = 0; off < content.size(); off += chunk) {
      auto node = MakeUploads();
      auto up = node->Acquire(id, "library/chunked");
      ASSERT_TRUE(up.ok()) << up.status().message();
      ASSERT_EQ((*up)->size(), off);
      ASSERT_TRUE((*up)->Append(Bytes(std::string_view(content).substr(off, chunk))).ok());
      auto kept = (*up)->Keep();
      ASSERT_TRUE(kept.ok()) << kept.message();
    }
    auto node = MakeUploads();
    auto up = node->Acquire(id, "library/chunked");
    ASSERT_TRUE(up.ok()) << up.status().message();
    ASSERT_EQ((*up)->size(), content.size());
    const Digest digest = crypto::HashBytes(algorithm, content);
    auto done = (*up)->Complete(digest);
    ASSERT_TRUE(done.ok()) << done.message();
    EXPECT_EQ(ReadBlob(digest), content);
    EXPECT_TRUE(Keys("uploads/").empty());
  }

  // A monolithic push: one lease, Append in 64 KiB pieces, Complete.
  void MonolithicPush(const std::string& content,
                      DigestAlgorithm algorithm = DigestAlgorithm::kSha256) {
    auto up = uploads_->Create("library/mono");
    ASSERT_TRUE(up.ok()) << up.status().message();
    for (size_t off = 0; off < content.size(); off += 65536) {
      ASSERT_TRUE((*up)->Append(Bytes(std::string_view(content).substr(off, 65536))).ok());
    }
    const Digest digest = crypto::HashBytes(algorithm, content);
    auto done = (*up)->Complete(digest);
    ASSERT_TRUE(done.ok()) << done.message();
    up->reset();
    EXPECT_EQ(ReadBlob(digest), content);
    EXPECT_TRUE(Keys("uploads/").empty());
  }

  std::unique_ptr<s3::Client> client_;
  std::string prefix_;
  std::string spool_;
  MemoryLeaseTable leases_;
  // Of the stores MakeUploads makes: the default puts every part of these
  // tests in memory; 0 sends them all through the spool.
  uint64_t memory_bytes_ = S3UploadStoreOptions{}.memory_bytes;
  std::unique_ptr<S3BlobStore> blobs_;
  std::unique_ptr<S3UploadStore> uploads_;
};

TEST_F(S3StoresTest, PublishStatOpenFullAndRange) {
  const std::string content = Data(3 * kMiB + 17, 1);
  Digest d = Put(content);
  EXPECT_EQ(blobs_->Key(d), prefix_ + "blobs/sha256/" + d.hex().substr(0, 2) + "/" + d.hex());
  auto size = blobs_->Stat(d);
  ASSERT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(*size, content.size());
  EXPECT_EQ(ReadBlob(d), content);

  auto range = blobs_->OpenRange(d, 1000, 2 * kMiB);
  ASSERT_TRUE(range.ok()) << range.status().message();
  EXPECT_TRUE(range->stream);
  EXPECT_EQ(range->size, content.size());
  EXPECT_EQ(ReadAll(range->fd.get()), content.substr(1000, 2 * kMiB));

  auto empty = blobs_->OpenRange(d, 5, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(ReadAll(empty->fd.get()), "");
  EXPECT_EQ(blobs_->OpenRange(d, content.size(), 1).status().code(), Errc::kRangeInvalid);

  // Publishing it again only removes the staged file.
  Put(content);
}

TEST_F(S3StoresTest, ReaderClosingEarlyStopsTheFetch) {
  Digest d = Put(Data(8 * kMiB, 2));
  for (int i = 0; i < 20; ++i) {  // more than would fit if fetches leaked
    auto b = blobs_->Open(d);
    ASSERT_TRUE(b.ok()) << b.status().message();
    char buf[100];
    ASSERT_EQ(::read(b->fd.get(), buf, sizeof buf), 100);
  }  // each closes its read end unread: the fetcher gets EPIPE, not SIGPIPE
  // The fetch slots came back: a whole read still works.
  EXPECT_EQ(ReadBlob(d).size(), 8 * kMiB);
}

TEST_F(S3StoresTest, FetchLimit) {
  Digest d = Put(Data(8 * kMiB, 17));  // more than a pipe holds: fetchers wait
  S3BlobStoreOptions o;
  o.prefix = prefix_;
  o.max_fetches = 2;
  o.fetch_wait_ms = 100;
  S3BlobStore limited(*client_, o);
  auto a = limited.Open(d), b = limited.Open(d);
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = limited.Open(d);
  EXPECT_EQ(c.status().code(), Errc::kUnavailable);
  a->fd.Reset();  // the reader leaves: its fetcher ends and frees a slot
  auto e = limited.Open(d);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(ReadAll(e->fd.get()).size(), 8 * kMiB);
}

TEST_F(S3StoresTest, MissingBlobAndRemove) {
  Digest missing = Sha256("never stored");
  EXPECT_EQ(blobs_->Stat(missing).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(blobs_->Open(missing).status().code(), Errc::kBlobUnknown);
  EXPECT_EQ(blobs_->OpenRange(missing, 0, 1).status().code(), Errc::kBlobUnknown);

  Digest d = Put("to be removed");
  ASSERT_TRUE(blobs_->Stat(d).ok());
  ASSERT_TRUE(blobs_->Remove(d).ok());
  EXPECT_EQ(blobs_->Stat(d).status().code(), Errc::kBlobUnknown);
  EXPECT_TRUE(blobs_->Remove(d).ok());  // already gone is fine
  EXPECT_EQ(*blobs_->Purge(), 0u);
}

TEST_F(S3StoresTest, ForEachListsTheBlobs) {
  std::map<std::string, uint64_t> want;
  for (int i = 0; i < 5; ++i) {
    std::string c = Data(100 + i, 10 + i);
    want[Put(c).str()] = c.size();
  }
  // Not a blob: skipped.
  ASSERT_TRUE(client_->Put(prefix_ + "blobs/sha256/zz/junk", Bytes("x")).ok());
  std::map<std::string, uint64_t> got;
  ASSERT_TRUE(blobs_->ForEach([&](const Digest& d, uint64_t size) { got[d.str()] = size; }).ok());
  EXPECT_EQ(got, want);
}

TEST_F(S3StoresTest, RedirectUrlIsFetchable) {
  const std::string content = Data(4096, 3);
  Digest d = Put(content);
  EXPECT_FALSE(blobs_->RedirectUrl(d, "GET").has_value());
  auto redirecting = MakeBlobs(true);
  auto url = redirecting->RedirectUrl(d, "GET");
  ASSERT_TRUE(url.has_value());
  std::string out = spool_ + "/fetched";
  std::string cmd = "curl -sf --max-time 20 -o '" + out + "' '" + *url + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  FILE* f = std::fopen(out.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string got(content.size() + 10, '\0');
  got.resize(std::fread(got.data(), 1, got.size(), f));
  std::fclose(f);
  EXPECT_EQ(got, content);
}

TEST_F(S3StoresTest, MonolithicUploadOfSeveralParts) { MonolithicPush(Data(20 * kMiB, 4)); }

TEST_F(S3StoresTest, UploadsThroughTheSpoolWithoutMemory) {
  memory_bytes_ = 0;
  uploads_ = MakeUploads();
  MonolithicPush(Data(20 * kMiB + 3, 21));
  MonolithicPush(Data(kPart - 1, 22));
  ChunkedPush(Data(12 * kMiB + 5, 23), 3 * kMiB);
}

// Two part buffers for the whole store: one lease's parts alternate
// between memory and the spool, and a Keep's tail may be in either.
TEST_F(S3StoresTest, UploadsWithPartsInMemoryAndInTheSpool) {
  memory_bytes_ = 2 * kPart;
  uploads_ = MakeUploads();
  MonolithicPush(Data(41 * kMiB + 7, 24));
  ChunkedPush(Data(23 * kMiB + 1, 25), 7 * kMiB);
}

// Bytes of local disk the open spool files of `dir` hold: parts uploaded
// are punched out of them, so this falls while the body is still "arriving".
uint64_t SpoolBlocks(const std::string& dir) {
  uint64_t bytes = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = fs::read_symlink(e.path(), ec).string();
    if (ec || target.rfind(dir + "/", 0) != 0) continue;
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0) bytes += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return bytes;
}

// Parts go up while the body streams in, before Keep or Complete.
TEST_F(S3StoresTest, PartsUploadWhileTheBodyArrives) {
  memory_bytes_ = 0;  // the spool shows the parts going
  uploads_ = MakeUploads();
  const std::string content = Data(20 * kMiB, 16);
  auto up = uploads_->Create("library/overlap");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append(Bytes(content)).ok());
  EXPECT_GE(SpoolBlocks(spool_), 15 * kMiB);  // the parts are local at first...
  uint64_t held = 0;
  for (int i = 0; i < 100; ++i) {
    held = SpoolBlocks(spool_);
    if (held < kMiB) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_LT(held, kMiB) << "the four full parts were not uploaded in the background";
  auto s = (*up)->Complete(Sha256(content));
  ASSERT_TRUE(s.ok()) << s.message();
  up->reset();
  EXPECT_EQ(ReadBlob(Sha256(content)), content);
}

TEST_F(S3StoresTest, CorruptStateIsRefused) {
  auto up = uploads_->Create("library/corrupt");
  ASSERT_TRUE(up.ok());
  const std::string id = (*up)->id();
  ASSERT_TRUE((*up)->Append(Bytes("abc")).ok());
  ASSERT_TRUE((*up)->Keep().ok());
  up->reset();
  const std::string key = prefix_ + "uploads/" + id + "/state";
  auto good = client_->GetSmall(key, 1 << 20);
  ASSERT_TRUE(good.ok());
  ASSERT_NE(good->find("\"size\":3"), std::string::npos) << *good;
  for (const std::string& bad :
       {std::string("not json"), std::string("{}"),
        // sizes that do not add up
        std::string(*good).replace(good->find("\"size\":3"), 8, "\"size\":4"),
        // a hash state cut short
        std::string(*good).replace(good->find("\"hash\":\"") + 8, 2, "")}) {
    ASSERT_TRUE(client_->Put(key, Bytes(bad)).ok());
    auto got = uploads_->Acquire(id, "library/corrupt");
    EXPECT_EQ(got.status().code(), Errc::kInternal) << bad;
  }
  ASSERT_TRUE(client_->Put(key, Bytes(*good)).ok());
  auto again = uploads_->Acquire(id, "library/corrupt");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE((*again)->Complete(Sha256("abc")).ok());
}

TEST_F(S3StoresTest, EmptyBlob) { MonolithicPush(""); }

TEST_F(S3StoresTest, ExactlyOnePartAndOneByteMore) {
  MonolithicPush(Data(kPart, 5));
  MonolithicPush(Data(kPart + 1, 6));
  ChunkedPush(Data(kPart + 1, 7), kPart);
}

// Every 1 MiB chunk on another store object (another berth): the hash and
// the tail travel through the state object only.
TEST_F(S3StoresTest, ChunkedUploadAcrossNodes) { ChunkedPush(Data(12 * kMiB + 5, 8), kMiB); }

TEST_F(S3StoresTest, WrongDigestIsRefusedAndCleanedUp) {
  const std::string content = Data(7 * kMiB, 9);
  auto up = uploads_->Create("library/bad");
  ASSERT_TRUE(up.ok());
  const std::string id = (*up)->id();
  ASSERT_TRUE((*up)->Append(Bytes(content)).ok());
  ASSERT_TRUE((*up)->Keep().ok());
  up->reset();
  auto again = uploads_->Acquire(id, "library/bad");
  ASSERT_TRUE(again.ok()) << again.status().message();
  auto s = (*again)->Complete(Sha256("something else"));
  EXPECT_EQ(s.code(), Errc::kDigestInvalid);
  again->reset();
  EXPECT_TRUE(Keys("uploads/").empty());
  EXPECT_TRUE(Keys("blobs/").empty());
  EXPECT_EQ(uploads_->Acquire(id, "library/bad").status().code(), Errc::kBlobUploadUnknown);
}

// The hash kept between requests is SHA-256: a sha512 digest is checked on
// the assembled bytes, with no full part, with several, and across nodes.
TEST_F(S3StoresTest, Sha512Uploads) {
  MonolithicPush(Data(1000, 20), DigestAlgorithm::kSha512);
  MonolithicPush(Data(2 * kPart + 3, 21), DigestAlgorithm::kSha512);
  ChunkedPush(Data(kPart + kMiB + 1, 22), kMiB, DigestAlgorithm::kSha512);
}

TEST_F(S3StoresTest, WrongSha512IsRefusedAndCleanedUp) {
  for (const std::string& content : {Data(1000, 23), Data(kPart + 7, 24)}) {
    auto up = uploads_->Create("library/bad512");
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Append(Bytes(content)).ok());
    auto s = (*up)->Complete(crypto::HashBytes(DigestAlgorithm::kSha512, content + "x"));
    EXPECT_EQ(s.code(), Errc::kDigestInvalid) << s.message();
    up->reset();
    EXPECT_TRUE(Keys("uploads/").empty());
    EXPECT_TRUE(Keys("blobs/").empty());
  }
}

// A request that uploaded a part in the background and then failed leaves
// the session where it was; the next one's parts replace the stray one.
TEST_F(S3StoresTest, LeaseDroppedWithoutKeepRollsBack) {
  const std::string first = Data(3 * kMiB, 10), lost = Data(8 * kMiB, 11),
                    rest = Data(4 * kMiB, 12);
  auto up = uploads_->Create("library/rollback");
  ASSERT_TRUE(up.ok());
  const std::string id = (*up)->id();
  ASSERT_TRUE((*up)->Append(Bytes(first)).ok());
  ASSERT_TRUE((*up)->Keep().ok());
  up->reset();
  {
    auto bad = uploads_->Acquire(id, "library/rollback");
    ASSERT_TRUE(bad.ok()) << bad.status().message();
    ASSERT_TRUE((*bad)->Append(Bytes(lost)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let its part go up
  }                                                               // dropped: no Keep
  auto node = MakeUploads();
  auto next = node->Acquire(id, "library/rollback");
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_EQ((*next)->size(), first.size());
  ASSERT_TRUE((*next)->Append(Bytes(rest)).ok());
  auto s = (*next)->Complete(Sha256(first + rest));
  ASSERT_TRUE(s.ok()) << s.message();
  next->reset();
  EXPECT_EQ(ReadBlob(Sha256(first + rest)), first + rest);
}

TEST_F(S3StoresTest, BusyWhileLeasedElsewhereAndWrongRepository) {
  auto up = uploads_->Create("library/busy");
  ASSERT_TRUE(up.ok());
  const std::string id = (*up)->id();
  ASSERT_TRUE((*up)->Keep().ok());
  up->reset();
  auto held = uploads_->Acquire(id, "library/busy");
  ASSERT_TRUE(held.ok()) << held.status().message();
  auto other = MakeUploads();
  EXPECT_EQ(other->Acquire(id, "library/busy").status().code(), Errc::kBusy);
  EXPECT_EQ(other->Cancel(id, "library/busy").code(), Errc::kBusy);
  held->reset();
  EXPECT_EQ(other->Acquire(id, "library/other").status().code(), Errc::kBlobUploadUnknown);
  EXPECT_EQ(other->Acquire(std::string(32, 'a'), "library/busy").status().code(),
            Errc::kBlobUploadUnknown);
  EXPECT_EQ(other->Acquire("../../x", "library/busy").status().code(), Errc::kBlobUploadUnknown);
  EXPECT_TRUE(other->Acquire(id, "library/busy").ok());  // free again
}

// A request that outlived its lease may not write over the one that took
// the session next.
TEST_F(S3StoresTest, KeepAfterTheLeaseLapsedIsRefused) {
  S3UploadStoreOptions o;
  o.prefix = prefix_;
  o.spool_dir = spool_;
  o.part_size = kPart;
  o.lease_ttl_seconds = 1;
  S3UploadStore short_lived(*client_, *blobs_, leases_, o);
  auto up = short_lived.Create("library/lapse");
  ASSERT_TRUE(up.ok());
  const std::string id = (*up)->id();
  ASSERT_TRUE((*up)->Keep().ok());
  up->reset();
  auto slow = short_lived.Acquire(id, "library/lapse");
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE((*slow)->Append(Bytes("late")).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto other = uploads_->Acquire(id, "library/lapse");
  ASSERT_TRUE(other.ok()) << other.status().message();
  ASSERT_TRUE((*other)->Append(Bytes("first")).ok());
  EXPECT_EQ((*slow)->Keep().code(), Errc::kBusy);
  EXPECT_EQ((*slow)->Complete(Sha256("late")).code(), Errc::kBusy);
  EXPECT_EQ((*slow)->Complete(Sha256("wrong")).code(), Errc::kBusy);  // deletes nothing
  ASSERT_TRUE((*other)->Keep().ok());
  other->reset();
  slow->reset();
  auto last = uploads_->Acquire(id, "library/lapse");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)->size(), 5u);
  EXPECT_TRUE((*last)->Complete(Sha256("first")).ok());
}

TEST_F(S3StoresTest, Cancel) {
  auto up = uploads_->Create("library/cancel");
  ASSERT_TRUE(up.ok());
  const std::string id = (*up)->id();
  ASSERT_TRUE((*up)->Append(Bytes(Data(6 * kMiB, 13))).ok());  // a part and a tail
  ASSERT_TRUE((*up)->Keep().ok());
  up->reset();
  EXPECT_EQ(*uploads_->InProgress(), 1u);
  auto s = uploads_->Cancel(id, "library/cancel");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(*uploads_->InProgress(), 0u);
  EXPECT_TRUE(Keys("uploads/").empty());
  EXPECT_EQ(uploads_->Acquire(id, "library/cancel").status().code(), Errc::kBlobUploadUnknown);
  EXPECT_EQ(uploads_->Cancel(id, "library/cancel").code(), Errc::kBlobUploadUnknown);
}

TEST_F(S3StoresTest, ExpireIdle) {
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto up = uploads_->Create("library/idle");
    ASSERT_TRUE(up.ok());
    ids.push_back((*up)->id());
    ASSERT_TRUE((*up)->Append(Bytes(Data(kMiB, 14))).ok());
    ASSERT_TRUE((*up)->Keep().ok());
  }
  EXPECT_EQ(*uploads_->InProgress(), 2u);
  EXPECT_EQ(*uploads_->ExpireIdle(3600, false), 0u);  // young
  auto held = uploads_->Acquire(ids[1], "library/idle");
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*uploads_->ExpireIdle(-10, true), 1u);  // dry run; the held one is spared
  EXPECT_EQ(*uploads_->InProgress(), 2u);
  EXPECT_EQ(*uploads_->ExpireIdle(-10, false), 1u);
  EXPECT_EQ(*uploads_->InProgress(), 1u);
  EXPECT_EQ(uploads_->Acquire(ids[0], "library/idle").status().code(), Errc::kBlobUploadUnknown);
  held->reset();
  // A lease dropped without Keep is given back by a worker, a moment later.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // A leftover without state goes on the second sighting past max age.
  const std::string orphan = prefix_ + "uploads/" + std::string(32, 'b') + "/tail-3";
  ASSERT_TRUE(client_->Put(orphan, Bytes("left over")).ok());
  EXPECT_EQ(*uploads_->ExpireIdle(3600, false), 0u);
  EXPECT_EQ(*uploads_->ExpireIdle(-10, false), 2u);  // the orphan and ids[1]
  EXPECT_TRUE(Keys("uploads/").empty());
}

// Figures for the report, not a pass/fail check: S3_BENCH=1.
TEST_F(S3StoresTest, Throughput) {
  if (Env("S3_BENCH") != "1") GTEST_SKIP() << "S3_BENCH=1 runs the measurement";
  const uint64_t total = 256 * kMiB;
  std::string piece = Data(kMiB, 15);
  crypto::Hasher h(DigestAlgorithm::kSha256);
  const std::string file = spool_ + "/bench";
  {
    FILE* f = std::fopen(file.c_str(), "wb");
    for (uint64_t i = 0; i < total / kMiB; ++i) {
      piece[0] = static_cast<char>(i);
      piece[1] = static_cast<char>(i >> 8);
      std::fwrite(piece.data(), 1, piece.size(), f);
      h.Update(Bytes(piece));
    }
    std::fclose(f);
  }
  const Digest d = h.Peek();
  using Clock = std::chrono::steady_clock;
  auto mibs = [&](Clock::time_point a, Clock::time_point b) {
    return static_cast<double>(total) / kMiB / std::chrono::duration<double>(b - a).count();
  };
  // Through the store: Append as a body streams in (here: as fast as the
  // disk takes it), then Complete.
  S3UploadStoreOptions o;
  o.prefix = prefix_;
  o.spool_dir = spool_;
  S3UploadStore store(*client_, *blobs_, leases_, o);  // default 8 MiB parts
  auto t0 = Clock::now();
  auto up = store.Create("bench/mono");
  ASSERT_TRUE(up.ok());
  {
    FILE* f = std::fopen(file.c_str(), "rb");
    std::string buf(kMiB, '\0');
    while (size_t n = std::fread(buf.data(), 1, buf.size(), f)) {
      ASSERT_TRUE((*up)->Append({buf.data(), n}).ok());
    }
    std::fclose(f);
  }
  auto t1 = Clock::now();
  auto s = (*up)->Complete(d);
  auto t2 = Clock::now();
  ASSERT_TRUE(s.ok()) << s.message();
  up->reset();
  ASSERT_TRUE(blobs_->Remove(d).ok());

  // A plain PutObject of the same file.
  auto t3 = Clock::now();
  {
    FILE* f = std::fopen(file.c_str(), "rb");
    ASSERT_TRUE(client_->PutFile(prefix_ + "plain", fileno(f), 0, total).ok());
    std::fclose(f);
  }
  auto t4 = Clock::now();

  // Reads: the store's pipe vs Client::Get into nothing.
  Digest plain_d = d;
  ASSERT_TRUE(client_->Copy(prefix_ + "plain", blobs_->Key(plain_d)).ok());
  auto t5 = Clock::now();
  auto b = blobs_->OpenRange(plain_d, 0, total);
  ASSERT_TRUE(b.ok());
  uint64_t got = 0;
  {
    std::string buf(kMiB, '\0');
    for (;;) {
      ssize_t n = ::read(b->fd.get(), buf.data(), buf.size());
      if (n <= 0) break;
      got += static_cast<uint64_t>(n);
    }
  }
  auto t6 = Clock::now();
  EXPECT_EQ(got, total);
  uint64_t got2 = 0;
  ASSERT_TRUE(client_
                  ->Get(prefix_ + "plain", 0, total,
                        [&](std::span<const char> p) {
                          got2 += p.size();
                          return true;
                        })
                  .ok());
  auto t7 = Clock::now();
  EXPECT_EQ(got2, total);
  std::printf(
      "BENCH 256 MiB: store Append %.0f MiB/s, then Complete %.2f s; store total %.0f MiB/s; "
      "plain PutFile %.0f MiB/s; OpenRange pipe read %.0f MiB/s; Client::Get %.0f MiB/s\n",
      mibs(t0, t1), std::chrono::duration<double>(t2 - t1).count(), mibs(t0, t2), mibs(t3, t4),
      mibs(t5, t6), mibs(t6, t7));
  (void)client_->Delete(prefix_ + "plain");
  (void)blobs_->Remove(plain_d);
}

}  // namespace
}  // namespace berth::storage
