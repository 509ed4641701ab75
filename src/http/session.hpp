// One HTTP/1.1 connection, plain or TLS: read headers → Handler::Handle →
// stream the body into the sink → respond → keep alive. Every step runs
// under a timeout from Limits. Internal to http/.
#pragma once

#include <atomic>
#include <memory>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <string>

#include "http/admission.hpp"
#include "http/message.hpp"
#include "http/server.hpp"

namespace berth::http {

struct SessionContext {
  Handler& handler;
  const Limits limits;
  boost::asio::thread_pool& pool;
  const std::string name;
  Admission admission;                  // connections open on this listener
  std::atomic<bool> stopping{false};    // shutting down: answer, then close
  RequestObserver* observer = nullptr;  // told of every answered request; may be null
};

boost::asio::awaitable<void> ServePlain(boost::asio::ip::tcp::socket socket, SessionContext& ctx);
// `tls` is shared so that a certificate reload (SIGHUP) can swap the
// listener's context while older connections finish on theirs.
boost::asio::awaitable<void> ServeTls(boost::asio::ip::tcp::socket socket,
                                      std::shared_ptr<boost::asio::ssl::context> tls,
                                      SessionContext& ctx);

// Serves one connection whose bytes are `input`, read at most `piece` bytes
// at a time, through the same Session code as the sockets; returns what was
// answered (its first MiB). For the HTTP fuzz target and tests: `ctx.handler`
// sees real requests, timeouts never fire, and the connection ends when the
// input does.
boost::asio::awaitable<std::string> ServeBytes(std::string input, size_t piece,
                                               SessionContext& ctx);

}  // namespace berth::http
