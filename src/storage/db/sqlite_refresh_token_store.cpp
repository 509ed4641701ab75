#include "storage/db/sqlite_refresh_token_store.hpp"

#include <spdlog/spdlog.h>

namespace berth::storage {
namespace {

// Schema 3 (PRAGMA user_version). Schema 1 (user_version 0) had no
// generation and no last_use: its rows are dropped on upgrade, since they
// could never be checked against the user's current credential. Schema 2
// lacked sealed_session; its rows are kept (with none) on upgrade.
constexpr const char* kSchemaV3 =
    "CREATE TABLE refresh_tokens (hash TEXT PRIMARY KEY, subject TEXT NOT NULL, "
    "service TEXT NOT NULL, admin INTEGER NOT NULL, generation TEXT NOT NULL, "
    "created INTEGER NOT NULL, last_used INTEGER NOT NULL, "
    "sealed_session TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
    "CREATE INDEX refresh_tokens_by_subject ON refresh_tokens(subject);";
constexpr const char* kV2ToV3 =
    "ALTER TABLE refresh_tokens ADD COLUMN sealed_session TEXT NOT NULL DEFAULT ''";
constexpr int64_t kSchemaVersion = 3;

Result<int64_t> UserVersion(sql::Db& db) {
  auto st = db.Prepare("PRAGMA user_version");
  if (!st) return st.status();
  auto row = st->Step();
  if (!row) return row.status();
  return st->Int(0);
}

// Brings the schema to kSchemaVersion in one IMMEDIATE transaction, so two
// processes opening the file at once (a token server and `berth user del`)
// cannot both upgrade it.
Status Migrate(sql::Db& db, const std::string& path) {
  sql::Transaction tx(db);
  if (!tx.status().ok()) return tx.status();
  auto version = UserVersion(db);
  if (!version) return version.status();
  if (*version == kSchemaVersion) return Status::Ok();
  if (*version > kSchemaVersion) {
    return Status(Errc::kInternal, path + " has schema version " + std::to_string(*version) +
                                       ", newer than this berth understands (" +
                                       std::to_string(kSchemaVersion) + ")");
  }
  if (*version == 2) {
    if (auto s = db.Exec(kV2ToV3); !s.ok()) return s;
    if (auto s = db.Exec("PRAGMA user_version=" + std::to_string(kSchemaVersion)); !s.ok()) {
      return s;
    }
    return tx.Commit();
  }
  int64_t dropped = 0;
  {
    auto st = db.Prepare(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'refresh_tokens'");
    if (!st) return st.status();
    auto row = st->Step();
    if (!row) return row.status();
    if (st->Int(0) > 0) {
      auto count = db.Prepare("SELECT count(*) FROM refresh_tokens");
      if (!count) return count.status();
      auto r = count->Step();
      if (!r) return r.status();
      dropped = count->Int(0);
    }
  }
  if (auto s = db.Exec("DROP TABLE IF EXISTS refresh_tokens"); !s.ok()) return s;
  if (auto s = db.Exec(kSchemaV3); !s.ok()) return s;
  if (auto s = db.Exec("PRAGMA user_version=" + std::to_string(kSchemaVersion)); !s.ok()) return s;
  if (auto s = tx.Commit(); !s.ok()) return s;
  if (dropped > 0) {
    spdlog::warn(
        "{}: upgraded; {} refresh token(s) from before the upgrade were revoked "
        "(their clients log in again)",
        path, dropped);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SqliteRefreshTokenStore>> SqliteRefreshTokenStore::Open(
    const std::string& path) {
  auto db = sql::Db::Open(path);
  if (!db) return db.status();
  for (const char* q : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (auto s = (*db)->Exec(q); !s.ok()) return s;
  }
  auto version = UserVersion(**db);
  if (!version) return version.status();
  if (*version != kSchemaVersion) {
    if (auto s = Migrate(**db, path); !s.ok()) return s;
  }
  return std::unique_ptr<SqliteRefreshTokenStore>(
      new SqliteRefreshTokenStore(std::move(db).value()));
}

Status SqliteRefreshTokenStore::Save(const std::string& token_hash, const RefreshGrant& grant,
                                     int64_t now) {
  MutexLock lock(mu_);
  auto st = db_->Prepare(
      "INSERT INTO refresh_tokens(hash, subject, service, admin, generation, created, last_used, "
      "sealed_session) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st) return st.status();
  return st->Bind(1, token_hash)
      .Bind(2, grant.subject)
      .Bind(3, grant.service)
      .Bind(4, int64_t{grant.admin})
      .Bind(5, grant.generation)
      .Bind(6, now)
      .Bind(7, now)
      .Bind(8, grant.sealed_session)
      .Run();
}

Result<RefreshGrant> SqliteRefreshTokenStore::Find(const std::string& token_hash) {
  MutexLock lock(mu_);
  auto st = db_->Prepare(
      "SELECT subject, service, admin, generation, created, last_used, sealed_session "
      "FROM refresh_tokens WHERE hash = ?");
  if (!st) return st.status();
  auto row = st->Bind(1, token_hash).Step();
  if (!row) return row.status();
  if (!*row) return Status(Errc::kUnauthorized, "unknown or revoked refresh token");
  return RefreshGrant{st->Text(0), st->Text(1), st->Int(2) != 0, st->Text(3),
                      st->Int(4),  st->Int(5),  st->Text(6)};
}

Status SqliteRefreshTokenStore::Touch(const std::string& token_hash, int64_t now) {
  MutexLock lock(mu_);
  auto st = db_->Prepare("UPDATE refresh_tokens SET last_used = ?2 WHERE hash = ?1");
  if (!st) return st.status();
  return st->Bind(1, token_hash).Bind(2, now).Run();
}

Result<int64_t> SqliteRefreshTokenStore::RevokeOne(const std::string& token_hash) {
  MutexLock lock(mu_);
  auto st = db_->Prepare("DELETE FROM refresh_tokens WHERE hash = ?1");
  if (!st) return st.status();
  if (auto s = st->Bind(1, token_hash).Run(); !s.ok()) return s;
  return db_->Changes();
}

Result<int64_t> SqliteRefreshTokenStore::Revoke(const std::string& subject) {
  MutexLock lock(mu_);
  auto st = db_->Prepare(subject.empty() ? "DELETE FROM refresh_tokens WHERE ?1 = ?1"
                                         : "DELETE FROM refresh_tokens WHERE subject = ?1");
  if (!st) return st.status();
  if (auto s = st->Bind(1, subject).Run(); !s.ok()) return s;
  return db_->Changes();
}

Result<int64_t> SqliteRefreshTokenStore::DeleteExpired(int64_t created_before,
                                                       int64_t used_before) {
  MutexLock lock(mu_);
  auto st = db_->Prepare("DELETE FROM refresh_tokens WHERE created < ?1 OR last_used < ?2");
  if (!st) return st.status();
  if (auto s = st->Bind(1, created_before).Bind(2, used_before).Run(); !s.ok()) return s;
  return db_->Changes();
}

}  // namespace berth::storage
