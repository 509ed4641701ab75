#include "storage/pg/pg_refresh_token_store.hpp"

namespace berth::storage {

Result<int64_t> PgRefreshTokenStore::Write(std::string_view sql,
                                           const std::vector<pg::Param>& params) {
  int64_t changed = 0;
  Status s = pg::InTransaction(*pool_, [&](pg::Conn& c) -> Status {
    auto r = c.Exec(sql, params);
    if (!r) return r.status();
    changed = r->affected();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return changed;
}

Status PgRefreshTokenStore::Save(const std::string& token_hash, const RefreshGrant& grant,
                                 int64_t now) {
  return Write(
             "INSERT INTO refresh_tokens(hash, subject, service, admin, generation, created, "
             "last_used, sealed_session) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
             {token_hash, grant.subject, grant.service, grant.admin, grant.generation, now,
              grant.sealed_session})
      .status();
}

Result<RefreshGrant> PgRefreshTokenStore::Find(const std::string& token_hash) {
  auto r = pg::Query(*pool_,
                     "SELECT subject, service, admin, generation, created, last_used, "
                     "sealed_session FROM refresh_tokens WHERE hash = $1",
                     {token_hash});
  if (!r) return r.status();
  if (r->empty()) return Status(Errc::kUnauthorized, "unknown or revoked refresh token");
  return RefreshGrant{r->Text(0, 0), r->Text(0, 1), r->Bool(0, 2), r->Text(0, 3),
                      r->Int(0, 4),  r->Int(0, 5),  r->Text(0, 6)};
}

Status PgRefreshTokenStore::Touch(const std::string& token_hash, int64_t now) {
  return Write("UPDATE refresh_tokens SET last_used = $2 WHERE hash = $1", {token_hash, now})
      .status();
}

Result<int64_t> PgRefreshTokenStore::RevokeOne(const std::string& token_hash) {
  return Write("DELETE FROM refresh_tokens WHERE hash = $1", {token_hash});
}

Result<int64_t> PgRefreshTokenStore::Revoke(const std::string& subject) {
  if (subject.empty()) return Write("DELETE FROM refresh_tokens", {});
  return Write("DELETE FROM refresh_tokens WHERE subject = $1", {subject});
}

Result<int64_t> PgRefreshTokenStore::DeleteExpired(int64_t created_before, int64_t used_before) {
  return Write("DELETE FROM refresh_tokens WHERE created < $1 OR last_used < $2",
               {created_before, used_before});
}

}  // namespace berth::storage
