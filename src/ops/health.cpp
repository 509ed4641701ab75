#include "ops/health.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/file.hpp"

namespace berth::ops {

HealthHandler::HealthHandler(http::Handler& inner, std::vector<ReadinessCheck> checks)
    : inner_(inner), checks_(std::move(checks)) {}

http::Outcome HealthHandler::Handle(const http::Request& request) {
  if (request.method != "GET" && request.method != "HEAD") return inner_.Handle(request);
  auto reply = [&request](int status, std::string body) {
    http::Response r;
    r.status = status;
    r.Set("Content-Type", "text/plain");
    r.Set("Cache-Control", "no-store");
    r.body = std::move(body);
    http::Outcome out = http::Outcome::Reply(std::move(r));
    out.endpoint = request.path == "/healthz" ? "healthz" : "readyz";
    return out;
  };
  if (request.path == "/healthz") return reply(200, "ok\n");
  if (request.path == "/readyz") {
    for (const auto& c : checks_) {
      if (Status s = c.check(); !s.ok())
        return reply(503, "not ready: " + c.name + ": " + s.message() + "\n");
    }
    return reply(200, "ready\n");
  }
  return inner_.Handle(request);
}

bool HealthHandler::Quick(const http::Request& request) const {
  if (request.path == "/healthz" || request.path == "/readyz") return false;
  return inner_.Quick(request);
}

http::Response HealthHandler::Reject(int status, std::string_view reason) {
  return inner_.Reject(status, reason);
}

ReadinessCheck DirectoryWritable(std::string dir) {
  return {"storage", [dir = std::move(dir)]() -> Status {
            std::string probe = dir + "/.readyz-" + std::to_string(::getpid());
            UniqueFd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
            if (!fd.valid()) {
              return {Errc::kUnavailable, dir + " is not writable: " + std::strerror(errno)};
            }
            Status written = WriteAll(fd.get(), "x", probe);
            fd.Reset();
            ::unlink(probe.c_str());
            if (!written.ok())
              return {Errc::kUnavailable, dir + " is not writable: " + written.message()};
            return Status::Ok();
          }};
}

}  // namespace berth::ops
