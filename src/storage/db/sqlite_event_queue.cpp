// The EventQueue half of SqliteMetadataStore: table event_queue (schema v3,
// sqlite_metadata_store.cpp). Reads use the reader pool, so the dispatcher
// polling the queue never waits behind a push's commit.
#include <algorithm>
#include <limits>

#include "storage/db/sqlite_metadata_store.hpp"

namespace berth::storage {

Status SqliteMetadataStore::InsertEvents(const EventRows& rows) {
  if (rows.empty()) return Status::Ok();
  const int64_t now = Now();
  for (const auto& e : rows) {
    auto st = db_->Prepare(
        "INSERT INTO event_queue(endpoint, event_id, payload, recorded_at) VALUES (?, ?, ?, ?)");
    if (!st) return st.status();
    if (auto s = st->Bind(1, e.endpoint).Bind(2, e.id).Bind(3, e.payload).Bind(4, now).Run();
        !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

Status SqliteMetadataStore::Enqueue(const EventRows& rows) {
  if (rows.empty()) return Status::Ok();
  MutexLock lock(mu_);
  sql::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  if (auto s = InsertEvents(rows); !s.ok()) return s;
  return tx.Commit();
}

Result<std::vector<PendingEvent>> SqliteMetadataStore::Pending(const std::string& endpoint,
                                                               size_t limit) {
  auto db = AcquireReader();
  if (!db) return db.status();
  auto st = (*db)->Prepare(
      "SELECT seq, event_id, payload FROM event_queue WHERE endpoint = ? ORDER BY seq LIMIT ?");
  if (!st) return st.status();
  st->Bind(1, endpoint)
      .Bind(2,
            static_cast<int64_t>(std::min<uint64_t>(limit, std::numeric_limits<int64_t>::max())));
  std::vector<PendingEvent> out;
  while (true) {
    auto row = st->Step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back({st->Int(0), st->Text(1), st->Text(2)});
  }
  return out;
}

Status SqliteMetadataStore::Remove(const std::string& endpoint, int64_t through) {
  MutexLock lock(mu_);
  auto st = db_->Prepare("DELETE FROM event_queue WHERE endpoint = ? AND seq <= ?");
  if (!st) return st.status();
  return st->Bind(1, endpoint).Bind(2, through).Run();
}

Result<uint64_t> SqliteMetadataStore::Count(const std::string& endpoint) {
  auto db = AcquireReader();
  if (!db) return db.status();
  auto st = (*db)->Prepare("SELECT count(*) FROM event_queue WHERE endpoint = ?");
  if (!st) return st.status();
  auto row = st->Bind(1, endpoint).Step();
  if (!row) return row.status();
  return static_cast<uint64_t>(*row ? st->Int(0) : 0);
}

Result<uint64_t> SqliteMetadataStore::Trim(const std::string& endpoint, uint64_t keep) {
  // Counted on a reader first: the common case (under the bound) takes no
  // write lock at all.
  auto n = Count(endpoint);
  if (!n) return n.status();
  if (*n <= keep) return uint64_t{0};
  MutexLock lock(mu_);
  if (keep == 0) {
    auto all = db_->Prepare("DELETE FROM event_queue WHERE endpoint = ?");
    if (!all) return all.status();
    if (auto s = all->Bind(1, endpoint).Run(); !s.ok()) return s;
    return static_cast<uint64_t>(db_->Changes());
  }
  // Everything older than the keep-th newest row goes.
  auto st = db_->Prepare(
      "DELETE FROM event_queue WHERE endpoint = ?1 AND seq < COALESCE(("
      "SELECT seq FROM event_queue WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2), 0)");
  if (!st) return st.status();
  st->Bind(1, endpoint)
      .Bind(2, static_cast<int64_t>(
                   std::min<uint64_t>(keep - 1, std::numeric_limits<int64_t>::max())));
  if (auto s = st->Run(); !s.ok()) return s;
  return static_cast<uint64_t>(db_->Changes());
}

}  // namespace berth::storage
