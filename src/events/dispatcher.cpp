#include "events/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace berth::events {
namespace {

// How often the housekeeping thread looks at the queue when nothing wakes it,
// and the shortest time between two of its passes (so a burst of pushes is
// one pass, not one per push).
constexpr auto kHousekeepingInterval = std::chrono::seconds(1);
constexpr auto kHousekeepingMinGap = std::chrono::milliseconds(20);
// An idle delivery thread looks at its queue this often even when not woken
// (rows another process left, a wake-up lost to a race).
constexpr auto kIdlePoll = std::chrono::seconds(1);
// At most one warning about dropped events per interval.
constexpr auto kDropLogInterval = std::chrono::seconds(10);

}  // namespace

struct Dispatcher::Worker {
  const EndpointOptions* endpoint = nullptr;
  std::thread thread;
  // The failure streak, for logging its start and end only.
  uint64_t failures = 0;
};

Dispatcher::Dispatcher(storage::EventQueue& queue, DispatcherOptions options, Clock clock)
    : queue_(queue), options_(std::move(options)), clock_(std::move(clock)) {}

// Stop() throws only when joining a thread fails (std::system_error), a
// broken process that std::terminate should end.
// NOLINTNEXTLINE(bugprone-exception-escape)
Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  {
    MutexLock lock(mu_);
    stop_ = false;
  }
  for (const auto& ep : options_.endpoints) {
    auto w = std::make_unique<Worker>();
    w->endpoint = &ep;
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) {
    Worker* raw = w.get();
    raw->thread = std::thread([this, raw] { DeliveryLoop(*raw); });
  }
  housekeeping_ = std::thread([this] { HousekeepingLoop(); });
}

void Dispatcher::RequestStop() {
  MutexLock lock(mu_);
  stop_ = true;
  wake_.notify_all();
  housekeeping_wake_.notify_all();
}

void Dispatcher::Stop() {
  RequestStop();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  workers_.clear();
  if (housekeeping_.joinable()) housekeeping_.join();
  Housekeep();  // what was posted meanwhile is written, not lost
}

DispatcherStats Dispatcher::Stats() const {
  return {delivered_.load(), failed_.load(), dropped_.load(), pending_.load()};
}

storage::EventRows Dispatcher::Rows(Event e) {
  storage::EventRows rows;
  std::vector<const EndpointOptions*> wanted;
  for (const auto& ep : options_.endpoints) {
    if (Accepts(ep.filter, e)) wanted.push_back(&ep);
  }
  if (wanted.empty()) return rows;
  e.id = NewUuid();
  e.timestamp = Rfc3339(clock_());
  e.source_addr = options_.source_addr;
  e.instance_id = options_.instance_id;
  if (!e.target.url.empty() && e.target.url.front() == '/' && !e.request.host.empty()) {
    e.target.url = options_.scheme + "://" + e.request.host + e.target.url;
  }
  const std::string payload = ToJson(e);
  for (const auto* ep : wanted) rows.push_back({ep->name, e.id, payload});
  return rows;
}

void Dispatcher::Recorded() {
  MutexLock lock(mu_);
  ++generation_;
  dirty_ = true;
  wake_.notify_all();
  housekeeping_wake_.notify_one();
}

void Dispatcher::Post(Event e) {
  auto rows = Rows(std::move(e));
  if (rows.empty()) return;
  MutexLock lock(mu_);
  // Bounded like the queue: if the store cannot take them, the oldest go.
  const size_t cap = static_cast<size_t>(options_.queue_max) * options_.endpoints.size();
  for (auto& r : rows) posted_.push_back(std::move(r));
  if (posted_.size() > cap) {
    const size_t over = posted_.size() - cap;
    posted_.erase(posted_.begin(), posted_.begin() + static_cast<std::ptrdiff_t>(over));
    dropped_ += over;
  }
  dirty_ = true;
  housekeeping_wake_.notify_one();
}

void Dispatcher::Housekeep() {
  storage::EventRows posted;
  {
    MutexLock lock(mu_);
    posted.swap(posted_);
    dirty_ = false;
  }
  if (!posted.empty()) {
    if (auto s = queue_.Enqueue(posted); !s.ok()) {
      spdlog::error("events: cannot record {} event(s): {}", posted.size(), s.message());
      MutexLock lock(mu_);  // keep them for the next pass, ahead of newer ones
      posted_.insert(posted_.begin(), std::make_move_iterator(posted.begin()),
                     std::make_move_iterator(posted.end()));
    } else {
      MutexLock lock(mu_);
      ++generation_;
      wake_.notify_all();
    }
  }
  uint64_t pending = 0;
  for (const auto& ep : options_.endpoints) {
    auto dropped = queue_.Trim(ep.name, options_.queue_max);
    if (!dropped) {
      spdlog::error("events: endpoint {}: cannot trim the queue: {}", ep.name,
                    dropped.status().message());
    } else if (*dropped > 0) {
      dropped_ += *dropped;
      unlogged_drops_ += *dropped;
    }
    if (auto n = queue_.Count(ep.name)) pending += *n;
  }
  pending_ = pending;
  const auto now = std::chrono::steady_clock::now();
  if (unlogged_drops_ > 0 && now - last_drop_log_ >= kDropLogInterval) {
    spdlog::warn(
        "events: dropped {} oldest pending event(s): more than queue_max {} per endpoint "
        "({} dropped since start)",
        unlogged_drops_, options_.queue_max, dropped_.load());
    unlogged_drops_ = 0;
    last_drop_log_ = now;
  }
}

void Dispatcher::HousekeepingLoop() {
  MutexLock lock(mu_);
  while (!stop_) {
    housekeeping_wake_.wait_for(lock.native(), kHousekeepingInterval,
                                [&]() REQUIRES(mu_) { return stop_ || dirty_; });
    if (stop_) break;
    lock.Unlock();
    Housekeep();
    std::this_thread::sleep_for(kHousekeepingMinGap);
    lock.Lock();
  }
}

bool Dispatcher::Wait(std::chrono::milliseconds d, bool on_new, uint64_t seen) {
  MutexLock lock(mu_);
  wake_.wait_for(lock.native(), d,
                 [&]() REQUIRES(mu_) { return stop_ || (on_new && generation_ != seen); });
  return !stop_;
}

void Dispatcher::DeliveryLoop(Worker& w) {
  const EndpointOptions& ep = *w.endpoint;
  auto backoff = std::chrono::milliseconds(ep.backoff_ms);
  while (true) {
    uint64_t seen = 0;
    {
      MutexLock lock(mu_);
      if (stop_) return;
      seen = generation_;
    }
    auto batch = queue_.Pending(ep.name, options_.batch);
    if (!batch) {
      spdlog::error("events: endpoint {}: cannot read the queue: {}", ep.name,
                    batch.status().message());
      if (!Wait(backoff, false, seen)) return;
      continue;
    }
    if (batch->empty()) {
      if (!Wait(kIdlePoll, true, seen)) return;
      continue;
    }
    if (Deliver(w, *batch)) {
      backoff = std::chrono::milliseconds(ep.backoff_ms);
      if (auto s = queue_.Remove(ep.name, batch->back().seq); !s.ok()) {
        // They will be sent again: at-least-once, receivers dedupe on the id.
        spdlog::error("events: endpoint {}: cannot remove delivered events: {}", ep.name,
                      s.message());
      }
      delivered_ += batch->size();
      continue;
    }
    if (!Wait(backoff, false, seen)) return;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(ep.backoff_max_ms));
  }
}

bool Dispatcher::Deliver(Worker& w, const std::vector<storage::PendingEvent>& batch) {
  const EndpointOptions& ep = *w.endpoint;
  std::vector<std::string> payloads;
  payloads.reserve(batch.size());
  for (const auto& e : batch) payloads.push_back(e.payload);
  http::ClientRequest req;
  req.method = "POST";
  req.url = ep.url;
  req.headers.emplace_back("Content-Type", std::string(kEnvelopeMediaType));
  for (const auto& h : ep.headers) req.headers.push_back(h);
  req.body = Envelope(payloads);
  http::ClientOptions co;
  co.timeout_ms = ep.timeout_ms;
  co.connect_timeout_ms = ep.timeout_ms;
  co.verify_tls = options_.verify_tls;
  co.ca_file = options_.ca_file;
  co.max_response_bytes = 64 * 1024;  // the answer's body is not read
  http::ClientReply reply = http::Send(req, co);
  if (reply.transport_ok && reply.status >= 200 && reply.status < 300) {
    if (w.failures > 0) {
      spdlog::info("events: endpoint {} is back after {} failed attempt(s)", ep.name, w.failures);
    }
    w.failures = 0;
    return true;
  }
  ++failed_;
  // The first failure of a streak is logged, then one line per 100 attempts.
  if (w.failures++ % 100 == 0) {
    spdlog::warn(
        "events: endpoint {}: delivery failed ({}); {} event(s) wait, retrying with backoff",
        ep.name, reply.transport_ok ? "HTTP " + std::to_string(reply.status) : reply.error,
        batch.size());
  }
  return false;
}

}  // namespace berth::events
