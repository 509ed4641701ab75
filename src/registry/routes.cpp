#include "registry/routes.hpp"

#include <vector>

#include "common/names.hpp"

namespace berth::registry {
namespace {

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    parts.push_back(s.substr(start, slash == s.npos ? s.npos : slash - start));
    if (slash == s.npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string Join(const std::vector<std::string_view>& parts, size_t end) {
  std::string out;
  for (size_t i = 0; i < end; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

}  // namespace

Result<Route> ParseRoute(std::string_view path) {
  if (path == "/v2/" || path == "/v2") return Route{Endpoint::kBase, "", ""};
  if (path == "/v2/_catalog") return Route{Endpoint::kCatalog, "", ""};
  if (path == "/v2/_berth/gc") return Route{Endpoint::kAdminGc, "", ""};
  if (path == "/v2/_berth/usage") return Route{Endpoint::kAdminUsage, "", ""};
  if (path.substr(0, 4) != "/v2/") return Status(Errc::kNotFound, "no such endpoint");
  auto p = Split(path.substr(4));
  const size_t n = p.size();
  Route r;
  size_t name_end = 0;
  if (n >= 3 && p[n - 3] == "blobs" && p[n - 2] == "uploads") {
    r.endpoint = p[n - 1].empty() ? Endpoint::kUploadStart : Endpoint::kUpload;
    r.param = std::string(p[n - 1]);
    name_end = n - 3;
  } else if (n >= 3 && p[n - 2] == "blobs" && p[n - 1] == "uploads") {
    r.endpoint = Endpoint::kUploadStart;  // POST without the trailing slash
    name_end = n - 2;
  } else if (n >= 3 && p[n - 2] == "tags" && p[n - 1] == "list") {
    r.endpoint = Endpoint::kTags;
    name_end = n - 2;
  } else if (n >= 3 && p[n - 2] == "manifests") {
    r.endpoint = Endpoint::kManifest;
    r.param = std::string(p[n - 1]);
    name_end = n - 2;
  } else if (n >= 3 && p[n - 2] == "blobs") {
    r.endpoint = Endpoint::kBlob;
    r.param = std::string(p[n - 1]);
    name_end = n - 2;
  } else if (n >= 3 && p[n - 2] == "referrers") {
    r.endpoint = Endpoint::kReferrers;
    r.param = std::string(p[n - 1]);
    name_end = n - 2;
  } else {
    return Status(Errc::kNotFound, "no such endpoint");
  }
  if ((r.endpoint != Endpoint::kUploadStart && r.endpoint != Endpoint::kTags) && r.param.empty()) {
    return Status(Errc::kNotFound, "no such endpoint");
  }
  r.name = Join(p, name_end);
  if (auto s = ValidateRepositoryName(r.name); !s.ok()) return s;
  return r;
}

namespace {
struct Named {
  Endpoint endpoint;
  std::string_view name;
};
constexpr Named kNames[] = {
    {Endpoint::kBase, "base"},        {Endpoint::kCatalog, "catalog"},
    {Endpoint::kTags, "tags"},        {Endpoint::kManifest, "manifest"},
    {Endpoint::kBlob, "blob"},        {Endpoint::kUploadStart, "upload_start"},
    {Endpoint::kUpload, "upload"},    {Endpoint::kReferrers, "referrers"},
    {Endpoint::kAdminGc, "admin_gc"}, {Endpoint::kAdminUsage, "admin_usage"},
};
}  // namespace

std::string_view EndpointName(Endpoint e) {
  for (const auto& n : kNames) {
    if (n.endpoint == e) return n.name;
  }
  return "other";
}

std::vector<std::string_view> EndpointNames() {
  std::vector<std::string_view> out;
  for (const auto& n : kNames) out.push_back(n.name);
  return out;
}

}  // namespace berth::registry
