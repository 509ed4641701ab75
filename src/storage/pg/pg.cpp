#include "storage/pg/pg.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <random>
#include <thread>
#include <unordered_map>

namespace berth::storage::pg {

struct Session {
  explicit Session(pg_conn* c) : conn(c) {}
  ~Session() { PQfinish(conn); }
  pg_conn* const conn;
  std::unordered_map<std::string, std::string> prepared;  // SQL -> statement name
};

namespace {

// Distinct statements prepared per connection at most; past it, statements
// are sent unprepared (the SQL in berth is constant text, so this is only a
// guard against a caller building SQL in a loop).
constexpr size_t kMaxPrepared = 256;

bool Retryable(std::string_view state) { return state == "40001" || state == "40P01"; }

// SQLSTATEs that say "try again later / elsewhere" rather than "bug".
bool Transient(std::string_view state) {
  return state.starts_with("08") ||   // connection exception
         state == "57014" ||          // query_canceled (statement_timeout)
         state.starts_with("57P") ||  // admin/crash shutdown, cannot connect now
         state == "53300" ||          // too_many_connections
         state == "55P03" ||          // lock_not_available (lock_timeout)
         Retryable(state);
}

bool SafeSchemaName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string Trimmed(const char* msg) {
  std::string m = msg ? msg : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

// The SQLSTATE of the last failed statement on this thread's connection, for
// InTransaction's retry decision (a Status carries no SQLSTATE of its own).
thread_local std::string last_sqlstate;

}  // namespace

Rows& Rows::operator=(Rows&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = std::exchange(o.r_, nullptr);
  }
  return *this;
}
Rows::~Rows() {
  if (r_) PQclear(r_);
}
int Rows::size() const { return r_ ? PQntuples(r_) : 0; }
int64_t Rows::affected() const {
  const char* n = r_ ? PQcmdTuples(r_) : "";
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}
bool Rows::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::string Rows::Text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
}
std::optional<std::string> Rows::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}
int64_t Rows::Int(int row, int col) const {
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}
bool Rows::Bool(int row, int col) const { return PQgetvalue(r_, row, col)[0] == 't'; }
std::string Rows::Bytes(int row, int col) const {
  size_t n = 0;
  unsigned char* p =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
  if (!p) return std::string();
  std::string out(reinterpret_cast<const char*>(p), n);
  PQfreemem(p);
  return out;
}

Conn::~Conn() {
  if (s_) pool_->Release(s_, broken_ || PQstatus(s_->conn) != CONNECTION_OK);
}

Status Conn::ErrorOf(pg_result* r, std::string_view what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = Trimmed(r ? PQresultErrorMessage(r) : nullptr);
  if (msg.empty()) msg = Trimmed(PQerrorMessage(s_->conn));
  if (PQstatus(s_->conn) != CONNECTION_OK) broken_ = true;
  last_sqlstate = state ? state : "";
  if (!state || broken_) {
    broken_ = true;
    return {Errc::kUnavailable, "PostgreSQL connection lost (" + std::string(what) + "): " + msg};
  }
  std::string s(state);
  if (s == "53100") return {Errc::kNoSpace, "storage is full: PostgreSQL: " + msg};
  if (Transient(s)) return {Errc::kUnavailable, "PostgreSQL [" + s + "]: " + msg};
  return {Errc::kInternal, "PostgreSQL [" + s + "] " + std::string(what) + ": " + msg};
}

Result<Rows> Conn::Exec(std::string_view sql, const std::vector<Param>& params) {
  last_sqlstate.clear();
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    values[i] = p.value ? p.value->data() : nullptr;
    lengths[i] = p.value ? static_cast<int>(p.value->size()) : 0;
    formats[i] = p.binary ? 1 : 0;
  }
  std::string text(sql);  // NUL-terminated
  const int n = static_cast<int>(params.size());
  pg_result* r = nullptr;
  auto it = s_->prepared.find(text);
  if (it == s_->prepared.end() && s_->prepared.size() < kMaxPrepared) {
    std::string name = "b" + std::to_string(s_->prepared.size());
    pg_result* p = PQprepare(s_->conn, name.c_str(), text.c_str(), n, nullptr);
    if (!p || PQresultStatus(p) != PGRES_COMMAND_OK) {
      Status s = ErrorOf(p, "prepare");
      if (p) PQclear(p);
      return s;
    }
    PQclear(p);
    it = s_->prepared.emplace(text, std::move(name)).first;
  }
  if (it != s_->prepared.end()) {
    r = PQexecPrepared(s_->conn, it->second.c_str(), n, values.data(), lengths.data(),
                       formats.data(), 0);
  } else {
    r = PQexecParams(s_->conn, text.c_str(), n, nullptr, values.data(), lengths.data(),
                     formats.data(), 0);
  }
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Rows(r);
  Status s = ErrorOf(r, "query");
  if (r) PQclear(r);
  return s;
}

Status Conn::ExecScript(const std::string& sql) {
  last_sqlstate.clear();
  pg_result* r = PQexec(s_->conn, sql.c_str());
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    PQclear(r);
    return Status::Ok();
  }
  Status s = ErrorOf(r, "statement");
  if (r) PQclear(r);
  return s;
}

Result<std::unique_ptr<Pool>> Pool::Open(const PoolOptions& options) {
  if (options.size == 0) return Status(Errc::kInternal, "PostgreSQL pool size must be at least 1");
  if (!options.schema.empty() && !SafeSchemaName(options.schema)) {
    return Status(Errc::kInternal,
                  "PostgreSQL schema name must be [a-z0-9_]{1,63}: " + options.schema);
  }
  std::unique_ptr<Pool> pool(new Pool(options));
  auto c = pool->Connect();
  if (!c) return c.status();
  {
    MutexLock lock(pool->mu_);
    pool->idle_.push_back(*c);
    pool->open_ = 1;
  }
  return pool;
}

Pool::~Pool() {
  MutexLock lock(mu_);
  for (Session* s : idle_) delete s;
}

Result<Session*> Pool::Connect() {
  const std::string connect_timeout = std::to_string(std::max(1, options_.connect_timeout_s));
  // Settings every connection gets: they override the same ones in the DSN.
  // client_min_messages: NOTICEs ("already exists, skipping") are noise on stderr.
  std::string server_options =
      "-c statement_timeout=" + std::to_string(options_.statement_timeout_ms) +
      " -c client_min_messages=warning";
  if (!options_.schema.empty()) server_options += " -c search_path=" + options_.schema;
  if (!options_.durable) server_options += " -c synchronous_commit=off";
  const char* keys[] = {"dbname",
                        "connect_timeout",
                        "keepalives",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        "application_name",
                        "options",
                        nullptr};
  const char* values[] = {options_.dsn.c_str(),
                          connect_timeout.c_str(),
                          "1",
                          "30",
                          "10",
                          "3",
                          "60000",
                          "berth",
                          server_options.c_str(),
                          nullptr};
  pg_conn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!c) return Status(Errc::kUnavailable, "PostgreSQL: out of memory opening a connection");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = Trimmed(PQerrorMessage(c));
    PQfinish(c);
    return Status(Errc::kUnavailable, "cannot connect to PostgreSQL: " + msg);
  }
  return new Session(c);
}

Result<Conn> Pool::Acquire() {
  MutexLock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  while (idle_.empty() && open_ >= options_.size) {
    if (cv_.wait_until(lock.native(), deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.size) {
      return Status(Errc::kUnavailable, "no free PostgreSQL connection within " +
                                            std::to_string(options_.acquire_timeout.count()) +
                                            " ms (pool of " + std::to_string(options_.size) + ")");
    }
  }
  if (!idle_.empty()) {
    Session* s = idle_.back();
    idle_.pop_back();
    return Conn(this, s);
  }
  ++open_;  // reserve the slot; connect outside the lock
  lock.Unlock();
  auto c = Connect();
  if (!c) {
    lock.Lock();
    --open_;
    cv_.notify_one();
    return c.status();
  }
  return Conn(this, *c);
}

void Pool::Release(Session* s, bool broken) {
  // A connection left inside a transaction (a caller bug or a failed
  // ROLLBACK) must not be lent again.
  if (!broken && PQtransactionStatus(s->conn) != PQTRANS_IDLE) broken = true;
  if (broken) delete s;
  MutexLock lock(mu_);
  if (broken) {
    --open_;
  } else {
    idle_.push_back(s);
  }
  cv_.notify_one();
}

Status InTransaction(Pool& pool, const std::function<Status(Conn&)>& body, Isolation isolation) {
  const char* begin = isolation == Isolation::kSerializable ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                      : isolation == Isolation::kRepeatableRead
                          ? "BEGIN ISOLATION LEVEL REPEATABLE READ"
                          : "BEGIN";
  thread_local std::minstd_rand rng(std::random_device{}());
  Status last;
  for (int attempt = 1; attempt <= kTxAttempts; ++attempt) {
    if (attempt > 1) {
      // A short, growing, jittered pause so that the two sides of a conflict
      // do not collide again at once.
      std::uniform_int_distribution<int> jitter(0, 5 * attempt);
      std::this_thread::sleep_for(std::chrono::milliseconds(2 * attempt + jitter(rng)));
    }
    auto conn = pool.Acquire();
    if (!conn) return conn.status();
    if (Status s = conn->ExecScript(begin); !s.ok()) {
      last = s;
      if (conn->broken()) continue;  // a stale pooled connection: nothing was sent
      return s;
    }
    Status s = body(*conn);
    std::string state = last_sqlstate;
    if (s.ok()) {
      s = conn->ExecScript("COMMIT");
      state = last_sqlstate;
      if (s.ok()) return s;
      // A commit that failed on the transport may or may not have happened:
      // never retried.
      if (conn->broken()) return s;
    } else if (!conn->broken()) {
      if (Status r = conn->ExecScript("ROLLBACK"); !r.ok()) return s;
    }
    if (!Retryable(state) || conn->broken()) return s;
    last = s;
  }
  return Status(Errc::kUnavailable, "PostgreSQL transaction kept conflicting with others (" +
                                        std::to_string(kTxAttempts) +
                                        " attempts): " + last.message());
}

Result<Rows> Query(Pool& pool, std::string_view sql, const std::vector<Param>& params) {
  for (int attempt = 0;; ++attempt) {
    auto conn = pool.Acquire();
    if (!conn) return conn.status();
    auto rows = conn->Exec(sql, params);
    if (rows || !conn->broken() || attempt > 0) return rows;
  }
}

std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

int64_t AdvisoryKey(std::string_view name) {
  // FNV-1a, 64 bits: stable across processes and builds.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int64_t>(h);
}

int64_t SqlLimit(size_t limit) {
  return static_cast<int64_t>(std::min<uint64_t>(limit, std::numeric_limits<int64_t>::max()));
}

}  // namespace berth::storage::pg
