// A thin layer over libpq: a bounded pool of connections, parameterized
// queries (PQexecParams only: user data never becomes SQL text), a
// transaction helper that retries serialization failures and deadlocks, and
// the one place PostgreSQL errors become Status values:
//   connection lost, connect failure, statement timeout (57014), class 08,
//   shutdown (57P*), and 40001/40P01 once the retries are spent -> kUnavailable
//   disk full (53100)                                        -> kNoSpace
//   anything else -> kInternal with the SQLSTATE and the server's message.
//
// Thread-safety: Pool is safe from many threads. A Conn (a connection taken
// from the pool) belongs to one thread until it is dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/thread_annotations.hpp"

struct pg_conn;
struct pg_result;

namespace berth::storage::pg {

// A server connection and the statements prepared on it (pg.cpp).
struct Session;

struct PoolOptions {
  // A libpq conninfo string or URI ("host=... dbname=... user=...").
  std::string dsn;
  // Connections open at most; Acquire waits when all are in use. Each one is
  // a server process (~10 MiB on the server side).
  size_t size = 8;
  // How long Acquire waits for a free connection before kUnavailable.
  std::chrono::milliseconds acquire_timeout{5000};
  // libpq connect_timeout (seconds) for opening a connection.
  int connect_timeout_s = 5;
  // statement_timeout set on every connection (0 = none): a statement
  // running longer is cancelled and the call answers kUnavailable.
  int statement_timeout_ms = 30000;
  // search_path for every connection; empty = the server's default. Tests
  // and LifecycleStore::Copy use a schema of their own.
  std::string schema;
  // false: synchronous_commit=off (a commit may be lost in a crash). Only
  // for throwaway data (LifecycleStore::Copy).
  bool durable = true;
};

// One query parameter: text (NULL when empty optional) or raw bytes (bytea).
struct Param {
  std::optional<std::string> value;
  bool binary = false;
  Param(std::string v) : value(std::move(v)) {}                 // NOLINT: implicit by design
  Param(std::string_view v) : value(std::string(v)) {}          // NOLINT
  Param(const char* v) : value(std::string(v)) {}               // NOLINT
  Param(int64_t v) : value(std::to_string(v)) {}                // NOLINT
  Param(int v) : value(std::to_string(v)) {}                    // NOLINT
  Param(uint64_t v) : value(std::to_string(v)) {}               // NOLINT
  Param(bool v) : value(v ? "true" : "false") {}                // NOLINT
  Param(std::optional<std::string> v) : value(std::move(v)) {}  // NOLINT
  static Param Bytes(std::string v) {
    Param p(std::move(v));
    p.binary = true;
    return p;
  }
  static Param Null() { return Param(std::optional<std::string>()); }
};

// The rows of a query, in text format. Owns the libpq result.
class Rows {
 public:
  explicit Rows(pg_result* r) : r_(r) {}
  Rows(Rows&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Rows& operator=(Rows&& o) noexcept;
  Rows(const Rows&) = delete;
  ~Rows();

  int size() const;
  bool empty() const { return size() == 0; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t affected() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;
  std::optional<std::string> OptText(int row, int col) const;
  int64_t Int(int row, int col) const;
  bool Bool(int row, int col) const;
  // A bytea column (text format "\x..." decoded).
  std::string Bytes(int row, int col) const;

 private:
  pg_result* r_;
};

class Pool;

// A pooled connection; goes back to the pool (or is closed, when broken)
// when dropped.
class Conn {
 public:
  Conn(Pool* pool, Session* s) : pool_(pool), s_(s) {}
  Conn(Conn&& o) noexcept : pool_(o.pool_), s_(std::exchange(o.s_, nullptr)), broken_(o.broken_) {}
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn();

  // Runs one statement with $1..$n bound to `params`. The statement is
  // prepared once per connection and reused (planning is most of a small
  // query's cost), for the first 256 distinct SQL texts of a connection.
  Result<Rows> Exec(std::string_view sql, const std::vector<Param>& params = {});
  // Runs a statement (or several, separated by ';') without parameters:
  // only for constant SQL (BEGIN, DDL).
  Status ExecScript(const std::string& sql);

  // Whether the connection failed at the transport level (then it is
  // closed instead of going back to the pool).
  bool broken() const { return broken_; }

 private:
  Status ErrorOf(pg_result* r, std::string_view what);
  Pool* pool_;
  Session* s_;
  bool broken_ = false;
};

class Pool {
 public:
  // Checks the DSN by opening one connection. kUnavailable when the server
  // cannot be reached, kInternal for a malformed DSN.
  static Result<std::unique_ptr<Pool>> Open(const PoolOptions& options);
  ~Pool();

  // A free connection, opening one when fewer than `size` are open; waits up
  // to acquire_timeout for one otherwise (kUnavailable then).
  Result<Conn> Acquire();

  const PoolOptions& options() const { return options_; }

 private:
  friend class Conn;
  explicit Pool(PoolOptions options) : options_(std::move(options)) {}
  Result<Session*> Connect();
  void Release(Session* s, bool broken);

  const PoolOptions options_;
  Mutex mu_;
  std::condition_variable cv_;
  std::vector<Session*> idle_ GUARDED_BY(mu_);
  size_t open_ GUARDED_BY(mu_) = 0;  // idle + lent out
};

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

// How many times a transaction is tried when PostgreSQL aborts it with a
// serialization failure (40001) or a deadlock (40P01), or when a pooled
// connection turns out dead at BEGIN.
constexpr int kTxAttempts = 5;

// Runs `body` inside BEGIN ... COMMIT on a pooled connection, retrying the
// whole body (with a short growing pause) on 40001/40P01. `body` returns OK
// to commit, anything else to roll back and return it. `body` may run more
// than once: it must not have effects outside the database, or must reset
// them at its start.
Status InTransaction(Pool& pool, const std::function<Status(Conn&)>& body,
                     Isolation isolation = Isolation::kReadCommitted);

// One read-only statement on a pooled connection, tried once more on a fresh
// connection when the first turned out dead (a pooled connection to a server
// that restarted). Never for writes: they go through InTransaction.
Result<Rows> Query(Pool& pool, std::string_view sql, const std::vector<Param>& params = {});

// A PostgreSQL text[] literal of `items` (a parameter value, not SQL).
std::string TextArray(const std::vector<std::string>& items);

// The key of a PostgreSQL advisory lock for `name` (a stable 64-bit hash,
// the same in every berth).
int64_t AdvisoryKey(std::string_view name);

// `limit` as a LIMIT parameter, clamped to INT64_MAX.
int64_t SqlLimit(size_t limit);

}  // namespace berth::storage::pg
