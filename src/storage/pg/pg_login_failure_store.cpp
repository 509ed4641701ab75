#include "storage/pg/pg_login_failure_store.hpp"

#include <limits>
#include <optional>

namespace berth::storage {

Result<pg::Rows> PgLoginFailureStore::Write(std::string_view sql,
                                            const std::vector<pg::Param>& params) {
  std::optional<pg::Rows> rows;
  Status s = pg::InTransaction(*pool_, [&](pg::Conn& c) -> Status {
    auto r = c.Exec(sql, params);
    if (!r) return r.status();
    rows.emplace(std::move(r).value());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return std::move(*rows);
}

Result<std::string> PgLoginFailureStore::Salt(const std::string& proposal) {
  auto r = Write(
      "WITH added AS (INSERT INTO cluster_settings(name, value) VALUES ('login_failure_salt', $1) "
      "ON CONFLICT (name) DO NOTHING RETURNING value) "
      "SELECT value FROM added UNION ALL "
      "SELECT value FROM cluster_settings WHERE name = 'login_failure_salt'",
      {proposal});
  if (!r) return r.status();
  if (r->empty()) return Status(Errc::kInternal, "login_failure_salt: no row after the insert");
  return r->Text(0, 0);
}

Result<int64_t> PgLoginFailureStore::BlockedUntil(const std::vector<std::string>& keys) {
  int64_t until = 0;
  // Two keys at most in practice: one short query each keeps the statement
  // text constant (prepared once per connection).
  for (const auto& k : keys) {
    auto r = pg::Query(*pool_, "SELECT blocked_until FROM login_failures WHERE key = $1", {k});
    if (!r) return r.status();
    if (!r->empty()) until = std::max(until, r->Int(0, 0));
  }
  return until;
}

Result<int64_t> PgLoginFailureStore::Count(const std::string& key, const std::string& user_key,
                                           int64_t window, int64_t now) {
  auto r = Write(
      "INSERT INTO login_failures AS f(key, user_key, failures, last, blocked_until) "
      "VALUES ($1, $2, 1, $3, 0) ON CONFLICT (key) DO UPDATE SET "
      "failures = CASE WHEN $3 - f.last > $4 THEN 1 ELSE f.failures + 1 END, "
      "last = greatest(f.last, $3) RETURNING failures",
      {key, user_key, now, window});
  if (!r) return r.status();
  return r->Int(0, 0);
}

Status PgLoginFailureStore::Block(const std::string& key, int64_t until) {
  return Write(
             "UPDATE login_failures SET blocked_until = greatest(blocked_until, $2) "
             "WHERE key = $1",
             {key, until})
      .status();
}

Status PgLoginFailureStore::ForgetUser(const std::string& user_key) {
  if (user_key.empty()) return Status::Ok();
  return Write("DELETE FROM login_failures WHERE user_key = $1", {user_key}).status();
}

Status PgLoginFailureStore::Trim(int64_t stale_before, int64_t now, size_t max_entries) {
  auto r = Write("DELETE FROM login_failures WHERE last < $1 AND blocked_until <= $2",
                 {stale_before, now});
  if (!r) return r.status();
  if (max_entries >= static_cast<size_t>(std::numeric_limits<int64_t>::max())) return Status::Ok();
  // The least recently active beyond the bound; a running wait counts as
  // activity until it ends, so a sprayer cannot push a blocked key out.
  return Write(
             "DELETE FROM login_failures WHERE key IN (SELECT key FROM login_failures "
             "ORDER BY greatest(last, blocked_until) DESC, key OFFSET $1)",
             {static_cast<int64_t>(max_entries)})
      .status();
}

Result<int64_t> PgLoginFailureStore::Size() {
  auto r = pg::Query(*pool_, "SELECT count(*) FROM login_failures");
  if (!r) return r.status();
  return r->Int(0, 0);
}

}  // namespace berth::storage
