// GET, HEAD and DELETE /v2/<name>/blobs/<digest>.
#include <spdlog/spdlog.h>

#include <charconv>
#include <optional>

#include "registry/errors.hpp"
#include "registry/handlers.hpp"

namespace berth::registry {
namespace {

struct ByteRange {
  uint64_t first;
  uint64_t length;
};

// Parses a single "bytes=a-b", "bytes=a-" or "bytes=-n" against `size`.
// nullopt: ignore the header (serve everything), as RFC 9110 allows for
// forms we do not support; kRangeInvalid: unsatisfiable.
Result<std::optional<ByteRange>> ParseRange(std::string_view h, uint64_t size) {
  constexpr std::string_view kPrefix = "bytes=";
  if (h.substr(0, kPrefix.size()) != kPrefix) return std::optional<ByteRange>();
  h.remove_prefix(kPrefix.size());
  if (h.find(',') != h.npos) return std::optional<ByteRange>();  // multi-range: send all
  auto dash = h.find('-');
  if (dash == h.npos) return std::optional<ByteRange>();
  auto num = [](std::string_view s, uint64_t& v) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
  };
  uint64_t a = 0, b = 0;
  std::string_view sa = h.substr(0, dash), sb = h.substr(dash + 1);
  if (sa.empty()) {  // suffix: the last n bytes
    if (!num(sb, b)) return std::optional<ByteRange>();
    if (b == 0 || size == 0) return Status(Errc::kRangeInvalid, "range not satisfiable");
    b = std::min(b, size);
    return std::optional<ByteRange>(ByteRange{size - b, b});
  }
  if (!num(sa, a)) return std::optional<ByteRange>();
  if (a >= size) return Status(Errc::kRangeInvalid, "range not satisfiable");
  uint64_t last = size - 1;
  if (!sb.empty()) {
    if (!num(sb, b) || b < a) return std::optional<ByteRange>();
    last = std::min(b, size - 1);
  }
  return std::optional<ByteRange>(ByteRange{a, last - a + 1});
}

}  // namespace

Outcome GetBlob(Deps& d, const Request& req, const Route& route) {
  auto digest = Digest::Parse(route.param);
  if (!digest) return Outcome::Reply(ErrorResponse(digest.status()));
  auto size = d.meta.LinkedBlobSize(route.name, *digest);
  if (!size) return Outcome::Reply(ErrorResponse(size.status()));

  // A store that serves blobs itself elsewhere (S3) sends the client there;
  // the access check above has been made all the same. The web interface
  // cannot follow such a redirect: it reads small blobs through berth.
  if (req.inline_blob_limit > 0) {
    if (*size > req.inline_blob_limit) {
      return Outcome::Reply(ErrorResponse(
          {Errc::kTooLarge, "blob larger than " + std::to_string(req.inline_blob_limit) +
                                " bytes: fetch it with a registry client"}));
    }
  } else if (auto url = d.blobs.RedirectUrl(*digest, req.method)) {
    http::Response r = NewResponse(307);
    r.Set("Location", *url);
    r.Set("Docker-Content-Digest", digest->str());
    if (req.method == "GET" && d.events && d.events->pulls()) {
      PostBlobEvent(d, req, events::kPull, route.name, *digest, *size);
    }
    return Outcome::Reply(std::move(r));
  }

  http::Response r = NewResponse(200);
  r.Set("Docker-Content-Digest", digest->str());
  r.Set("Content-Type", "application/octet-stream");
  r.Set("Accept-Ranges", "bytes");
  r.Set("Etag", "\"" + digest->str() + "\"");
  if (req.method == "HEAD") {
    // The file must exist too: after fsck quarantined a corrupt blob, a 404
    // here makes clients push it again instead of skipping it.
    if (auto on_disk = d.blobs.Stat(*digest); !on_disk) {
      return Outcome::Reply(ErrorResponse(on_disk.status()));
    }
    r.head_length = *size;
    return Outcome::Reply(std::move(r));
  }
  // The range is parsed against the size the metadata recorded at push, so
  // that a store that streams can be asked for just those bytes.
  uint64_t offset = 0, length = *size;
  std::optional<ByteRange> range;
  if (auto h = req.Header("Range")) {
    auto parsed = ParseRange(*h, *size);
    if (!parsed) {
      if (d.events && d.events->pulls())
        PostBlobEvent(d, req, events::kPull, route.name, *digest, *size);
      http::Response e = ErrorResponse(parsed.status());
      e.Set("Content-Range", "bytes */" + std::to_string(*size));
      return Outcome::Reply(std::move(e));
    }
    range = *parsed;
  }
  if (range) {
    offset = range->first;
    length = range->length;
  }
  auto blob = d.blobs.OpenRange(*digest, offset, length);
  if (!blob) {
    if (blob.status().code() == Errc::kBlobUnknown) {
      spdlog::error("blob {} is linked into {} but its file is missing", digest->str(), route.name);
    }
    return Outcome::Reply(ErrorResponse(blob.status()));
  }
  if (d.events && d.events->pulls())
    PostBlobEvent(d, req, events::kPull, route.name, *digest, *size);
  if (range) {
    r.status = 206;
    r.Set("Content-Range", "bytes " + std::to_string(offset) + "-" +
                               std::to_string(offset + length - 1) + "/" + std::to_string(*size));
  }
  http::FileRegion file{std::move(blob->fd), offset, length};
  file.stream = blob->stream;
  if (file.stream) file.offset = 0;  // the pipe starts at `offset` already
  r.file = std::move(file);
  return Outcome::Reply(std::move(r));
}

Outcome DeleteBlob(Deps& d, const Request&, const Route& route) {
  auto digest = Digest::Parse(route.param);
  if (!digest) return Outcome::Reply(ErrorResponse(digest.status()));
  if (auto s = d.meta.UnlinkBlob(route.name, *digest); !s.ok()) {
    return Outcome::Reply(ErrorResponse(s));
  }
  http::Response r = NewResponse(202);
  r.Set("Docker-Content-Digest", digest->str());
  return Outcome::Reply(std::move(r));
}

}  // namespace berth::registry
