// Emitter: what the registry's handlers see of webhook events. The registry
// holds a null Emitter when no endpoint is configured, so events cost
// nothing then.
//
// A manifest or tag change records its events in its own metadata
// transaction: the handler asks Rows() for them, hands them to the
// MetadataStore with the change, and calls Recorded() after the commit.
// Events with no transaction of their own (pulls, blob pushes, mounts) go
// through Post().
//
// Thread-safety: implementations are safe to call from many threads, and
// no call waits on the network or the disk.
#pragma once

#include "events/event.hpp"
#include "storage/event_queue.hpp"

namespace berth::events {

class Emitter {
 public:
  virtual ~Emitter() = default;

  // Whether blob pushes and mounts (notifications.blobs) and pulls
  // (notifications.pulls) are wanted at all.
  virtual bool blobs() const = 0;
  virtual bool pulls() const = 0;

  // Completes `e` (id, timestamp, source, absolute url) and returns one row
  // for each endpoint whose filter takes it; empty when none does.
  virtual storage::EventRows Rows(Event e) = 0;

  // The transaction holding rows from Rows() committed: wakes delivery.
  virtual void Recorded() = 0;

  // Records `e` soon, on the dispatcher's thread (within milliseconds); it
  // is lost if the process dies before. Cheap enough for an I/O thread.
  virtual void Post(Event e) = 0;
};

}  // namespace berth::events
