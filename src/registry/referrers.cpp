// GET /v2/<name>/referrers/<digest>: an OCI index of the manifests in the
// repository whose subject is <digest>, optionally filtered by artifactType.
// Paged like the tag list (paging.hpp): in digest order, `n` and `last`, at
// most kMaxPageSize descriptors a page, and a Link header when more remain.
#include <boost/json.hpp>

#include "common/media_types.hpp"
#include "registry/errors.hpp"
#include "registry/handlers.hpp"
#include "registry/paging.hpp"

namespace berth::registry {

Outcome Referrers(Deps& d, const Request& req, const Route& route) {
  auto subject = Digest::Parse(route.param);
  if (!subject) return Outcome::Reply(ErrorResponse(subject.status()));
  auto page = ParsePage(req);
  if (!page) return Outcome::Reply(ErrorResponse(page.status()));
  std::optional<std::string> filter;
  if (auto at = req.Query("artifactType")) filter = std::string(*at);
  // One more than the page tells whether to link on.
  auto refs = d.meta.ListReferrers(route.name, *subject, filter, page->last, page->n + 1);
  if (!refs) return Outcome::Reply(ErrorResponse(refs.status()));

  http::Response r = NewResponse(200);
  if (refs->size() > page->n) {
    refs->resize(page->n);
    if (!refs->empty()) {
      std::string extra = filter ? "artifactType=" + QueryEscape(*filter) : std::string();
      r.Set("Link", NextLink("/v2/" + route.name + "/referrers/" + subject->str(), *page,
                             refs->back().digest, extra));
    }
  }
  boost::json::array manifests;
  for (const auto& m : *refs) {
    boost::json::object desc{{"mediaType", m.media_type}, {"digest", m.digest}, {"size", m.size}};
    if (m.artifact_type) desc["artifactType"] = *m.artifact_type;
    if (m.annotations_json) {
      boost::system::error_code ec;
      auto ann = boost::json::parse(*m.annotations_json, ec);
      if (!ec) desc["annotations"] = std::move(ann);
    }
    manifests.emplace_back(std::move(desc));
  }
  boost::json::object index{
      {"schemaVersion", 2}, {"mediaType", media::kOciIndex}, {"manifests", std::move(manifests)}};
  r.Set("Content-Type", std::string(media::kOciIndex));
  if (filter) r.Set("OCI-Filters-Applied", "artifactType");
  r.body = boost::json::serialize(index);
  return Outcome::Reply(std::move(r));
}

}  // namespace berth::registry
