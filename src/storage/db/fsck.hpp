// Fsck: checks a storage root while berth serves it. Every blob file must
// hash to its name; every link, manifest reference and tag in metadata.db
// must point at something that exists. Problems are reported one per line as
// JSON, so a script can read them. With repair, corrupted blob files are
// moved to <root>/quarantine/ (the registry then answers BLOB_UNKNOWN until a
// client pushes the blob again) and dangling rows are dropped.
//
// Thread-safety: one Fsck at a time per root; safe alongside a running
// berth (SQLite WAL readers, renames only).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.hpp"

namespace berth::storage {

struct FsckProblem {
  std::string kind;  // corrupt_blob, missing_blob_file, dangling_link, dangling_ref, dangling_tag,
                     // stray_file
  std::string subject;  // digest, repository:tag, path…
  std::string detail;
  bool repaired = false;
};

struct FsckSummary {
  uint64_t blobs_checked = 0;
  uint64_t bytes_checked = 0;
  uint64_t rows_checked = 0;
  uint64_t problems = 0;
  uint64_t repaired = 0;
};

// Runs the checks on `root`; calls `report` for each problem as it is found.
// kInternal only when the store cannot be read at all.
Result<FsckSummary> RunFsck(const std::string& root, bool repair,
                            const std::function<void(const FsckProblem&)>& report);

}  // namespace berth::storage
