// The registry's request handlers, one file per resource (blobs.cpp,
// uploads.cpp, manifests.cpp, tags.cpp, referrers.cpp). Each takes the
// stores through Deps, the parsed route and the request head, and answers
// now or returns a sink for the body.
//
// Thread-safety: handlers run on the blocking pool and share only the
// stores, which are thread-safe.
#pragma once

#include <cstdint>

#include "http/message.hpp"
#include "registry/body_budget.hpp"
#include "registry/routes.hpp"
#include "storage/blob_store.hpp"
#include "storage/metadata_store.hpp"
#include "storage/upload_store.hpp"

namespace berth::registry {

struct Options {
  // Largest manifest accepted; larger gets 413. Default 4 MiB, the spec's floor.
  uint64_t max_manifest_bytes = 4 * 1024 * 1024;
  // Advertised as OCI-Chunk-Min-Length when non-zero. Default 0 (none).
  uint64_t chunk_min_length = 0;
};

struct Deps {
  storage::BlobStore& blobs;
  storage::UploadStore& uploads;
  storage::MetadataStore& meta;
  // Caps the manifest bodies held in memory at once; the Registry passes
  // the process-wide ManifestBodyBudget().
  BodyBudget& manifest_budget;
  const Options options;
};

using Outcome = http::Outcome;
using Request = http::Request;

Outcome GetBlob(Deps& d, const Request& req, const Route& route);
Outcome DeleteBlob(Deps& d, const Request& req, const Route& route);

Outcome StartUpload(Deps& d, const Request& req, const Route& route);
Outcome UploadStatus(Deps& d, const Request& req, const Route& route);
Outcome PatchUpload(Deps& d, const Request& req, const Route& route);
Outcome PutUpload(Deps& d, const Request& req, const Route& route);
Outcome CancelUpload(Deps& d, const Request& req, const Route& route);

Outcome GetManifest(Deps& d, const Request& req, const Route& route);
Outcome PutManifest(Deps& d, const Request& req, const Route& route);
Outcome DeleteManifest(Deps& d, const Request& req, const Route& route);

Outcome ListTags(Deps& d, const Request& req, const Route& route);
Outcome Catalog(Deps& d, const Request& req, const Route& route);
Outcome Referrers(Deps& d, const Request& req, const Route& route);

}  // namespace berth::registry
