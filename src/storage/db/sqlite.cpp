#include "storage/db/sqlite.hpp"

namespace berth::storage::sql {
namespace {
Status FromCode(int rc, const std::string& context, sqlite3* db) {
  std::string msg = context + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (rc == SQLITE_FULL) return {Errc::kNoSpace, "storage is full: " + msg};
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return {Errc::kUnavailable, msg};
  return {Errc::kInternal, msg};
}
}  // namespace

Stmt::~Stmt() {
  if (!stmt_) return;
  if (in_use_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

Stmt& Stmt::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Stmt& Stmt::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindOpt(int index, const std::optional<std::string>& text) {
  if (text) return Bind(index, std::string_view(*text));
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return FromCode(rc, "sqlite step", db_);
}

Status Stmt::Run() {
  while (true) {
    auto r = Step();
    if (!r) return r.status();
    if (!*r) return Status::Ok();
  }
}

std::string Stmt::Text(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}
std::optional<std::string> Stmt::OptText(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return Text(col);
}
int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

Result<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = FromCode(rc, "open " + path, db);
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<Db>(new Db(db));
}

Result<std::unique_ptr<Db>> Db::OpenReadOnly(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = FromCode(rc, "open " + path + " read-only", db);
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<Db>(new Db(db));
}

Db::~Db() {
  for (auto& [sql, c] : cache_) sqlite3_finalize(c->stmt);
  sqlite3_close(db_);
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end() && !it->second->in_use) {
    it->second->in_use = true;
    return Stmt(db_, it->second->stmt, &it->second->in_use);
  }
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &st, nullptr);
  if (rc != SQLITE_OK) return FromCode(rc, "prepare", db_);
  if (it != cache_.end()) return Stmt(db_, st);  // the cached one is busy: a one-off
  auto c = std::make_unique<Cached>();
  c->stmt = st;
  c->in_use = true;
  bool* in_use = &c->in_use;
  cache_.emplace(std::string(sql), std::move(c));
  return Stmt(db_, st, in_use);
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return FromCode(rc, "exec", db_);
  return Status::Ok();
}

Status Db::Error(const std::string& context) const {
  return FromCode(sqlite3_errcode(db_), context, db_);
}

Transaction::Transaction(Db& db) : db_(db), begin_(db.Exec("BEGIN IMMEDIATE")) {
  if (!begin_.ok()) done_ = true;
}

Transaction::~Transaction() {
  // A destructor has no one to report to: the failure that made the
  // caller leave without Commit is the one it reports.
  if (!done_) db_.Exec("ROLLBACK").IgnoreError();
}

Status Transaction::Commit() {
  done_ = true;
  Status s = db_.Exec("COMMIT");
  // The commit's failure is what the caller hears.
  if (!s.ok()) db_.Exec("ROLLBACK").IgnoreError();
  return s;
}

}  // namespace berth::storage::sql
