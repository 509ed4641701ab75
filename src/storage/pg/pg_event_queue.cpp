// The EventQueue half of PgMetadataStore: table event_queue.
#include "storage/pg/pg_metadata_store.hpp"

namespace berth::storage {

using pg::Conn;
using pg::InTransaction;

Status PgMetadataStore::InsertEvents(Conn& c, const EventRows& rows) {
  if (rows.empty()) return Status::Ok();
  // Held to the commit: the next writer draws its seq only after this
  // transaction's rows are visible, so readers never see a gap in seq
  // order that is later filled (Remove(through) would drop the filler).
  if (auto r = c.Exec("SELECT pg_advisory_xact_lock($1)", {pg::AdvisoryKey("berth.event_queue")});
      !r) {
    return r.status();
  }
  const int64_t now = Now();
  for (const auto& e : rows) {
    auto r = c.Exec(
        "INSERT INTO event_queue(endpoint, event_id, payload, recorded_at) VALUES ($1, $2, $3, $4)",
        {e.endpoint, e.id, e.payload, now});
    if (!r) return r.status();
  }
  return Status::Ok();
}

Status PgMetadataStore::Enqueue(const EventRows& rows) {
  if (rows.empty()) return Status::Ok();
  return InTransaction(*pool_, [&](Conn& c) { return InsertEvents(c, rows); });
}

Result<std::vector<PendingEvent>> PgMetadataStore::Pending(const std::string& endpoint,
                                                           size_t limit) {
  auto r = pg::Query(*pool_,
                     "SELECT seq, event_id, payload FROM event_queue WHERE endpoint = $1 "
                     "ORDER BY seq LIMIT $2",
                     {endpoint, pg::SqlLimit(limit)});
  if (!r) return r.status();
  std::vector<PendingEvent> out;
  out.reserve(r->size());
  for (int i = 0; i < r->size(); ++i) out.push_back({r->Int(i, 0), r->Text(i, 1), r->Text(i, 2)});
  return out;
}

Status PgMetadataStore::Remove(const std::string& endpoint, int64_t through) {
  return InTransaction(*pool_, [&](Conn& c) -> Status {
    auto r =
        c.Exec("DELETE FROM event_queue WHERE endpoint = $1 AND seq <= $2", {endpoint, through});
    return r ? Status::Ok() : r.status();
  });
}

Result<uint64_t> PgMetadataStore::Count(const std::string& endpoint) {
  auto r = pg::Query(*pool_, "SELECT count(*) FROM event_queue WHERE endpoint = $1", {endpoint});
  if (!r) return r.status();
  return static_cast<uint64_t>(r->Int(0, 0));
}

Result<uint64_t> PgMetadataStore::Trim(const std::string& endpoint, uint64_t keep) {
  // Counted first: the common case (under the bound) writes nothing.
  auto n = Count(endpoint);
  if (!n) return n.status();
  if (*n <= keep) return uint64_t{0};
  uint64_t dropped = 0;
  Status s = InTransaction(*pool_, [&](Conn& c) -> Status {
    // Everything older than the keep-th newest row goes.
    auto r = keep == 0 ? c.Exec("DELETE FROM event_queue WHERE endpoint = $1", {endpoint})
                       : c.Exec(
                             "DELETE FROM event_queue WHERE endpoint = $1 AND seq < coalesce(("
                             "SELECT seq FROM event_queue WHERE endpoint = $1 ORDER BY seq DESC "
                             "LIMIT 1 OFFSET $2), 0)",
                             {endpoint, pg::SqlLimit(keep - 1)});
    if (!r) return r.status();
    dropped = static_cast<uint64_t>(r->affected());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return dropped;
}

}  // namespace berth::storage
