// MigrateStore: copies a filesystem + SQLite storage root into any other
// set of stores (normally S3 blobs + PostgreSQL metadata), writing only
// through the store interfaces, so whatever the target is, every byte goes
// through the same checks as a push: each blob through an upload session
// whose Complete verifies its digest, each manifest through PutManifest.
//
// Online-safe and idempotent: the source metadata is read as one snapshot
// (snapshot.hpp) while a berth may keep serving it; what the target already
// holds is skipped. A cut-over is: run while serving, stop the source, run
// again (copies only what came since), start the new nodes. A run while the
// source serves may report a blob its GC removed after the snapshot
// (missing_source); the run after the source stopped is the one that counts.
// Tags moved between runs are moved in the target too; tags and manifests
// deleted from the source between runs stay in the target.
//
// Not copied: refresh tokens (tokens.db; users log in again), pending
// webhook events (the old node delivers them before it stops), upload
// sessions in progress, blobs no repository links, repositories that hold
// nothing, and the lifecycle times (pushed/pulled/touched): the target
// stamps tags and links with the time of the copy.
//
// Thread-safety: one MigrateStore per target at a time; it runs
// `options.jobs` threads of its own on the blob stores, and calls the
// callbacks from them one at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.hpp"
#include "storage/blob_store.hpp"
#include "storage/metadata_store.hpp"
#include "storage/upload_store.hpp"

namespace berth::storage::migrate {

// Where the copy goes. The three must belong together (uploads complete
// into `blobs`), as cli::OpenRegistryStores opens them.
struct MigrateTarget {
  BlobStore& blobs;
  UploadStore& uploads;
  MetadataStore& meta;
};

struct MigrateOptions {
  // Blobs copied at once (threads). At least 1.
  int jobs = 4;
  // Also read back every blob the target already has and hash it (costs a
  // full read of the target); without it a blob of the right size is trusted.
  bool verify = false;
  // Bytes read from the source and appended per call.
  size_t chunk_bytes = 1 << 20;
  // Bytes appended between two Keep calls (each one an fdatasync or an S3
  // part): bounds what a target's session buffers.
  uint64_t keep_bytes = 64 << 20;
};

// Something that was not copied or did not verify. kinds: corrupt_source
// (the file does not hash to its name; not copied), missing_source,
// source_size (the file's size is not the row's), target_mismatch (the
// target holds the digest with another size or other content), bad_row,
// copy_failed, link_failed, manifest_failed, tag_failed, verify.
struct MigrateProblem {
  std::string kind;
  std::string subject;  // digest, repository@digest or repository:tag
  std::string detail;
};

struct MigrateProgress {
  const char* phase = "";  // "blobs", "links", "manifests", "tags", "verify"
  uint64_t done = 0;
  uint64_t total = 0;
  uint64_t bytes = 0;  // blobs: bytes copied or checked so far
};

struct MigrateReport {
  uint64_t blobs_total = 0;
  uint64_t blobs_copied = 0;
  uint64_t blobs_skipped =
      0;                   // already in the target with the right size (and content, with verify)
  uint64_t blobs_bad = 0;  // not copied: corrupt or missing source, or a mismatching target
  uint64_t bytes_copied = 0;
  uint64_t bytes_total = 0;     // of all linked blobs in the snapshot
  uint64_t unlinked_blobs = 0;  // in the source's blobs table, linked nowhere: ignored
  uint64_t links_new = 0, links_existing = 0;
  uint64_t manifests_new = 0, manifests_existing = 0;
  uint64_t tags_new = 0, tags_existing = 0;
  uint64_t problems = 0;         // every MigrateProblem reported
  uint64_t verify_failures = 0;  // of the final check (also counted in problems)
  double seconds = 0;
  bool ok() const { return problems == 0; }
};

// Copies `source_root` (blobs/ and metadata.db) into `target`, calling
// `problem` for each thing not copied and `progress` now and then (both may
// be empty). Problems do not stop the run: everything else is copied and the
// report counts them, a failing target call included. An error only when
// the source's metadata cannot be read (kInternal).
Result<MigrateReport> MigrateStore(const std::string& source_root, const MigrateTarget& target,
                                   const MigrateOptions& options,
                                   const std::function<void(const MigrateProblem&)>& problem,
                                   const std::function<void(const MigrateProgress&)>& progress);

}  // namespace berth::storage::migrate
