// Tests for SqliteRefreshTokenStore (storage/db/): save and find with the
// credential generation and times, touch, revoke, expiry, two connections
// (a token server and `berth user del`), and the upgrade of a schema-1 file.

#include "storage/db/sqlite_refresh_token_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace berth::storage {
namespace {

namespace fs = std::filesystem;

class SqliteRefreshTokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-tokens-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/tokens.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<SqliteRefreshTokenStore> Open() {
    auto s = SqliteRefreshTokenStore::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // Runs raw SQL on the file, as an older berth would have.
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteRefreshTokenStoreTest, SaveFindTouchRevoke) {
  auto store = Open();
  ASSERT_TRUE(store);
  RefreshGrant g{"alice", "berth", true, "gen-a", 1, 2, ""};  // times are the store's to set
  ASSERT_TRUE(store->Save("h1", g, 1000).ok());
  ASSERT_TRUE(store->Save("h2", {"bob", "berth", false, "gen-b", 0, 0, ""}, 1000).ok());
  auto found = store->Find("h1");
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(found->subject, "alice");
  EXPECT_EQ(found->service, "berth");
  EXPECT_TRUE(found->admin);
  EXPECT_EQ(found->generation, "gen-a");
  EXPECT_EQ(found->created, 1000);
  EXPECT_EQ(found->last_used, 1000);

  ASSERT_TRUE(store->Touch("h1", 1500).ok());
  EXPECT_EQ(store->Find("h1")->last_used, 1500);
  EXPECT_EQ(store->Find("h1")->created, 1000);
  EXPECT_TRUE(store->Touch("gone", 1500).ok());

  EXPECT_EQ(store->Find("nope").status().code(), Errc::kUnauthorized);
  ASSERT_TRUE(store->Save("h3", {"alice", "berth", false, "gen-a", 0, 0, ""}, 1000).ok());
  EXPECT_EQ(store->RevokeOne("h3").value(), 1);
  EXPECT_EQ(store->Find("h3").status().code(), Errc::kUnauthorized);
  EXPECT_EQ(store->RevokeOne("h3").value(), 0);
  EXPECT_TRUE(store->Find("h1").ok());
  EXPECT_EQ(store->Revoke("alice").value(), 1);
  EXPECT_EQ(store->Find("h1").status().code(), Errc::kUnauthorized);
  EXPECT_TRUE(store->Find("h2").ok());
  EXPECT_EQ(store->Revoke("").value(), 1);
  EXPECT_EQ(store->Find("h2").status().code(), Errc::kUnauthorized);
}

TEST_F(SqliteRefreshTokenStoreTest, DeleteExpiredByAgeOrIdleTime) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Save("old", {"a", "berth", false, "g", 0, 0, ""}, 100).ok());
  ASSERT_TRUE(store->Save("idle", {"b", "berth", false, "g", 0, 0, ""}, 500).ok());
  ASSERT_TRUE(store->Save("busy", {"c", "berth", false, "g", 0, 0, ""}, 500).ok());
  ASSERT_TRUE(store->Touch("busy", 900).ok());
  // Created before 200, or last used before 800.
  EXPECT_EQ(store->DeleteExpired(200, 800).value(), 2);
  EXPECT_FALSE(store->Find("old").ok());
  EXPECT_FALSE(store->Find("idle").ok());
  EXPECT_TRUE(store->Find("busy").ok());
}

// `berth user del` opens the file while the token server holds it open: its
// revocation is seen by the server's connection at once.
TEST_F(SqliteRefreshTokenStoreTest, RevocationFromAnotherConnectionIsImmediate) {
  auto server = Open();
  ASSERT_TRUE(server);
  ASSERT_TRUE(server->Save("h", {"bob", "berth", false, "g", 0, 0, ""}, 1).ok());
  ASSERT_TRUE(server->Find("h").ok());
  {
    auto cli = Open();
    ASSERT_TRUE(cli);
    EXPECT_EQ(cli->Revoke("bob").value(), 1);
  }
  EXPECT_EQ(server->Find("h").status().code(), Errc::kUnauthorized);
}

TEST_F(SqliteRefreshTokenStoreTest, UpgradesASchemaOneFileAndRevokesItsTokens) {
  // The schema berth wrote before credential generations (user_version 0).
  Sql("CREATE TABLE refresh_tokens (hash TEXT PRIMARY KEY, subject TEXT NOT NULL, "
      "service TEXT NOT NULL, admin INTEGER NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE INDEX refresh_tokens_by_subject ON refresh_tokens(subject);"
      "INSERT INTO refresh_tokens VALUES ('h-old', 'alice', 'berth', 0, 5);");
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Find("h-old").status().code(), Errc::kUnauthorized);
  ASSERT_TRUE(store->Save("h-new", {"alice", "berth", false, "g", 0, 0, ""}, 10).ok());
  store.reset();
  // Reopening an upgraded file keeps its tokens.
  store = Open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->Find("h-new").ok());
}

TEST_F(SqliteRefreshTokenStoreTest, UpgradesASchemaTwoFileAndKeepsItsTokens) {
  // The schema berth wrote before sealed sessions (user_version 2).
  Sql("CREATE TABLE refresh_tokens (hash TEXT PRIMARY KEY, subject TEXT NOT NULL, "
      "service TEXT NOT NULL, admin INTEGER NOT NULL, generation TEXT NOT NULL, "
      "created INTEGER NOT NULL, last_used INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE INDEX refresh_tokens_by_subject ON refresh_tokens(subject);"
      "INSERT INTO refresh_tokens VALUES ('h-v2', 'alice', 'berth', 1, 'gen-a', 5, 7);"
      "PRAGMA user_version=2;");
  auto store = Open();
  ASSERT_TRUE(store);
  auto old = store->Find("h-v2");
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->subject, "alice");
  EXPECT_TRUE(old->admin);
  EXPECT_EQ(old->generation, "gen-a");
  EXPECT_EQ(old->created, 5);
  EXPECT_EQ(old->last_used, 7);
  EXPECT_EQ(old->sealed_session, "");
  ASSERT_TRUE(store->Save("h-ks", {"carol", "berth", false, "", 0, 0, "00ff"}, 10).ok());
  store.reset();
  store = Open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->Find("h-v2").ok());
  EXPECT_EQ(store->Find("h-ks")->sealed_session, "00ff");
}

TEST_F(SqliteRefreshTokenStoreTest, RefusesANewerSchema) {
  Sql("PRAGMA user_version=99");
  auto s = SqliteRefreshTokenStore::Open(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace berth::storage
