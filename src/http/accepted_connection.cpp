#include "http/accepted_connection.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "common/log_text.hpp"

namespace berth::http {

namespace asio = boost::asio;

std::string RemoteOf(const asio::ip::tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown";
  auto a = ep.address();
  return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(ep.port())
                   : a.to_string() + ":" + std::to_string(ep.port());
}

std::string AddressOf(const asio::ip::tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  return ec ? std::string("unknown") : ep.address().to_string();
}

asio::awaitable<void> LingeringClose(boost::beast::tcp_stream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  std::array<char, 16 * 1024> sink{};
  size_t total = 0;
  stream.expires_after(std::chrono::seconds(2));
  while (total < 4 * 1024 * 1024) {
    auto [rec, n] =
        co_await stream.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
    if (rec) break;
    total += n;
  }
}

Admitted::Admitted(SessionContext& ctx, asio::ip::tcp::socket& socket)
    : ctx_(ctx), address_(AddressOf(socket)), conn_(std::make_shared<Connection>()) {
  how_ = ctx_.admission.Enter(address_, conn_, &id_);
}

Admitted::~Admitted() {
  conn_->open = false;
  ctx_.admission.Leave(address_, how_, id_);
}

void Admitted::Arm(asio::ip::tcp::socket& socket) {
  conn_->close = [ex = socket.get_executor(), weak = std::weak_ptr<Connection>(conn_),
                  sock = &socket] {
    if (auto c = weak.lock()) {
      asio::post(ex, [c, sock] {
        if (!c->open) return;
        boost::system::error_code ignored;
        sock->close(ignored);
      });
    }
  };
}

void LogRefused(const SessionContext& ctx, const std::string& address) {
  static std::atomic<int64_t> last{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t seen = last.load();
  if (now != seen && last.compare_exchange_strong(seen, now)) {
    spdlog::warn("{}: refusing connections from {} (at most {} per address, {} in all)", ctx.name,
                 LogSafe(address), ctx.admission.limits().per_address,
                 ctx.admission.limits().total);
  }
}

}  // namespace berth::http
