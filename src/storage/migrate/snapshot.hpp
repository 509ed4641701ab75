// SourceSnapshot: everything `berth migrate-store` copies out of a
// filesystem + SQLite storage root, read from metadata.db in one read
// transaction, so it is one consistent state even while a berth keeps
// writing to the database (WAL: the reader never blocks the writer, and the
// writer never changes what the reader sees).
//
// Thread-safety: ReadSnapshot is reentrant; a snapshot is a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "storage/metadata_store.hpp"

namespace berth::storage::migrate {

struct SnapshotLink {
  std::string repository;
  Digest digest{DigestAlgorithm::kSha256, ""};
  uint64_t size = 0;
};

// A blob linked into at least one repository; `repository` is the first
// (by name) that links it, the one its upload session is opened for.
struct SnapshotBlob {
  Digest digest{DigestAlgorithm::kSha256, ""};
  uint64_t size = 0;
  std::string repository;
};

struct SnapshotManifest {
  std::string repository;
  ManifestRecord record;
  // manifest_refs rows split by what the ref names in the same repository:
  // a manifest there (an index's child) or else a blob.
  std::vector<std::string> blob_refs;
  std::vector<std::string> manifest_refs;
};

struct SnapshotTag {
  std::string repository;
  std::string name;
  std::string digest;
};

struct SourceSnapshot {
  std::vector<SnapshotBlob> blobs;  // digest order
  std::vector<SnapshotLink> links;  // (repository, digest) order
  std::vector<SnapshotManifest> manifests;
  std::vector<SnapshotTag> tags;
  uint64_t unlinked_blobs = 0;  // rows no repository links (GC's next prey): not copied
};

// Reads the snapshot from the SQLite database at `db_path`, opened
// read-only (nothing is created or written beside it but SQLite's own -shm).
// Rows whose digest does not parse are skipped and counted in `*bad_rows`.
// kInternal when the file cannot be read or has a schema newer than this
// berth knows.
Result<SourceSnapshot> ReadSnapshot(const std::string& db_path, uint64_t* bad_rows);

}  // namespace berth::storage::migrate
