#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <functional>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/thread_annotations.hpp"
#include "http/session.hpp"

namespace berth::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// How long a shutdown waits, after closing every connection, for sessions
// that are inside blocking work to notice.
constexpr std::chrono::seconds kCloseBound{10};

// Runs `ioc` until it is stopped. The last line of defence: an exception
// that escapes a handler (a library throwing inside a composed operation,
// where no session can catch it) is logged and the loop goes on serving the
// other connections, instead of taking the process down.
void RunLoop(asio::io_context& ioc) {
  while (true) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      spdlog::critical("uncaught exception on an I/O thread (the loop continues): {}", e.what());
    }
  }
}

std::shared_ptr<asio::ssl::context> MakeTlsContext(const ListenerOptions& o) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  // AES-128-GCM first: as safe here as AES-256 and cheaper per byte, which
  // is what a registry mostly spends TLS on.
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_ciphersuites(
      ctx->native_handle(),
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(o.cert_file, ec);
  if (ec)
    throw std::runtime_error("cannot load TLS certificate " + o.cert_file + ": " + ec.message());
  ctx->use_private_key_file(o.key_file, asio::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("cannot load TLS key " + o.key_file + ": " + ec.message());
  return ctx;
}

void LogException(const std::exception_ptr& e, const std::string& what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("{}: {}", what, ex.what());
  }
}

}  // namespace

struct Listener {
  ListenerOptions options;
  std::unique_ptr<SessionContext> ctx;
  Mutex tls_mu;
  std::shared_ptr<asio::ssl::context> tls GUARDED_BY(tls_mu);  // swapped on SIGHUP
  std::unique_ptr<tcp::acceptor> acceptor;
};

struct Runtime::Impl {
  // One io_context per I/O thread, each run by its thread alone, and every
  // connection bound to one of them for its life. With one context shared by
  // all I/O threads, Asio wakes another thread for each completion: in a
  // 1 GiB push that was 12,000 futex calls and 10,000 epoll_waits, and the
  // connection's handlers hopping between cores. ioc(0) also runs the
  // acceptors and the signal handlers.
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  size_t next_ioc = 0;  // round robin of new connections; used by ioc(0) only
  std::chrono::seconds grace;
  asio::thread_pool pool;
  std::list<Listener> listeners;
  std::function<void()> on_reload;
  std::function<void()> on_stop;
  // Made in Run before any I/O thread starts: asio's signal pipe must not be
  // set up by two threads at once (else one side never hears the signal).
  std::unique_ptr<asio::signal_set> stop;
  std::unique_ptr<asio::signal_set> hup;

  Impl(int io, int blocking, std::chrono::seconds g) : grace(g), pool(blocking < 1 ? 1 : blocking) {
    for (int i = 0; i < (io < 1 ? 1 : io); ++i) {
      // Hint 1: a single thread runs it (other threads still post to it).
      iocs.push_back(std::make_unique<asio::io_context>(1));
    }
  }

  asio::io_context& ioc() { return *iocs.front(); }

  // After the loops stopped and the pool joined: destroys what is bound to
  // the loops, then the loops with whatever they still hold (coroutine frames
  // of sessions that did not end), while the listeners' contexts and the
  // handlers those frames point into are still alive. The reverse of
  // construction, as Beast's examples tear down.
  void TearDown() {
    stop.reset();
    hup.reset();
    for (auto& l : listeners) l.acceptor.reset();
    iocs.clear();
  }

  void StopAll() {
    for (auto& c : iocs) c->stop();
  }

  asio::awaitable<void> Accept(Listener& l) {
    while (true) {
      asio::io_context& home = *iocs[next_ioc++ % iocs.size()];
      auto [ec, socket] = co_await l.acceptor->async_accept(home, kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !l.acceptor->is_open()) co_return;
        spdlog::warn("{}: accept failed: {}", l.options.name, ec.message());
        continue;
      }
      // A response goes out as head then body (often a file): with Nagle on,
      // the body waits for the ACK of the head, which a client delays by up
      // to 40 ms on a keep-alive connection. Best effort: a failure only costs speed.
      boost::system::error_code nodelay_ec;
      socket.set_option(asio::ip::tcp::no_delay(true), nodelay_ec);
      auto ex = socket.get_executor();
      auto done = [name = l.options.name](const std::exception_ptr& e) {
        LogException(e, name + " session");
      };
      std::shared_ptr<asio::ssl::context> tls;
      {
        MutexLock lock(l.tls_mu);
        tls = l.tls;
      }
      if (tls) {
        asio::co_spawn(ex, ServeTls(std::move(socket), std::move(tls), *l.ctx), done);
      } else {
        asio::co_spawn(ex, ServePlain(std::move(socket), *l.ctx), done);
      }
    }
  }

  // Reloads every listener's certificate and key on SIGHUP; connections
  // already open keep the context they started with. A broken new file is
  // logged and the old certificate stays in use.
  asio::awaitable<void> Reload() {
    while (true) {
      auto [ec, sig] = co_await hup->async_wait(kTuple);
      if (ec) co_return;
      for (auto& l : listeners) {
        if (!l.options.tls) continue;
        try {
          auto fresh = MakeTlsContext(l.options);
          MutexLock lock(l.tls_mu);
          l.tls = std::move(fresh);
          spdlog::info("{}: reloaded TLS certificate {}", l.options.name, l.options.cert_file);
        } catch (const std::exception& e) {
          spdlog::error("{}: TLS reload failed, keeping the old certificate: {}", l.options.name,
                        e.what());
        }
      }
      if (on_reload) on_reload();
    }
  }

  size_t Active() const {
    size_t busy = 0;
    for (const auto& l : listeners) busy += l.ctx->admission.Active();
    return busy;
  }

  // Waits for a stop signal, then: closes the listeners; closes idle
  // keep-alive connections at once (and each one that becomes idle); lets
  // requests in flight finish for up to `grace`; then closes every
  // connection and runs the loops until no session is left (bounded), so
  // that nothing is still suspended when the loops are torn down.
  asio::awaitable<void> Shutdown() {
    auto [ec, sig] = co_await stop->async_wait(kTuple);
    spdlog::info("signal {} received: no new connections; waiting up to {}s for requests in flight",
                 sig, grace.count());
    if (on_stop) on_stop();
    for (auto& l : listeners) {
      boost::system::error_code ignored;
      l.acceptor->close(ignored);
      l.ctx->stopping = true;
    }
    asio::steady_timer timer(ioc());
    auto wait = [&](std::chrono::steady_clock::time_point deadline,
                    bool close_all) -> asio::awaitable<bool> {
      while (std::chrono::steady_clock::now() < deadline) {
        for (auto& l : listeners) {
          if (close_all) {
            l.ctx->admission.CloseAll();
          } else {
            l.ctx->admission.CloseIdle();
          }
        }
        if (Active() == 0) co_return true;
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(kTuple);
      }
      co_return Active() == 0;
    };
    bool drained = co_await wait(std::chrono::steady_clock::now() + grace, false);
    if (!drained) {
      spdlog::warn("{} connection(s) still busy after {}s; closing them", Active(), grace.count());
      // Sessions waiting on the blocking pool (an fsync, a commit) end when
      // that work returns; the bound keeps a stuck disk from hanging exit.
      drained = co_await wait(std::chrono::steady_clock::now() + kCloseBound, true);
      if (!drained) spdlog::error("{} connection(s) did not end; stopping anyway", Active());
    }
    StopAll();
  }
};

void Runtime::OnReload(std::function<void()> fn) { impl_->on_reload = std::move(fn); }
void Runtime::OnStop(std::function<void()> fn) { impl_->on_stop = std::move(fn); }

Runtime::Runtime(int io_threads, int blocking_threads, std::chrono::seconds grace)
    : impl_(std::make_unique<Impl>(io_threads, blocking_threads, grace)) {
  // A peer that goes away must never kill the process. Socket writes pass
  // MSG_NOSIGNAL, but sendfile(2) to a reset socket and a blob store writing
  // into the pipe of a streamed blob the session closed raise SIGPIPE; with
  // it ignored they fail with EPIPE, which every caller handles.
  std::signal(SIGPIPE, SIG_IGN);
}

Runtime::~Runtime() {
  impl_->StopAll();
  impl_->pool.join();
  impl_->TearDown();
}

uint16_t Runtime::AddListener(const ListenerOptions& options, const Limits& limits,
                              Handler& handler, RequestObserver* observer) {
  Listener& l = impl_->listeners.emplace_back();
  l.options = options;
  AdmissionLimits admission;
  admission.total = limits.max_connections;
  admission.per_address = limits.max_connections_per_address;
  admission.proxies = limits.trusted_proxies;
  // Not make_unique: SessionContext is an aggregate, and clang 14 (the TSan
  // build) lacks the parenthesized aggregate initialization it would need.
  // NOLINTNEXTLINE(modernize-make-unique)
  l.ctx = std::unique_ptr<SessionContext>(
      new SessionContext{handler, limits, impl_->pool, options.name, Admission(admission)});
  l.ctx->observer = observer;
  if (options.tls) {
    MutexLock lock(l.tls_mu);  // no session yet: uncontended
    l.tls = MakeTlsContext(options);
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(options.address, ec);
  if (ec) {
    impl_->listeners.pop_back();
    throw std::runtime_error("invalid listen address '" + options.address + "'");
  }
  tcp::endpoint ep(addr, options.port);
  l.acceptor = std::make_unique<tcp::acceptor>(impl_->ioc());
  l.acceptor->open(ep.protocol(), ec);
  if (!ec) l.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) l.acceptor->bind(ep, ec);
  if (!ec) l.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    impl_->listeners.pop_back();
    throw std::runtime_error("cannot listen on " + options.address + ":" +
                             std::to_string(options.port) + ": " + ec.message());
  }
  uint16_t port = l.acceptor->local_endpoint().port();
  Listener& stored = l;
  asio::co_spawn(
      impl_->ioc(), impl_->Accept(stored),
      [name = options.name](const std::exception_ptr& e) { LogException(e, name + " acceptor"); });
  spdlog::info("{} listening on {}:{} ({})", options.name, options.address, port,
               options.tls ? "https" : "http");
  return port;
}

std::vector<std::pair<std::string, AdmissionStats>> Runtime::ListenerStats() const {
  std::vector<std::pair<std::string, AdmissionStats>> out;
  for (const auto& l : impl_->listeners) out.emplace_back(l.options.name, l.ctx->admission.Stats());
  return out;
}

void Runtime::Run() {
  auto& ioc = impl_->ioc();
  impl_->stop = std::make_unique<asio::signal_set>(ioc, SIGINT, SIGTERM);
  impl_->hup = std::make_unique<asio::signal_set>(ioc, SIGHUP);
  asio::co_spawn(ioc, impl_->Shutdown(),
                 [](const std::exception_ptr& e) { LogException(e, "shutdown"); });
  asio::co_spawn(ioc, impl_->Reload(),
                 [](const std::exception_ptr& e) { LogException(e, "reload"); });
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->iocs.size(); ++i) {
    threads.emplace_back([c = impl_->iocs[i].get()] {
      // Runs until StopAll, also while it has no connection.
      auto guard = asio::make_work_guard(*c);
      RunLoop(*c);
    });
  }
  RunLoop(ioc);
  for (auto& t : threads) t.join();
  impl_->pool.join();
  impl_->TearDown();
  spdlog::info("stopped");
}

}  // namespace berth::http
