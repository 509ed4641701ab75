#include "lifecycle/collector.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace berth::lifecycle {
namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The store's cut-off for "untouched for more than `delay` seconds"; with a
// delay of 0, what was touched this very second goes too.
int64_t Before(int64_t now, int64_t delay) { return now - delay + 1; }

// At most this many manifest passes per run: each pass frees the children
// of the indexes the last one removed, and real indexes nest one deep.
constexpr int kMaxManifestPasses = 16;

}  // namespace

Collector::Collector(storage::MetadataStore& meta, storage::LifecycleStore& store,
                     storage::BlobStore& blobs, storage::UploadStore& uploads,
                     storage::DigestLocks& locks, PullRecorder* pulls, CollectorOptions options)
    : meta_(meta),
      store_(store),
      blobs_(blobs),
      uploads_(uploads),
      locks_(locks),
      pulls_(pulls),
      options_(std::move(options)) {}

Collector::~Collector() { Stop(); }

Result<GcReport> Collector::Run(bool dry_run) {
  MutexLock run(run_mu_);
  storage::ClusterLockPtr alone;
  if (options_.cluster && !dry_run) {
    auto held = options_.cluster->TryLock("gc");
    if (!held) {
      if (held.status().code() == Errc::kBusy) {
        spdlog::info("gc: another registry node is collecting; this run is skipped");
        return Status(Errc::kBusy,
                      "another registry node is collecting garbage now; try again later");
      }
      spdlog::error("gc: cannot take the cluster lock: {}", held.status().message());
      return held.status();
    }
    alone = std::move(held).value();
  }
  cluster_lock_ = alone.get();
  struct Forget {
    storage::ClusterLock*& lock;
    ~Forget() { lock = nullptr; }
  } forget{cluster_lock_};
  const auto start = std::chrono::steady_clock::now();
  // Retention reads pull times: bring them up to date first.
  if (pulls_) {
    if (auto s = pulls_->Flush(store_); !s.ok())
      spdlog::warn("gc: pull times not written: {}", s.message());
  }
  auto r = dry_run ? DryRun() : Collect(false);
  if (!r) {
    spdlog::error("gc{}: stopped: {}", dry_run ? " (dry run)" : "", r.status().message());
    if (!dry_run) {
      MutexLock lock(totals_mu_);
      ++totals_.runs;
      ++totals_.failures;
    }
    return r;
  }
  r->dry_run = dry_run;
  r->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!dry_run) {
    MutexLock lock(totals_mu_);
    GcTotals& t = totals_;
    ++t.runs;
    t.tags_deleted += r->tags_deleted;
    t.manifests_deleted += r->manifests_deleted;
    t.links_deleted += r->links_deleted;
    t.blobs_deleted += r->blobs_deleted;
    t.bytes_freed += r->bytes_freed;
    t.orphan_files_deleted += r->orphan_files_deleted;
    t.uploads_deleted += r->uploads_deleted;
    t.last_seconds = r->seconds;
    t.last_success = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  }
  spdlog::info(
      "gc{}: {:.2f} s, tags {}, manifests {}, links {}, blobs {} ({} bytes), orphan files {}, "
      "uploads {}",
      dry_run ? " (dry run)" : "", r->seconds, r->tags_deleted, r->manifests_deleted,
      r->links_deleted, r->blobs_deleted, r->bytes_freed, r->orphan_files_deleted,
      r->uploads_deleted);
  return r;
}

GcTotals Collector::Totals() const {
  MutexLock lock(totals_mu_);
  return totals_;
}

namespace {

// The blob store a dry run collects against: removing only remembers, and
// the walk skips what was "removed", so nothing is counted twice.
class CountingBlobStore final : public storage::BlobStore {
 public:
  explicit CountingBlobStore(storage::BlobStore& real) : real_(real) {}
  Result<storage::OpenBlob> Open(const Digest& d) override { return real_.Open(d); }
  Result<uint64_t> Stat(const Digest& d) override { return real_.Stat(d); }
  Status Publish(const std::string&, const Digest&) override {
    return {Errc::kInternal, "a dry run publishes nothing"};
  }
  Status Remove(const Digest& d) override {
    removed_.insert(d.str());
    return Status::Ok();
  }
  Result<uint64_t> Purge() override { return uint64_t{0}; }
  Status ForEach(const std::function<void(const Digest&, uint64_t)>& visit) override {
    return real_.ForEach([&](const Digest& d, uint64_t size) {
      if (!removed_.contains(d.str())) visit(d, size);
    });
  }

 private:
  storage::BlobStore& real_;
  std::set<std::string> removed_;
};

}  // namespace

Result<GcReport> Collector::DryRun() {
  if (options_.dry_run_path.empty()) {
    return Status(Errc::kUnsupported, "dry runs need a place for their copy of the metadata");
  }
  auto copy = store_.Copy(options_.dry_run_path);
  if (!copy) return copy.status();
  CountingBlobStore blobs(blobs_);
  storage::DigestLocks locks;  // nothing real is removed: no push need wait
  CollectorOptions o = options_;
  o.interval = 0;
  Collector on_copy((*copy)->meta(), (*copy)->lifecycle(), blobs, uploads_, locks, nullptr, o);
  MutexLock run(on_copy.run_mu_);  // uncontended: the copy's collector is ours alone
  return on_copy.Collect(true);
}

Result<GcReport> Collector::Collect(bool simulate) {
  GcReport r;
  const int64_t now = UnixNow();
  // Each step takes the time when it starts: what an earlier step touched
  // (the links of the manifests it removed) is then older than the cut-off
  // with a delay of 0, and goes in this run rather than the next.
  // Retention in report-only mode (retention.dry_run) deletes no tag even here.
  Status s = Retention(now, r);
  if (s.ok()) s = MayContinue();
  if (s.ok()) s = Manifests(r);
  if (s.ok()) s = MayContinue();
  if (s.ok()) s = Links(UnixNow(), r);
  if (s.ok()) s = MayContinue();
  if (s.ok()) s = Blobs(r);
  if (s.ok()) s = MayContinue();
  if (s.ok()) s = OrphanFiles(r);
  if (s.ok() && !simulate) {
    auto purged = blobs_.Purge();  // the slow unlinks, with no lock held
    if (!purged) s = purged.status();
  }
  if (s.ok()) {
    auto n = uploads_.ExpireIdle(options_.upload_max_age, simulate);
    if (n) {
      r.uploads_deleted = *n;
    } else {
      s = n.status();
    }
  }
  if (!s.ok()) return s;
  return r;
}

Status Collector::Retention(int64_t now, GcReport& r) {
  if (options_.retention.empty()) return Status::Ok();
  const bool report_only = options_.retention_dry_run;
  std::string last_repo;
  while (true) {
    auto repos = meta_.ListRepositories(last_repo, 1000);
    if (!repos) return repos.status();
    if (repos->empty()) return Status::Ok();
    last_repo = repos->back();
    for (const auto& repo : *repos) {
      const RetentionPolicy* policy = PolicyFor(options_.retention, repo);
      if (!policy) continue;
      std::vector<storage::TagInfo> tags;
      std::string last_tag;
      while (true) {
        auto page = store_.ListTagInfo(repo, last_tag, 1000);
        if (!page) return page.status();
        if (page->empty()) break;
        last_tag = page->back().name;
        tags.insert(tags.end(), page->begin(), page->end());
      }
      for (const auto& tag : TagsToDelete(*policy, std::move(tags), now)) {
        if (!report_only) {
          auto deleted = store_.DeleteTagIf(repo, tag);
          if (!deleted) return deleted.status();
          if (!*deleted) continue;  // pushed again meanwhile: the push wins
        }
        ++r.tags_deleted;
        if (r.tags.size() < GcReport::kMaxListed) r.tags.push_back({repo, tag.name});
      }
      if (Stopping()) return Status::Ok();
    }
  }
}

Status Collector::Manifests(GcReport& r) {
  for (int pass = 0; pass < kMaxManifestPasses; ++pass) {
    const int64_t before = Before(UnixNow(), options_.untagged_delay);
    uint64_t this_pass = 0;
    storage::KeyCursor cursor;
    while (true) {
      auto batch = store_.CollectManifests(before, options_.batch, false, &cursor);
      if (!batch) return batch.status();
      if (batch->empty()) break;
      this_pass += batch->size();
      for (auto& m : *batch) {
        if (r.manifests.size() < GcReport::kMaxListed) r.manifests.push_back(std::move(m));
      }
      if (Stopping()) break;
    }
    r.manifests_deleted += this_pass;
    if (this_pass == 0 || Stopping()) break;
  }
  return Status::Ok();
}

Status Collector::Links(int64_t now, GcReport& r) {
  storage::KeyCursor cursor;
  while (!Stopping()) {
    auto batch = store_.CollectLinks(Before(now, options_.delay), options_.batch, false, &cursor);
    if (!batch) return batch.status();
    if (batch->empty()) break;
    r.links_deleted += batch->size();
  }
  return Status::Ok();
}

Status Collector::MayContinue() {
  if (cluster_lock_) {
    if (auto s = cluster_lock_->Check(); !s.ok()) {
      return Status(s.code(), "lost the cluster lock of gc (" + s.message() + "); stopped");
    }
  }
  return Status::Ok();
}

Status Collector::Blobs(GcReport& r) {
  std::string after;
  while (!Stopping()) {
    if (auto s = MayContinue(); !s.ok()) return s;
    auto batch = store_.UnlinkedBlobs(after, options_.batch);
    if (!batch) return batch.status();
    if (batch->empty()) break;
    after = batch->back().digest.str();
    std::vector<Digest> digests;
    for (const auto& b : *batch) digests.push_back(b.digest);
    // Row, then file, under the digests' locks: a push publishing one of
    // them waits, then finds it gone and writes it anew. Remove is a rename;
    // the unlinks come after the run (Purge), when no lock is held.
    // A blob another node is publishing right now is skipped: it is about to
    // be linked, and if not, the next run collects it.
    auto guard = locks_.LockAvailable(digests);
    if (!guard.ok()) return guard.status();
    if (guard.held().empty()) continue;
    auto forgotten = store_.ForgetBlobs(guard.held());
    if (!forgotten) return forgotten.status();
    for (const auto& d : *forgotten) {
      auto it =
          std::find_if(batch->begin(), batch->end(), [&](const auto& b) { return b.digest == d; });
      if (auto s = blobs_.Remove(d); !s.ok()) return s;
      ++r.blobs_deleted;
      if (it != batch->end()) r.bytes_freed += it->size;
    }
  }
  return Status::Ok();
}

Status Collector::OrphanFiles(GcReport& r) {
  // Files the database does not know: left by a crash between an upload's
  // rename and its link, or between a blob row's delete and the unlink.
  std::vector<std::pair<Digest, uint64_t>> pending;
  Status failed;
  auto settle = [&]() -> Status {
    std::vector<Digest> digests;
    digests.reserve(pending.size());
    for (const auto& p : pending) digests.push_back(p.first);
    auto known = store_.BlobsKnown(digests);
    if (!known) return known.status();
    std::vector<std::pair<Digest, uint64_t>> unknown;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!(*known)[i]) unknown.push_back(pending[i]);
    }
    pending.clear();
    if (unknown.empty()) return Status::Ok();
    std::vector<Digest> names;
    names.reserve(unknown.size());
    for (const auto& u : unknown) names.push_back(u.first);
    auto guard = locks_.LockAvailable(names);
    if (!guard.ok()) return guard.status();
    const auto& held = guard.held();
    if (held.empty()) return Status::Ok();
    auto again = store_.BlobsKnown(held);  // a push may have linked it meanwhile
    if (!again) return again.status();
    for (size_t i = 0; i < held.size(); ++i) {
      if ((*again)[i]) continue;
      if (auto s = blobs_.Remove(held[i]); !s.ok()) return s;
      ++r.orphan_files_deleted;
      auto it = std::find_if(unknown.begin(), unknown.end(),
                             [&](const auto& u) { return u.first == held[i]; });
      if (it != unknown.end()) r.bytes_freed += it->second;
    }
    return Status::Ok();
  };
  Status walk = blobs_.ForEach([&](const Digest& d, uint64_t size) {
    if (!failed.ok()) return;
    pending.emplace_back(d, size);
    if (pending.size() >= options_.batch) failed = settle();
  });
  if (!walk.ok()) return walk;
  if (!failed.ok()) return failed;
  return pending.empty() ? Status::Ok() : settle();
}

bool Collector::Stopping() {
  MutexLock lock(mu_);
  return stop_;
}

void Collector::Start() {
  {
    MutexLock lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void Collector::RequestStop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
}

void Collector::Stop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (pulls_) {
    if (auto s = pulls_->Flush(store_); !s.ok())
      spdlog::warn("gc: pull times not written: {}", s.message());
  }
}

void Collector::Loop() {
  using Clock = std::chrono::steady_clock;
  const auto flush_every = std::chrono::seconds(std::max<int64_t>(1, options_.pull_flush));
  auto next_flush = Clock::now() + flush_every;
  auto next_run = Clock::time_point::max();
  if (options_.interval > 0) {
    next_run = Clock::now() + std::chrono::seconds(std::min<int64_t>(options_.interval, 30));
  }
  while (true) {
    {
      MutexLock lock(mu_);
      wake_.wait_until(lock.native(), std::min(next_flush, next_run),
                       [this]() REQUIRES(mu_) { return stop_; });
      if (stop_) return;
    }
    const auto now = Clock::now();
    if (now >= next_flush) {
      if (pulls_) {
        if (auto s = pulls_->Flush(store_); !s.ok())
          spdlog::warn("pull times not written: {}", s.message());
      }
      next_flush = now + flush_every;
    }
    if (now >= next_run) {
      Run(false).IgnoreError();  // Run logs its outcome
      next_run = Clock::now() + std::chrono::seconds(options_.interval);
    }
  }
}

}  // namespace berth::lifecycle
