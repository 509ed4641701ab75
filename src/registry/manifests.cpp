// GET, HEAD, PUT and DELETE /v2/<name>/manifests/<reference>.
#include <ctime>

#include "common/names.hpp"
#include "crypto/hasher.hpp"
#include "registry/errors.hpp"
#include "registry/handlers.hpp"
#include "registry/manifest.hpp"

namespace berth::registry {
namespace {

// Collects a manifest body in memory, up to the configured limit and within
// the process-wide manifest body budget (see body_budget.hpp).
class ManifestSink final : public http::BodySink {
 public:
  // `event`: the push event to complete and record, when events are on.
  ManifestSink(Deps& d, Route route, Reference ref, std::string content_type,
               std::optional<events::Event> event)
      : d_(d),
        route_(std::move(route)),
        ref_(std::move(ref)),
        content_type_(std::move(content_type)),
        event_(std::move(event)),
        body_(d.manifest_budget, d.options.max_manifest_bytes) {}

  // Reserves the declared Content-Length up front; see BudgetedBody::Claim.
  Status Claim(uint64_t length) { return body_.Claim(length); }

  Status Write(std::span<const char> data) override { return body_.Append(data); }

  http::Response Finish(const Status& body) override {
    http::Response r = body.ok() ? Store() : ErrorResponse(body);
    // Give the memory back now: the session keeps the sink until the
    // response is sent, which a slow reader can drag out.
    body_.Release();
    return r;
  }

 private:
  http::Response Store() {
    DigestAlgorithm algo = DigestAlgorithm::kSha256;
    if (const Digest* want = std::get_if<Digest>(&ref_)) algo = want->algorithm();
    Digest digest = crypto::HashBytes(algo, body_.bytes());
    if (const Digest* want = std::get_if<Digest>(&ref_); want && *want != digest) {
      return ErrorResponse(
          {Errc::kDigestInvalid, "manifest digest is " + digest.str() + ", not " + want->str()});
    }
    auto parsed = ParseManifest(content_type_, body_.bytes());
    if (!parsed) return ErrorResponse(parsed.status());
    storage::ManifestPut put;
    put.record = {digest,          parsed->media_type,    body_.Take(),
                  parsed->subject, parsed->artifact_type, parsed->annotations_json};
    if (const std::string* tag = std::get_if<std::string>(&ref_)) put.tag = *tag;
    put.blob_refs = std::move(parsed->blob_refs);
    put.manifest_refs = std::move(parsed->manifest_refs);
    if (auto s = CheckQuota(); !s.ok()) return ErrorResponse(s);
    if (event_) {  // recorded in the manifest's own transaction
      event_->target.media_type = put.record.media_type;
      event_->target.size = put.record.content.size();
      event_->target.digest = digest.str();
      event_->target.url = "/v2/" + route_.name + "/manifests/" + digest.str();
      event_->target.tag = put.tag.value_or("");
      put.events = d_.events->Rows(std::move(*event_));
    }
    if (auto s = d_.meta.PutManifest(route_.name, put); !s.ok()) return ErrorResponse(s);
    if (!put.events.empty()) d_.events->Recorded();
    http::Response r = NewResponse(201);
    r.Set("Location", "/v2/" + route_.name + "/manifests/" + digest.str());
    r.Set("Docker-Content-Digest", digest.str());
    if (parsed->subject) r.Set("OCI-Subject", *parsed->subject);
    return r;
  }

  // A manifest adds no blob, but a namespace already over its quota (after
  // the quota was lowered) may not publish more images until it shrinks.
  Status CheckQuota() {
    const uint64_t quota = QuotaFor(d_, route_.name);
    if (quota == 0 || !d_.lifecycle.store) return Status::Ok();
    const std::string ns(NamespaceOf(route_.name));
    auto usage = d_.lifecycle.store->Usage(ns);
    if (!usage) return usage.status();
    if (usage->bytes <= quota) return Status::Ok();
    return {Errc::kDenied, storage::QuotaMessage(ns, usage->bytes, 0, quota)};
  }

  Deps& d_;
  const Route route_;
  const Reference ref_;
  const std::string content_type_;
  std::optional<events::Event> event_;
  BudgetedBody body_;
};

}  // namespace

Outcome GetManifest(Deps& d, const Request& req, const Route& route) {
  auto ref = ParseReference(route.param);
  // No manifest can have a name that is neither a tag nor a digest, so it is
  // not found (404), as the spec answers a missing manifest; only a PUT under
  // such a name is a client error (400).
  if (!ref) return Outcome::Reply(ErrorResponse({Errc::kManifestUnknown, "manifest unknown"}));
  auto m = d.meta.GetManifest(route.name, *ref);
  if (!m) return Outcome::Reply(ErrorResponse(m.status()));
  if (const std::string* tag = std::get_if<std::string>(&*ref); tag && d.lifecycle.pulls) {
    // For retention's keep_days; written in batches, not per pull.
    d.lifecycle.pulls->Record(route.name, *tag, std::time(nullptr));
  }
  if (d.events && d.events->pulls() && req.method == "GET") {
    events::Event e = RequestEvent(req, events::kPull, route.name);
    e.target.media_type = m->media_type;
    e.target.size = m->content.size();
    e.target.digest = m->digest.str();
    e.target.url = "/v2/" + route.name + "/manifests/" + m->digest.str();
    if (const std::string* tag = std::get_if<std::string>(&*ref)) e.target.tag = *tag;
    d.events->Post(std::move(e));
  }
  http::Response r = NewResponse(200);
  r.Set("Content-Type", m->media_type);
  r.Set("Docker-Content-Digest", m->digest.str());
  r.Set("Etag", "\"" + m->digest.str() + "\"");
  if (req.method == "HEAD") {
    r.head_length = m->content.size();
  } else {
    r.body = std::move(m->content);
  }
  return Outcome::Reply(std::move(r));
}

Outcome PutManifest(Deps& d, const Request& req, const Route& route) {
  auto ref = ParseReference(route.param);
  if (!ref) {
    Status s = ref.status();
    return Outcome::Reply(ErrorResponse(s));
  }
  std::optional<events::Event> event;
  if (d.events) event = RequestEvent(req, events::kPush, route.name);
  auto sink = std::make_unique<ManifestSink>(d, route, std::move(ref).value(),
                                             std::string(req.Header("Content-Type").value_or("")),
                                             std::move(event));
  // A declared length is checked (413) and reserved (429) before the body is
  // read, so the client is refused before it sends it.
  if (req.content_length) {
    if (auto s = sink->Claim(*req.content_length); !s.ok()) {
      return Outcome::Reply(ErrorResponse(s));
    }
  }
  if (req.has_body) return Outcome::Stream(std::move(sink));
  return Outcome::Reply(sink->Finish(Status::Ok()));
}

Outcome DeleteManifest(Deps& d, const Request& req, const Route& route) {
  auto ref = ParseReference(route.param);
  if (!ref) return Outcome::Reply(ErrorResponse(ref.status()));
  const std::string* tag = std::get_if<std::string>(&*ref);
  // The delete event is recorded in the delete's transaction: it names the
  // tag, or the manifest's digest, as the reference registry's does.
  storage::EventRows rows;
  if (d.events) {
    events::Event e = RequestEvent(req, events::kDelete, route.name);
    if (tag) {
      e.target.tag = *tag;
    } else {
      e.target.digest = std::get<Digest>(*ref).str();
    }
    rows = d.events->Rows(std::move(e));
  }
  Status s = tag ? d.meta.DeleteTag(route.name, *tag, rows)
                 : d.meta.DeleteManifest(route.name, std::get<Digest>(*ref), rows);
  if (!s.ok()) return Outcome::Reply(ErrorResponse(s));
  if (!rows.empty()) d.events->Recorded();
  return Outcome::Reply(NewResponse(202));
}

}  // namespace berth::registry
