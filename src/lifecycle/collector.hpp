// Collector: online garbage collection and retention, run in the background
// every gc.interval and on demand (POST /v2/_berth/gc). The order of the
// steps and why a crash or a concurrent push cannot lose referenced data are
// in docs/lifecycle.md; each step's deletions are conditional transactions
// of the LifecycleStore, and blob files go only under their DigestLocks.
//
// Thread-safety: Run may be called from any thread; runs are serialised (a
// caller waits for the one under way). Start/Stop from one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_annotations.hpp"
#include "lifecycle/pull_recorder.hpp"
#include "lifecycle/retention.hpp"
#include "storage/blob_store.hpp"
#include "storage/cluster_lock.hpp"
#include "storage/digest_locks.hpp"
#include "storage/lifecycle_store.hpp"
#include "storage/metadata_store.hpp"
#include "storage/upload_store.hpp"

namespace berth::lifecycle {

struct CollectorOptions {
  int64_t interval = 3600;         // seconds between background runs; 0: on demand only
  int64_t delay = 3600;            // gc.delay: unreferenced blob links
  int64_t untagged_delay = 86400;  // gc.untagged_delay: untagged manifests
  int64_t upload_max_age = 86400;  // uploads.max_age
  size_t batch = 256;              // rows per deleting transaction
  std::vector<RetentionPolicy> retention;
  bool retention_dry_run = false;  // retention.dry_run: report, never delete tags
  int64_t pull_flush = 30;         // seconds between pull-time flushes
  // Where a dry run writes its private copy of the metadata (same
  // filesystem as the store); empty: dry runs are refused.
  std::string dry_run_path;
  // Several berths on shared stores: a run collects only while it holds the
  // cluster lock "gc" (one node at a time; the others skip with kBusy).
  // Null: this process is the only one.
  storage::ClusterLocks* cluster = nullptr;
};

struct TagRef {
  std::string repository;
  std::string tag;
};

// What one run did (or, dry, would do). Lists are capped at kMaxListed.
struct GcReport {
  static constexpr size_t kMaxListed = 1000;
  bool dry_run = false;
  double seconds = 0;
  uint64_t tags_deleted = 0;
  uint64_t manifests_deleted = 0;
  uint64_t links_deleted = 0;
  uint64_t blobs_deleted = 0;
  uint64_t bytes_freed = 0;
  uint64_t orphan_files_deleted = 0;
  uint64_t uploads_deleted = 0;
  std::vector<TagRef> tags;
  std::vector<storage::RepoEntry> manifests;
};

// Real (not dry) runs since start, for metrics.
struct GcTotals {
  uint64_t runs = 0;
  uint64_t failures = 0;  // runs that stopped on an error
  uint64_t tags_deleted = 0, manifests_deleted = 0, links_deleted = 0, blobs_deleted = 0;
  uint64_t bytes_freed = 0, orphan_files_deleted = 0, uploads_deleted = 0;
  double last_seconds = 0;   // duration of the last finished run
  int64_t last_success = 0;  // Unix time the last run finished without error; 0: none yet
};

class Collector {
 public:
  // Everything must outlive the Collector. `pulls` may be null.
  Collector(storage::MetadataStore& meta, storage::LifecycleStore& store, storage::BlobStore& blobs,
            storage::UploadStore& uploads, storage::DigestLocks& locks, PullRecorder* pulls,
            CollectorOptions options);
  ~Collector();

  // One collection now. kBusy when another node is collecting (a shared
  // store's cluster lock); nothing is done then. Errors end the run early; what was done stays done
  // (the next run goes on from there). A dry run collects on a copy of the
  // metadata with the same code, removing no file: its counts are exact.
  Result<GcReport> Run(bool dry_run);

  // Starts the background thread: pull flushes, and runs every interval
  // (the first soon after start, so that a node taking over finishes the
  // work of one that died mid-run).
  void Start();
  // Stops the thread after the step under way, and flushes pull times.
  void Stop();
  // Asks a run under way (background or on demand) to end after its current
  // batch, without waiting for it; for the start of a shutdown.
  void RequestStop();

  GcTotals Totals() const;

 private:
  // The steps of a run, with run_mu_ held; `simulate` (on a copy): files and
  // uploads are only counted.
  Result<GcReport> Collect(bool simulate) REQUIRES(run_mu_);
  Result<GcReport> DryRun();
  Status Retention(int64_t now, GcReport& r) REQUIRES(run_mu_);
  Status Manifests(GcReport& r) REQUIRES(run_mu_);
  Status Links(int64_t now, GcReport& r) REQUIRES(run_mu_);
  Status Blobs(GcReport& r) REQUIRES(run_mu_);
  Status OrphanFiles(GcReport& r) REQUIRES(run_mu_);
  // OK while this run may go on: not stopping, and still the only node
  // collecting (its cluster lock held).
  Status MayContinue() REQUIRES(run_mu_);
  void Loop();
  bool Stopping();

  storage::MetadataStore& meta_;
  storage::LifecycleStore& store_;
  storage::BlobStore& blobs_;
  storage::UploadStore& uploads_;
  storage::DigestLocks& locks_;
  PullRecorder* pulls_;
  const CollectorOptions options_;

  Mutex run_mu_;                                                      // one run at a time
  storage::ClusterLock* cluster_lock_ GUARDED_BY(run_mu_) = nullptr;  // the run's, if any
  mutable Mutex totals_mu_;
  GcTotals totals_ GUARDED_BY(totals_mu_);
  Mutex mu_;
  std::condition_variable wake_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace berth::lifecycle
