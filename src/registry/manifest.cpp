#include "registry/manifest.hpp"

#include <boost/json.hpp>

#include "common/digest.hpp"
#include "common/media_types.hpp"

namespace berth::registry {
namespace {

namespace json = boost::json;

Status Invalid(std::string why) { return {Errc::kManifestInvalid, std::move(why)}; }

bool IsImageManifest(std::string_view t) {
  return t == media::kOciManifest || t == media::kDockerManifest;
}
bool IsIndex(std::string_view t) {
  return t == media::kOciIndex || t == media::kDockerManifestList;
}
bool IsKnown(std::string_view t) { return IsImageManifest(t) || IsIndex(t); }
bool IsSchema1(std::string_view t) {
  return t == media::kDockerSchema1 || t == media::kDockerSchema1Signed ||
         t == "application/vnd.docker.distribution.manifest.v1+json";
}

// "type/subtype; charset=…" → "type/subtype".
std::string_view BareType(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  while (!ct.empty() && ct.front() == ' ') ct.remove_prefix(1);
  return ct;
}

// Checks one descriptor and returns its digest.
Result<std::string> Descriptor(const json::value& v, const std::string& where) {
  const json::object* o = v.if_object();
  if (!o) return Invalid(where + " is not a descriptor object");
  const json::value* mt = o->if_contains("mediaType");
  if (!mt || !mt->is_string()) return Invalid(where + ".mediaType must be a string");
  const json::value* dg = o->if_contains("digest");
  if (!dg || !dg->is_string()) return Invalid(where + ".digest must be a string");
  auto d = Digest::Parse(std::string_view(dg->as_string()));
  if (!d) return Invalid(where + ".digest: " + d.status().message());
  const json::value* size = o->if_contains("size");
  if (!size || !(size->is_int64() || size->is_uint64()) ||
      (size->is_int64() && size->as_int64() < 0)) {
    return Invalid(where + ".size must be a non-negative integer");
  }
  return d->str();
}

bool HasUrls(const json::value& v) {
  const json::value* u = v.as_object().if_contains("urls");
  return u && u->is_array() && !u->as_array().empty();
}

}  // namespace

Result<ParsedManifest> ParseManifest(std::string_view content_type, std::string_view body) {
  std::string_view ct = BareType(content_type);
  if (IsSchema1(ct)) {
    return Invalid("Docker schema 1 manifests are not supported; push schema 2 or OCI");
  }
  boost::system::error_code ec;
  json::value doc = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec) return Invalid("manifest is not valid JSON: " + ec.message());
  const json::object* root = doc.if_object();
  if (!root) return Invalid("manifest is not a JSON object");

  const json::value* sv = root->if_contains("schemaVersion");
  if (sv && sv->is_int64() && sv->as_int64() == 1) {
    return Invalid("Docker schema 1 manifests are not supported; push schema 2 or OCI");
  }
  if (!sv || !sv->is_int64() || sv->as_int64() != 2) return Invalid("schemaVersion must be 2");

  std::optional<std::string> field;
  if (const json::value* mt = root->if_contains("mediaType")) {
    if (!mt->is_string()) return Invalid("mediaType must be a string");
    field = std::string(mt->as_string());
  }
  ParsedManifest out;
  if (IsKnown(ct)) {
    if (field && *field != ct) {
      return Invalid("mediaType " + *field + " does not match Content-Type " + std::string(ct));
    }
    out.media_type = std::string(ct);
  } else if (!ct.empty() && ct != "application/json" && ct != "application/octet-stream") {
    return Invalid("unsupported manifest media type " + std::string(ct));
  } else if (field) {
    if (!IsKnown(*field)) return Invalid("unsupported manifest media type " + *field);
    out.media_type = *field;
  } else if (root->contains("manifests")) {
    out.media_type = std::string(media::kOciIndex);
  } else if (root->contains("config")) {
    out.media_type = std::string(media::kOciManifest);
  } else {
    return Invalid("cannot tell the manifest's media type");
  }

  if (IsImageManifest(out.media_type)) {
    const json::value* config = root->if_contains("config");
    if (!config) return Invalid("image manifest has no config");
    auto cd = Descriptor(*config, "config");
    if (!cd) return cd.status();
    out.blob_refs.push_back(*cd);
    const json::value* layers = root->if_contains("layers");
    if (!layers || !layers->is_array()) return Invalid("layers must be an array");
    size_t i = 0;
    for (const auto& l : layers->as_array()) {
      auto ld = Descriptor(l, "layers[" + std::to_string(i++) + "]");
      if (!ld) return ld.status();
      // Foreign (non-distributable) layers live elsewhere, named by urls.
      if (!HasUrls(l)) out.blob_refs.push_back(*ld);
    }
    if (const json::value* at = root->if_contains("artifactType"); at && at->is_string()) {
      out.artifact_type = std::string(at->as_string());
    } else {
      out.artifact_type = std::string(config->as_object().at("mediaType").as_string());
    }
  } else {
    const json::value* ms = root->if_contains("manifests");
    if (!ms || !ms->is_array()) return Invalid("manifests must be an array");
    size_t i = 0;
    for (const auto& m : ms->as_array()) {
      auto md = Descriptor(m, "manifests[" + std::to_string(i++) + "]");
      if (!md) return md.status();
      out.manifest_refs.push_back(*md);
    }
    if (const json::value* at = root->if_contains("artifactType"); at && at->is_string()) {
      out.artifact_type = std::string(at->as_string());
    }
  }

  if (const json::value* subject = root->if_contains("subject")) {
    auto sd = Descriptor(*subject, "subject");
    if (!sd) return sd.status();
    out.subject = *sd;
  }
  if (const json::value* ann = root->if_contains("annotations")) {
    if (!ann->is_object()) return Invalid("annotations must be an object");
    out.annotations_json = json::serialize(*ann);
  }
  return out;
}

}  // namespace berth::registry
