// Runtime: the network side of a berth process. It owns the I/O threads
// that run every HTTP session as a coroutine, the blocking pool that runs
// handlers and store calls, and the listeners. Asio and Beast stay behind
// this header.
//
// Thread-safety: configure (AddListener) from one thread before Run; Run
// blocks the calling thread until SIGINT or SIGTERM.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <utility>
#include <vector>

#include "http/admission.hpp"
#include "http/message.hpp"
#include "http/trusted_proxies.hpp"

namespace berth::http {

struct ListenerOptions {
  std::string name = "registry";  // shown in logs
  std::string address = "0.0.0.0";
  uint16_t port = 9001;
  bool tls = true;
  std::string cert_file;  // PEM chain; REQUIRES non-empty when tls
  std::string key_file;   // PEM key
};

// Per-connection limits. Each bounds what one slow or hostile client can hold.
struct Limits {
  // Time allowed to receive a request's headers; also how long an idle
  // keep-alive connection stays open. Default 30 s. In milliseconds, not
  // seconds, so that tests can stall a client briefly (config sets seconds).
  std::chrono::milliseconds header_timeout{30'000};
  // Longest silence allowed while a request body streams in. Default 60 s;
  // milliseconds for the same reason.
  std::chrono::milliseconds body_timeout{60'000};
  // Longest stall allowed while a response is sent. Default 60 s.
  std::chrono::seconds write_timeout{60};
  // Largest request head (request line + headers). Default 16 KiB; larger
  // gets 431 and the connection is closed.
  size_t max_header_bytes = 16 * 1024;
  // Connections served at once per listener; past it a reserve of 16 more
  // may only ask /healthz and /readyz, and the rest are closed at accept.
  size_t max_connections = 1024;
  // Connections one client address may hold on a listener. Default 64.
  size_t max_connections_per_address = 64;
  // Least average body rate (bytes/s) over each body_timeout window; slower
  // bodies are cut. 0 = off. Default 1024.
  uint64_t min_body_rate = 1024;
  // Proxies whose X-Forwarded-For names the client (trusted_proxies.hpp);
  // none by default.
  TrustedProxies trusted_proxies;
};

class Runtime {
 public:
  // `io_threads` run the network loop; `blocking_threads` run handlers and
  // stores. `grace` is how long Run waits for requests in flight after a
  // stop signal.
  Runtime(int io_threads, int blocking_threads, std::chrono::seconds grace);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Binds and loads TLS material now; throws std::runtime_error naming the
  // problem (start-up only). `handler` must outlive the Runtime. Returns the
  // bound port (useful with port 0). `observer`, when set, is told of every
  // answered request and must outlive the Runtime.
  uint16_t AddListener(const ListenerOptions& options, const Limits& limits, Handler& handler,
                       RequestObserver* observer = nullptr);

  // Connection counts of each listener, by name (any thread, after the
  // listeners were added).
  std::vector<std::pair<std::string, AdmissionStats>> ListenerStats() const;

  // Serves until SIGINT or SIGTERM, then stops accepting, lets requests in
  // flight finish for up to `grace`, and returns. SIGHUP reloads the TLS
  // certificates without dropping connections, then calls the OnReload hook.
  void Run();

  // Extra work on SIGHUP (runs on an I/O thread; keep it short).
  void OnReload(std::function<void()> fn);

  // Extra work when a stop signal arrives, before the grace period (runs on
  // an I/O thread; keep it short): tells long work behind a request (a GC
  // run) to wind down, so the grace period is not spent waiting for it.
  void OnStop(std::function<void()> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::http
