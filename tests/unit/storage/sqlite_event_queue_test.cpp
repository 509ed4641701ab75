// Tests for the EventQueue half of SqliteMetadataStore (storage/db/
// sqlite_event_queue.cpp): events recorded in the same transaction as the
// change they describe, order, removal, the bound, and the v2 -> v3 upgrade.

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

Digest Sha256(std::string_view s) { return crypto::HashBytes(DigestAlgorithm::kSha256, s); }

class SqliteEventQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-events-XXXXXX").string();
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
    auto s = SqliteMetadataStore::Open(path());
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
  }
  std::string path() const { return dir_ + "/metadata.db"; }

  // Runs `sql` on the file with a connection of its own.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
  }
  int64_t UserVersion() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
    sqlite3_step(st);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
  }

  static QueuedEvent Row(const std::string& endpoint, const std::string& id) {
    return {endpoint, id, R"({"id":")" + id + R"("})"};
  }
  std::vector<std::string> Ids(const std::string& endpoint, size_t limit = 100) {
    auto p = store_->Pending(endpoint, limit);
    EXPECT_TRUE(p.ok()) << p.status().message();
    std::vector<std::string> out;
    if (p) {
      for (const auto& e : *p) out.push_back(e.id);
    }
    return out;
  }
  ManifestPut Put(const std::string& content, std::vector<std::string> blobs = {}) {
    ManifestPut p;
    p.record.digest = Sha256(content);
    p.record.media_type = "application/vnd.oci.image.manifest.v1+json";
    p.record.content = content;
    p.tag = "latest";
    p.blob_refs = std::move(blobs);
    return p;
  }

  std::string dir_;
  std::unique_ptr<SqliteMetadataStore> store_;
};

using Strings = std::vector<std::string>;

TEST_F(SqliteEventQueueTest, PendingIsInRecordingOrderPerEndpoint) {
  ASSERT_TRUE(store_->Enqueue({Row("a", "1"), Row("b", "1"), Row("a", "2")}).ok());
  ASSERT_TRUE(store_->Enqueue({Row("a", "3")}).ok());
  EXPECT_EQ(Ids("a"), (Strings{"1", "2", "3"}));
  EXPECT_EQ(Ids("b"), (Strings{"1"}));
  EXPECT_EQ(Ids("a", 2), (Strings{"1", "2"}));
  EXPECT_EQ(*store_->Count("a"), 3u);
  EXPECT_EQ(*store_->Count("nobody"), 0u);
  auto p = store_->Pending("a", 10);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)[0].payload, R"({"id":"1"})");
  EXPECT_LT((*p)[0].seq, (*p)[1].seq);
}

TEST_F(SqliteEventQueueTest, RemoveDeletesOnlyThroughSeqOfOneEndpoint) {
  ASSERT_TRUE(store_->Enqueue({Row("a", "1"), Row("a", "2"), Row("b", "x"), Row("a", "3")}).ok());
  auto p = store_->Pending("a", 2);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(store_->Remove("a", p->back().seq).ok());
  EXPECT_EQ(Ids("a"), (Strings{"3"}));
  EXPECT_EQ(Ids("b"), (Strings{"x"}));
}

TEST_F(SqliteEventQueueTest, TrimDropsTheOldestFirst) {
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(store_->Enqueue({Row("a", std::to_string(i))}).ok());
  ASSERT_TRUE(store_->Enqueue({Row("b", "keep")}).ok());
  auto dropped = store_->Trim("a", 2);
  ASSERT_TRUE(dropped.ok()) << dropped.status().message();
  EXPECT_EQ(*dropped, 3u);
  EXPECT_EQ(Ids("a"), (Strings{"4", "5"}));
  EXPECT_EQ(*store_->Trim("a", 2), 0u);
  EXPECT_EQ(*store_->Trim("a", 0), 2u);
  EXPECT_TRUE(Ids("a").empty());
  EXPECT_EQ(Ids("b"), (Strings{"keep"}));
}

TEST_F(SqliteEventQueueTest, ChangesRecordTheirEventsInTheirTransaction) {
  const Digest blob = Sha256("layer");
  ASSERT_TRUE(store_->LinkBlob("r", blob, 5, 0).ok());
  ManifestPut ok = Put("m1", {blob.str()});
  ok.events = {Row("a", "push-1")};
  ASSERT_TRUE(store_->PutManifest("r", ok).ok());

  // A change that fails records nothing.
  ManifestPut missing = Put("m2", {Sha256("absent").str()});
  missing.events = {Row("a", "push-2")};
  EXPECT_EQ(store_->PutManifest("r", missing).code(), Errc::kManifestBlobUnknown);
  EXPECT_EQ(store_->DeleteTag("r", "nosuch", {Row("a", "del-0")}).code(), Errc::kManifestUnknown);
  EXPECT_EQ(store_->DeleteManifest("r", Sha256("nosuch"), {Row("a", "del-0")}).code(),
            Errc::kManifestUnknown);

  ASSERT_TRUE(store_->DeleteTag("r", "latest", {Row("a", "del-tag")}).ok());
  ASSERT_TRUE(store_->DeleteManifest("r", Sha256("m1"), {Row("a", "del-m")}).ok());
  EXPECT_EQ(Ids("a"), (Strings{"push-1", "del-tag", "del-m"}));
  Reopen();  // durable
  EXPECT_EQ(Ids("a"), (Strings{"push-1", "del-tag", "del-m"}));
}

TEST_F(SqliteEventQueueTest, AVersion2StoreUpgradesToVersion3) {
  const Digest blob = Sha256("layer");
  ASSERT_TRUE(store_->LinkBlob("r", blob, 5, 0).ok());
  ASSERT_TRUE(store_->PutManifest("r", Put("m1", {blob.str()})).ok());
  store_.reset();
  // What a v2 store is: everything but the queue.
  RawExec("DROP TABLE event_queue; DELETE FROM sqlite_sequence; PRAGMA user_version=2;");
  EXPECT_EQ(UserVersion(), 2);
  Reopen();
  EXPECT_EQ(UserVersion(), 3);
  auto m = store_->GetManifest("r", std::string("latest"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->content, "m1");
  ASSERT_TRUE(store_->Enqueue({Row("a", "after-upgrade")}).ok());
  EXPECT_EQ(Ids("a"), (Strings{"after-upgrade"}));
}

TEST_F(SqliteEventQueueTest, AFailedUpgradeLeavesVersion2) {
  store_.reset();
  // A table in the way makes the v3 step fail: the whole upgrade rolls back.
  RawExec("DROP TABLE event_queue; PRAGMA user_version=2; CREATE TABLE event_queue(x);");
  EXPECT_FALSE(SqliteMetadataStore::Open(path()).ok());
  EXPECT_EQ(UserVersion(), 2);
  RawExec("DROP TABLE event_queue;");
  Reopen();
  EXPECT_EQ(UserVersion(), 3);
}

}  // namespace
}  // namespace berth::storage
