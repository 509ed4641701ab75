// EventQueue: the durable outbox of webhook events (src/events/). One row per
// event and endpoint, kept until that endpoint answered 2xx for it, in the
// order the events were recorded. Rows made by a manifest or tag change are
// written by the MetadataStore in the same transaction as the change (see
// ManifestPut::events and the `events` arguments of the deletes), so an
// acknowledged change always has its event; rows without a transaction of
// their own (pulls, blob pushes) come through Enqueue.
//
// Thread-safety: implementations are safe to call from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace berth::storage {

// An event for one endpoint, ready to store.
struct QueuedEvent {
  std::string endpoint;  // the endpoint's configured name
  std::string id;        // the event's id (the same for every endpoint)
  std::string payload;   // the event as one JSON object
};
using EventRows = std::vector<QueuedEvent>;

// A stored event; `seq` grows in recording order.
struct PendingEvent {
  int64_t seq = 0;
  std::string id;
  std::string payload;
};

class EventQueue {
 public:
  virtual ~EventQueue() = default;

  // Stores `rows` in one durable transaction. kInternal/kNoSpace on failure
  // (nothing stored).
  virtual Status Enqueue(const EventRows& rows) = 0;

  // Up to `limit` of `endpoint`'s rows, oldest first. Reads only: never
  // waits for a writer.
  virtual Result<std::vector<PendingEvent>> Pending(const std::string& endpoint, size_t limit) = 0;

  // Removes `endpoint`'s rows with seq <= `through` (they were delivered).
  virtual Status Remove(const std::string& endpoint, int64_t through) = 0;

  // Drops `endpoint`'s oldest rows until at most `keep` remain; returns how
  // many were dropped.
  virtual Result<uint64_t> Trim(const std::string& endpoint, uint64_t keep) = 0;

  // How many rows `endpoint` has.
  virtual Result<uint64_t> Count(const std::string& endpoint) = 0;
};

}  // namespace berth::storage
