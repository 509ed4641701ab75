// Dispatcher: delivers webhook events from the durable EventQueue (in
// metadata.db) to the configured endpoints, and is the Emitter the
// registry's handlers record events through.
//
// Delivery is at-least-once and in order per endpoint: each endpoint has a
// thread of its own that sends its oldest pending events (up to `batch` in
// one envelope) and deletes them only after a 2xx. A failed attempt waits
// `backoff`, doubling up to `backoff_max`, so a receiver that is down costs
// one attempt per interval and never holds up other endpoints or the
// registry (handlers only write rows; they never wait for a delivery).
// A housekeeping thread writes Post()ed events and keeps each endpoint's
// queue at most `queue_max` long, dropping the oldest first (counted, and
// logged at most once per 10 s).
//
// Because the queue is in metadata.db, pending events survive a restart or a
// failover: the process that holds the store's LOCK delivers them.
//
// Thread-safety: Emitter calls and Stats() from any thread; Start, Stop and
// RequestStop from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_annotations.hpp"
#include "events/emitter.hpp"
#include "events/filter.hpp"
#include "http_client/client.hpp"
#include "storage/event_queue.hpp"

namespace berth::events {

struct EndpointOptions {
  std::string name;           // the queue's key: renaming an endpoint orphans its pending rows
  std::string url;            // http:// or https://
  http::HeaderList headers;   // sent with every delivery (e.g. Authorization)
  int64_t timeout_ms = 5000;  // one attempt, connecting included
  int64_t backoff_ms = 1000;  // the wait after a first failure; doubles after each
  int64_t backoff_max_ms = 300000;
  Filter filter;
};

struct DispatcherOptions {
  std::vector<EndpointOptions> endpoints;
  bool blobs = false;            // blob pushes and mounts
  bool pulls = false;            // manifest pulls (and blob pulls with `blobs`)
  uint64_t queue_max = 10000;    // pending events per endpoint; the oldest go first
  size_t batch = 50;             // events per envelope
  std::string scheme = "https";  // of target.url when it is a path
  std::string source_addr;       // host:port of this registry
  std::string instance_id;       // changes at every start
  bool verify_tls = true;
  std::string ca_file;  // empty: the system store
};

struct DispatcherStats {
  uint64_t delivered = 0;  // events acknowledged with a 2xx
  uint64_t failed = 0;     // delivery attempts that failed
  uint64_t dropped = 0;    // events dropped past queue_max
  uint64_t pending = 0;    // events waiting, all endpoints (as of the last housekeeping)
};

class Dispatcher final : public Emitter {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `queue` must outlive the Dispatcher.
  Dispatcher(storage::EventQueue& queue, DispatcherOptions options,
             Clock clock = &std::chrono::system_clock::now);
  // Stops and joins the threads (Stop()).
  ~Dispatcher() override;  // NOLINT(bugprone-exception-escape): see dispatcher.cpp

  // Starts the housekeeping thread and one delivery thread per endpoint.
  void Start();
  // Asks every thread to stop after its current attempt, without waiting.
  void RequestStop();
  // Stops and joins the threads (a delivery under way ends within its
  // timeout); Post()ed events still in memory are written to the queue.
  void Stop();

  DispatcherStats Stats() const;

  // Emitter
  bool blobs() const override { return options_.blobs; }
  bool pulls() const override { return options_.pulls; }
  storage::EventRows Rows(Event e) override;
  void Recorded() override;
  void Post(Event e) override;

  // One housekeeping pass (write posted events, trim); for tests.
  void Housekeep();

 private:
  struct Worker;
  void HousekeepingLoop();
  void DeliveryLoop(Worker& w);
  // Sends `batch` to `w`'s endpoint; true on a 2xx.
  bool Deliver(Worker& w, const std::vector<storage::PendingEvent>& batch);
  // Waits up to `d` or until stopped (or, `on_new`, new events arrive); false when stopping.
  bool Wait(std::chrono::milliseconds d, bool on_new, uint64_t seen);

  storage::EventQueue& queue_;
  const DispatcherOptions options_;
  const Clock clock_;

  mutable Mutex mu_;
  std::condition_variable wake_;  // delivery threads
  std::condition_variable housekeeping_wake_;
  bool stop_ GUARDED_BY(mu_) = false;
  uint64_t generation_ GUARDED_BY(mu_) = 0;  // bumped when events were recorded
  bool dirty_ GUARDED_BY(mu_) = false;       // housekeeping has work
  storage::EventRows posted_ GUARDED_BY(mu_);

  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> pending_{0};
  uint64_t unlogged_drops_ = 0;  // housekeeping thread only
  std::chrono::steady_clock::time_point last_drop_log_{};

  std::vector<std::unique_ptr<Worker>> workers_;
  std::thread housekeeping_;
};

}  // namespace berth::events
