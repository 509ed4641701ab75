// berth's admin extensions, for `berth gc` and `berth usage`:
// POST /v2/_berth/gc[?dry_run=true] and GET /v2/_berth/usage[?namespace=NS].
// The JSON they answer is documented in docs/lifecycle.md.
#include <boost/json.hpp>

#include "common/names.hpp"
#include "registry/errors.hpp"
#include "registry/handlers.hpp"

namespace berth::registry {
namespace {

http::Response Json(const boost::json::object& body) {
  http::Response r = NewResponse(200);
  r.Set("Content-Type", "application/json");
  r.body = boost::json::serialize(body);
  return r;
}

boost::json::object ToJson(const lifecycle::GcReport& g) {
  boost::json::array tags, manifests;
  for (const auto& t : g.tags) tags.push_back({{"repository", t.repository}, {"tag", t.tag}});
  for (const auto& m : g.manifests) {
    manifests.push_back({{"repository", m.repository}, {"digest", m.digest}});
  }
  return {{"dry_run", g.dry_run},
          {"seconds", g.seconds},
          {"tags_deleted", g.tags_deleted},
          {"manifests_deleted", g.manifests_deleted},
          {"links_deleted", g.links_deleted},
          {"blobs_deleted", g.blobs_deleted},
          {"orphan_files_deleted", g.orphan_files_deleted},
          {"bytes_freed", g.bytes_freed},
          {"uploads_deleted", g.uploads_deleted},
          {"tags", std::move(tags)},
          {"manifests", std::move(manifests)}};
}

boost::json::object ToJson(const storage::NamespaceUsage& u, uint64_t quota) {
  return {{"namespace", u.name},
          {"used_bytes", u.bytes},
          {"quota_bytes", quota},
          {"repositories", u.repositories},
          {"blobs", u.blobs}};
}

}  // namespace

uint64_t QuotaFor(const Deps& d, std::string_view repository) {
  return d.lifecycle.quotas ? d.lifecycle.quotas->LimitFor(NamespaceOf(repository)) : 0;
}

Outcome RunGc(Deps& d, const Request& req, const Route&) {
  if (!d.lifecycle.collector) {
    return Outcome::Reply(
        ErrorResponse({Errc::kUnsupported, "garbage collection is not available"}));
  }
  auto dry = req.Query("dry_run");
  const bool dry_run = dry && (*dry == "true" || *dry == "1");
  auto report = d.lifecycle.collector->Run(dry_run);
  if (!report) return Outcome::Reply(ErrorResponse(report.status()));
  return Outcome::Reply(Json(ToJson(*report)));
}

Outcome Usage(Deps& d, const Request& req, const Route&) {
  if (!d.lifecycle.store) {
    return Outcome::Reply(ErrorResponse({Errc::kUnsupported, "usage is not available"}));
  }
  boost::json::array out;
  auto add = [&](const std::string& ns) -> Status {
    auto u = d.lifecycle.store->Usage(ns);
    if (!u) return u.status();
    out.push_back(ToJson(*u, d.lifecycle.quotas ? d.lifecycle.quotas->LimitFor(ns) : 0));
    return Status::Ok();
  };
  if (auto ns = req.Query("namespace")) {
    auto u = d.lifecycle.store->Usage(std::string(*ns));
    if (!u) return Outcome::Reply(ErrorResponse(u.status()));
    if (u->repositories == 0) {
      return Outcome::Reply(
          ErrorResponse({Errc::kNameUnknown, "no repository in namespace " + std::string(*ns)}));
    }
    if (auto s = add(std::string(*ns)); !s.ok()) return Outcome::Reply(ErrorResponse(s));
  } else {
    std::string last;
    while (true) {
      auto page = d.lifecycle.store->ListNamespaces(last, 1000);
      if (!page) return Outcome::Reply(ErrorResponse(page.status()));
      if (page->empty()) break;
      last = page->back();
      for (const auto& ns : *page) {
        if (auto s = add(ns); !s.ok()) return Outcome::Reply(ErrorResponse(s));
      }
    }
  }
  return Outcome::Reply(Json({{"namespaces", std::move(out)}}));
}

}  // namespace berth::registry
