// What surrounds a Session on an accepted socket: its admission into the
// listener's table (Admitted), the peer's name for logs, and the lingering
// close that lets an early error answer reach the client. Internal to http/.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "http/admission.hpp"
#include "http/session.hpp"

namespace berth::http {

// "address:port" of the peer ("[v6]:port"), or "unknown".
std::string RemoteOf(const boost::asio::ip::tcp::socket& s);

// The peer's address alone, the key of per-address admission; "unknown".
std::string AddressOf(const boost::asio::ip::tcp::socket& s);

// Closes like RFC 9112 §9.6 asks: stop sending, then read and drop what the
// client is still sending (bounded in bytes and time) so that an early error
// answer is not destroyed by a reset from unread data.
boost::asio::awaitable<void> LingeringClose(boost::beast::tcp_stream& stream);

// Admits a connection in the listener's table for its lifetime, and lets a
// shutdown close its socket.
class Admitted {
 public:
  Admitted(SessionContext& ctx, boost::asio::ip::tcp::socket& socket);
  ~Admitted();
  Admitted(const Admitted&) = delete;
  Admitted& operator=(const Admitted&) = delete;

  // Arms Connection::close for `socket`, which must live as long as this.
  void Arm(boost::asio::ip::tcp::socket& socket);

  Admit how() const { return how_; }
  const std::string& address() const { return address_; }
  Connection& connection() { return *conn_; }

 private:
  SessionContext& ctx_;
  const std::string address_;
  std::shared_ptr<Connection> conn_;
  Admit how_ = Admit::kRefuse;
  uint64_t id_ = 0;
};

// Logs a refused connection, at most one line a second whatever the flood.
void LogRefused(const SessionContext& ctx, const std::string& address);

}  // namespace berth::http
