#include "storage/db/sqlite_refresh_token_store.hpp"

namespace berth::storage {

Result<std::unique_ptr<SqliteRefreshTokenStore>> SqliteRefreshTokenStore::Open(
    const std::string& path) {
  auto db = sql::Db::Open(path);
  if (!db) return db.status();
  for (const char* q :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
        "CREATE TABLE IF NOT EXISTS refresh_tokens (hash TEXT PRIMARY KEY, subject TEXT NOT NULL, "
        "service TEXT NOT NULL, admin INTEGER NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS refresh_tokens_by_subject ON refresh_tokens(subject)"}) {
    if (auto s = (*db)->Exec(q); !s.ok()) return s;
  }
  return std::unique_ptr<SqliteRefreshTokenStore>(new SqliteRefreshTokenStore(std::move(db).value()));
}

Status SqliteRefreshTokenStore::Save(const std::string& token_hash, const RefreshGrant& grant,
                                     int64_t now) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare(
      "INSERT INTO refresh_tokens(hash, subject, service, admin, created) VALUES (?, ?, ?, ?, ?)");
  if (!st) return st.status();
  return st->Bind(1, token_hash)
      .Bind(2, grant.subject)
      .Bind(3, grant.service)
      .Bind(4, int64_t{grant.admin})
      .Bind(5, now)
      .Run();
}

Result<RefreshGrant> SqliteRefreshTokenStore::Find(const std::string& token_hash) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare("SELECT subject, service, admin FROM refresh_tokens WHERE hash = ?");
  if (!st) return st.status();
  auto row = st->Bind(1, token_hash).Step();
  if (!row) return row.status();
  if (!*row) return Status(Errc::kUnauthorized, "unknown or revoked refresh token");
  return RefreshGrant{st->Text(0), st->Text(1), st->Int(2) != 0};
}

Result<int64_t> SqliteRefreshTokenStore::Revoke(const std::string& subject) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare(subject.empty() ? "DELETE FROM refresh_tokens WHERE ?1 = ?1"
                                         : "DELETE FROM refresh_tokens WHERE subject = ?1");
  if (!st) return st.status();
  if (auto s = st->Bind(1, subject).Run(); !s.ok()) return s;
  return db_->Changes();
}

}  // namespace berth::storage
