// Fuzzes the HTTP request path: request line, headers, Content-Length and
// chunked framing, chunk extensions, trailers and pipelining, through the
// real Session code (http::ServeBytes) over an in-memory connection. The
// first input byte picks how many bytes each read returns, so splits at
// every position are reached. Any exception that escapes the session, any
// sanitizer report or a hang is a finding.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "http/session.hpp"

namespace {

using berth::Status;
namespace http = berth::http;

// Takes bodies up to 1 MiB, as a registry handler with a limit would.
class Sink final : public http::BodySink {
 public:
  Status Write(std::span<const char> data) override {
    bytes_ += data.size();
    if (bytes_ > (1u << 20)) return Status(berth::Errc::kTooLarge, "too large");
    return Status::Ok();
  }
  http::Response Finish(const Status& body) override {
    http::Response r;
    r.status = body.ok() ? 201 : 400;
    r.body = body.ok() ? "ok" : body.message();
    return r;
  }

 private:
  size_t bytes_ = 0;
};

// Streams every body; answers the rest from memory on the I/O thread.
class Handler final : public http::Handler {
 public:
  http::Outcome Handle(const http::Request& request) override {
    if (request.has_body) return http::Outcome::Stream(std::make_unique<Sink>());
    http::Response r;
    r.body = request.path;
    for (const auto& [k, v] : request.query) r.Set("X-Q", k + "=" + v);
    return http::Outcome::Reply(std::move(r));
  }
  bool Quick(const http::Request&) const override { return true; }
  http::Response Reject(int status, std::string_view reason) override {
    http::Response r;
    r.status = status;
    r.body = std::string(reason);
    return r;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  static Handler handler;
  static boost::asio::thread_pool pool(1);
  const size_t piece = data[0] == 0 ? 65536 : data[0];
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  boost::asio::io_context ioc;
  http::SessionContext ctx{handler, http::Limits{}, pool, "fuzz", http::Admission({})};
  std::exception_ptr escaped;
  boost::asio::co_spawn(ioc, http::ServeBytes(std::move(input), piece, ctx),
                        [&](std::exception_ptr e, std::string) { escaped = e; });
  ioc.run();
  if (escaped) std::rethrow_exception(escaped);  // a finding: the session let it out
  return 0;
}
