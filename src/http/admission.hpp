// Admission: decides, at accept, whether a connection is served, and keeps
// the table of open connections that a shutdown closes.
//
// One client must not be able to take every connection slot: each address may
// hold at most `per_address` connections, and when all `total` slots are
// taken a small reserve still admits connections that may only ask for
// /healthz and /readyz, so that a cluster manager can tell a busy berth from a
// dead one.
//
// Thread-safety: safe from many threads (one mutex); a connection's Close
// runs on that connection's own executor.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/thread_annotations.hpp"
#include "http/trusted_proxies.hpp"

namespace berth::http {

struct AdmissionLimits {
  size_t total = 1024;         // connections served normally, all addresses together
  size_t per_address = 64;     // connections one client address may hold
  size_t health_reserve = 16;  // extra connections past `total` for health checks only
  TrustedProxies proxies;      // exempt from per_address: they carry many clients
};

// What a new connection may do.
enum class Admit {
  kServe,       // a normal connection
  kHealthOnly,  // past the total: one request, /healthz or /readyz only
  kRefuse,      // close it at once
};

// A live connection, as the table sees it.
struct Connection {
  std::atomic<bool> idle{false};  // waiting for the first byte of a request
  // Closes the socket: posts to the connection's executor, where `open`
  // says whether the socket still exists.
  std::function<void()> close;
  bool open = true;  // only read and written on the connection's executor
};

// Counts since start, for metrics.
struct AdmissionStats {
  size_t open = 0;                   // connections counted now
  uint64_t accepted = 0;             // served normally
  uint64_t health_only = 0;          // admitted into the health reserve
  uint64_t refused_per_address = 0;  // closed at accept: the address held its share
  uint64_t refused_full = 0;         // closed at accept: listener and reserve full
};

class Admission {
 public:
  explicit Admission(AdmissionLimits limits) : limits_(std::move(limits)) {}

  // Decides for a connection from `address` (no port) and, unless refused,
  // counts it until the matching Leave. `conn` is remembered (weakly) so that
  // CloseIdle and CloseAll can reach it.
  Admit Enter(const std::string& address, const std::shared_ptr<Connection>& conn, uint64_t* id);
  // Forgets the connection `id` from `address`, admitted as `how`.
  void Leave(const std::string& address, Admit how, uint64_t id);

  // Connections counted now (all kinds).
  size_t Active() const;
  // Closes the connections that are waiting for a request.
  void CloseIdle();
  // Closes every connection.
  void CloseAll();

  const AdmissionLimits& limits() const { return limits_; }
  AdmissionStats Stats() const;

 private:
  void ForEach(bool idle_only);

  const AdmissionLimits limits_;
  mutable Mutex mu_;
  size_t normal_ GUARDED_BY(mu_) = 0;
  size_t health_ GUARDED_BY(mu_) = 0;
  uint64_t next_id_ GUARDED_BY(mu_) = 0;
  AdmissionStats counts_ GUARDED_BY(mu_);  // open unused
  std::unordered_map<std::string, size_t> by_address_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> conns_ GUARDED_BY(mu_);
};

}  // namespace berth::http
