// GET /v2/<name>/referrers/<digest>: an OCI index of the manifests in the
// repository whose subject is <digest>, optionally filtered by artifactType.
#include <boost/json.hpp>

#include "common/media_types.hpp"
#include "registry/errors.hpp"
#include "registry/handlers.hpp"

namespace berth::registry {

Outcome Referrers(Deps& d, const Request& req, const Route& route) {
  auto subject = Digest::Parse(route.param);
  if (!subject) return Outcome::Reply(ErrorResponse(subject.status()));
  std::optional<std::string> filter;
  if (auto at = req.Query("artifactType")) filter = std::string(*at);
  auto refs = d.meta.ListReferrers(route.name, *subject, filter);
  if (!refs) return Outcome::Reply(ErrorResponse(refs.status()));

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
  boost::json::object index{{"schemaVersion", 2},
                            {"mediaType", media::kOciIndex},
                            {"manifests", std::move(manifests)}};
  http::Response r = NewResponse(200);
  r.Set("Content-Type", std::string(media::kOciIndex));
  if (filter) r.Set("OCI-Filters-Applied", "artifactType");
  r.body = boost::json::serialize(index);
  return Outcome::Reply(std::move(r));
}

}  // namespace berth::registry
