// The registry's request handlers, one file per resource (blobs.cpp,
// uploads.cpp, manifests.cpp, tags.cpp, referrers.cpp). Each takes the
// stores through Deps, the parsed route and the request head, and answers
// now or returns a sink for the body.
//
// Thread-safety: handlers run on the blocking pool and share only the
// stores, which are thread-safe.
#pragma once

#include <cstdint>

#include "events/emitter.hpp"
#include "http/message.hpp"
#include "lifecycle/collector.hpp"
#include "lifecycle/pull_recorder.hpp"
#include "lifecycle/quota.hpp"
#include "registry/body_budget.hpp"
#include "registry/routes.hpp"
#include "storage/blob_store.hpp"
#include "storage/digest_locks.hpp"
#include "storage/lifecycle_store.hpp"
#include "storage/metadata_store.hpp"
#include "storage/upload_store.hpp"

namespace berth::registry {

struct Options {
  // Largest manifest accepted; larger gets 413. Default 4 MiB, the spec's floor.
  uint64_t max_manifest_bytes = 4 * 1024 * 1024;
  // Advertised as OCI-Chunk-Min-Length when non-zero. Default 0 (none).
  uint64_t chunk_min_length = 0;
  // The blob store waits on the network (S3): blob GET and HEAD (Stat,
  // OpenRange) then run on the blocking pool instead of the I/O thread
  // (Handler::Quick). Default false: files, answered from the page cache.
  bool blobs_on_network = false;
  // The metadata store waits on the network (PostgreSQL): every request but
  // GET /v2/ runs on the blocking pool, so a slow query never stalls the
  // connections of an I/O thread. Default false: SQLite, answered from the
  // page cache.
  bool metadata_on_network = false;
};

// The storage lifecycle parts the registry uses (docs/lifecycle.md). Each
// may be null: no quotas, no pull times, no admin GC or usage endpoints.
struct LifecycleParts {
  storage::LifecycleStore* store = nullptr;
  const lifecycle::QuotaPolicy* quotas = nullptr;
  lifecycle::PullRecorder* pulls = nullptr;
  lifecycle::Collector* collector = nullptr;
};

struct Deps {
  storage::BlobStore& blobs;
  storage::UploadStore& uploads;
  storage::MetadataStore& meta;
  // Caps the manifest bodies held in memory at once; the Registry passes
  // the process-wide ManifestBodyBudget().
  BodyBudget& manifest_budget;
  const Options options;
  // Held while an upload is published and linked (GC holds it to remove).
  storage::DigestLocks& locks;
  const LifecycleParts lifecycle;
  // Webhook events (src/events/); null when no endpoint is configured.
  events::Emitter* const events = nullptr;
};

// The quota of `repository`'s namespace in bytes; 0 when none applies.
uint64_t QuotaFor(const Deps& d, std::string_view repository);

using Outcome = http::Outcome;
using Request = http::Request;

// The event `req` makes on `repository` (request record, actor); the
// Emitter fills in id, time and source.
events::Event RequestEvent(const Request& req, std::string_view action,
                           const std::string& repository);

// Posts a blob event (push, pull, mount; `from` for mounts) when events are
// on and notifications.blobs asks for blob events.
void PostBlobEvent(Deps& d, const Request& req, std::string_view action,
                   const std::string& repository, const Digest& digest, uint64_t size,
                   const std::string& from = "");

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

// Admin extensions (registry:admin:*): POST /v2/_berth/gc, GET /v2/_berth/usage.
Outcome RunGc(Deps& d, const Request& req, const Route& route);
Outcome Usage(Deps& d, const Request& req, const Route& route);

}  // namespace berth::registry
