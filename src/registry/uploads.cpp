// Blob uploads: POST (start, monolithic, mount), PATCH (chunk or stream),
// PUT (finish), GET (status) and DELETE (cancel) under
// /v2/<name>/blobs/uploads/.
#include <charconv>

#include <spdlog/spdlog.h>

#include "common/names.hpp"
#include "registry/errors.hpp"
#include "registry/handlers.hpp"

namespace berth::registry {
namespace {

std::string UploadLocation(const Route& route, const std::string& id) {
  return "/v2/" + route.name + "/blobs/uploads/" + id;
}

// "0-<last byte>" as clients expect; "0-0" for an empty session, as the
// reference registry answers.
std::string RangeHeader(uint64_t size) { return "0-" + std::to_string(size ? size - 1 : 0); }

http::Response SessionResponse(int status, const Deps& d, const Route& route,
                               const storage::Upload& up) {
  http::Response r = NewResponse(status);
  r.Set("Location", UploadLocation(route, up.id()));
  r.Set("Range", RangeHeader(up.size()));
  r.Set("Docker-Upload-UUID", up.id());
  if (d.options.chunk_min_length > 0) {
    r.Set("OCI-Chunk-Min-Length", std::to_string(d.options.chunk_min_length));
  }
  return r;
}

http::Response Created(const Route& route, const Digest& digest) {
  http::Response r = NewResponse(201);
  r.Set("Location", "/v2/" + route.name + "/blobs/" + digest.str());
  r.Set("Docker-Content-Digest", digest.str());
  return r;
}

// Publishes a finished upload and links it into the repository, holding the
// digest's lock so that GC cannot remove the file in between.
http::Response Complete(Deps& d, const Request& req, const Route& route, storage::Upload& up,
                        const Digest& digest) {
  uint64_t size = up.size();
  auto guard = d.locks.Lock(digest);
  if (!guard.ok()) return ErrorResponse(guard.status());
  if (auto s = up.Complete(digest); !s.ok()) return ErrorResponse(s);
  if (auto s = d.meta.LinkBlob(route.name, digest, size, QuotaFor(d, route.name)); !s.ok()) {
    // Over quota: the file just published is nobody's unless another
    // namespace has the blob; remove it now rather than at the next GC, or
    // refused pushes could still fill the disk.
    if (s.code() == Errc::kDenied && d.lifecycle.store) {
      // Left behind, the file is only space the next GC run frees: the
      // refusal stands either way, so failures here are logged, not answered.
      auto known = d.lifecycle.store->BlobsKnown({digest});
      if (!known) {
        spdlog::warn("refused blob {} kept until GC: {}", digest.str(), known.status().message());
      } else if (!(*known)[0]) {
        Status removed = d.blobs.Remove(digest);
        auto purged = removed.ok() ? d.blobs.Purge() : Result<uint64_t>(removed);
        if (!purged) {
          spdlog::warn("refused blob {} kept until GC: {}", digest.str(),
                       purged.status().message());
        }
      }
    }
    return ErrorResponse(s);
  }
  PostBlobEvent(d, req, events::kPush, route.name, digest, size);
  return Created(route, digest);
}

// Streams a body into an upload lease. Depending on `finish` the upload is
// kept open (PATCH, POST) or completed (PUT, monolithic POST).
class UploadSink final : public http::BodySink {
 public:
  // `req`: the request's head, kept for the blob push event (headers only).
  UploadSink(Deps& d, const Request& req, Route route, storage::UploadPtr up,
             std::optional<Digest> finish)
      : d_(d), route_(std::move(route)), up_(std::move(up)), finish_(std::move(finish)) {
    if (finish_ && d.events && d.events->blobs()) req_ = req;
  }

  Status Write(std::span<const char> data) override { return up_->Append(data); }

  http::Response Finish(const Status& body) override {
    if (!body.ok()) return ErrorResponse(body);  // dropping the lease rolls back
    if (finish_) return Complete(d_, req_, route_, *up_, *finish_);
    if (auto s = up_->Keep(); !s.ok()) return ErrorResponse(s);
    return SessionResponse(202, d_, route_, *up_);
  }

 private:
  Deps& d_;
  const Route route_;
  storage::UploadPtr up_;
  const std::optional<Digest> finish_;
  Request req_;  // copied only when a blob event will need it
};

// Parses "start-end" (also "bytes=start-end" and "bytes start-end/total").
std::optional<std::pair<uint64_t, uint64_t>> ParseContentRange(std::string_view h) {
  for (std::string_view p : {"bytes=", "bytes "}) {
    if (h.substr(0, p.size()) == p) h.remove_prefix(p.size());
  }
  h = h.substr(0, h.find('/'));
  auto dash = h.find('-');
  if (dash == h.npos) return std::nullopt;
  uint64_t a = 0, b = 0;
  auto sa = h.substr(0, dash), sb = h.substr(dash + 1);
  auto [pa, ea] = std::from_chars(sa.data(), sa.data() + sa.size(), a);
  auto [pb, eb] = std::from_chars(sb.data(), sb.data() + sb.size(), b);
  if (ea != std::errc() || eb != std::errc() || pa != sa.data() + sa.size() ||
      pb != sb.data() + sb.size() || sa.empty() || sb.empty() || b < a) {
    return std::nullopt;
  }
  return std::make_pair(a, b);
}

// Checks a Content-Range against the session: the chunk must start where
// the last ended. Returns the response to send when it does not.
std::optional<http::Response> CheckRange(const Request& req, const Route& route,
                                         const storage::Upload& up) {
  auto h = req.Header("Content-Range");
  if (!h) return std::nullopt;
  auto range = ParseContentRange(*h);
  bool ok = range && range->first == up.size() &&
            (!req.content_length || *req.content_length == range->second - range->first + 1);
  if (ok) return std::nullopt;
  http::Response r = ErrorResponse(Status(
      Errc::kRangeInvalid,
      "chunk must start at byte " + std::to_string(up.size()) + " and match Content-Length"));
  r.Set("Location", UploadLocation(route, up.id()));
  r.Set("Range", RangeHeader(up.size()));
  r.Set("Docker-Upload-UUID", up.id());
  return r;
}

Result<Digest> DigestParam(const Request& req) {
  auto q = req.Query("digest");
  if (!q) return Status(Errc::kDigestInvalid, "the digest query parameter is required");
  return Digest::Parse(*q);
}

Outcome StreamOrFinish(Deps& d, const Request& req, const Route& route, storage::UploadPtr up,
                       std::optional<Digest> finish) {
  auto sink = std::make_unique<UploadSink>(d, req, route, std::move(up), std::move(finish));
  if (req.has_body) return Outcome::Stream(std::move(sink));
  return Outcome::Reply(sink->Finish(Status::Ok()));
}

}  // namespace

Outcome StartUpload(Deps& d, const Request& req, const Route& route) {
  if (auto mount = req.Query("mount")) {
    auto digest = Digest::Parse(*mount);
    if (!digest) return Outcome::Reply(ErrorResponse(digest.status()));
    // Mount only from a named repository that holds the blob; anything else
    // falls back to a normal upload, so no repository can learn of or reach
    // another's content.
    auto from = req.Query("from");
    if (from && ValidateRepositoryName(*from).ok()) {
      auto mounted =
          d.meta.MountBlob(std::string(*from), route.name, *digest, QuotaFor(d, route.name));
      if (mounted) {
        PostBlobEvent(d, req, events::kMount, route.name, *digest, *mounted, std::string(*from));
        return Outcome::Reply(Created(route, *digest));
      }
      if (mounted.status().code() != Errc::kBlobUnknown) {
        return Outcome::Reply(ErrorResponse(mounted.status()));
      }
    }
  }
  std::optional<Digest> finish;
  if (req.Query("digest")) {
    auto digest = DigestParam(req);
    if (!digest) return Outcome::Reply(ErrorResponse(digest.status()));
    finish = *digest;
  }
  auto up = d.uploads.Create(route.name);
  if (!up) return Outcome::Reply(ErrorResponse(up.status()));
  return StreamOrFinish(d, req, route, std::move(up).value(), std::move(finish));
}

Outcome UploadStatus(Deps& d, const Request&, const Route& route) {
  auto up = d.uploads.Acquire(route.param, route.name);
  if (!up) return Outcome::Reply(ErrorResponse(up.status()));
  return Outcome::Reply(SessionResponse(204, d, route, **up));
}

Outcome PatchUpload(Deps& d, const Request& req, const Route& route) {
  auto up = d.uploads.Acquire(route.param, route.name);
  if (!up) return Outcome::Reply(ErrorResponse(up.status()));
  if (auto bad = CheckRange(req, route, **up)) return Outcome::Reply(std::move(*bad));
  return StreamOrFinish(d, req, route, std::move(up).value(), std::nullopt);
}

Outcome PutUpload(Deps& d, const Request& req, const Route& route) {
  auto digest = DigestParam(req);
  if (!digest) return Outcome::Reply(ErrorResponse(digest.status()));
  auto up = d.uploads.Acquire(route.param, route.name);
  if (!up) return Outcome::Reply(ErrorResponse(up.status()));
  if (auto bad = CheckRange(req, route, **up)) return Outcome::Reply(std::move(*bad));
  return StreamOrFinish(d, req, route, std::move(up).value(), *digest);
}

Outcome CancelUpload(Deps& d, const Request&, const Route& route) {
  if (auto s = d.uploads.Cancel(route.param, route.name); !s.ok()) {
    return Outcome::Reply(ErrorResponse(s));
  }
  return Outcome::Reply(NewResponse(204));
}

}  // namespace berth::registry
