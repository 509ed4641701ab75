// A thin RAII layer over the SQLite C API: a connection and prepared
// statements with typed binds and columns. SQLite errors become Status values
// (SQLITE_FULL → kNoSpace, everything else kInternal).
//
// Thread-safety: a Db is used under its owner's mutex; statements are not
// shared between threads.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.hpp"

namespace berth::storage::sql {

class Stmt {
 public:
  // `in_use` non-null: the statement belongs to its Db's cache and is only
  // reset (and marked free) on destruction instead of finalized.
  Stmt(sqlite3* db, sqlite3_stmt* stmt, bool* in_use = nullptr)
      : db_(db), stmt_(stmt), in_use_(in_use) {}
  ~Stmt();
  Stmt(Stmt&& o) noexcept
      : db_(o.db_),
        stmt_(std::exchange(o.stmt_, nullptr)),
        in_use_(std::exchange(o.in_use_, nullptr)) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int index, std::string_view text);
  Stmt& Bind(int index, int64_t value);
  Stmt& BindBlob(int index, std::string_view bytes);
  Stmt& BindOpt(int index, const std::optional<std::string>& text);
  Stmt& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Stmt& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }

  // One step: true with a row, false when done.
  Result<bool> Step();
  // Steps to completion, expecting no rows.
  Status Run();

  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  int64_t Int(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;
};

class Db {
 public:
  // Opens (creating) the database file. Start-up only: kInternal on failure.
  static Result<std::unique_ptr<Db>> Open(const std::string& path);
  // Opens an existing database for reading only (no file is created; in WAL
  // mode it reads beside a process that writes). kInternal on failure.
  static Result<std::unique_ptr<Db>> OpenReadOnly(const std::string& path);
  ~Db();

  // A statement for `sql`, from the cache when one is free (statements are
  // prepared once and reused: parsing SQL is most of a small query's cost).
  Result<Stmt> Prepare(std::string_view sql);
  Status Exec(const std::string& sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }

  Status Error(const std::string& context) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Cached>> cache_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit().
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Status status() const { return begin_; }
  Status Commit();

 private:
  Db& db_;
  Status begin_;
  bool done_ = false;
};

}  // namespace berth::storage::sql
