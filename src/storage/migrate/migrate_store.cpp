#include "storage/migrate/migrate_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/file.hpp"
#include "common/thread_annotations.hpp"
#include "crypto/hasher.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/fs/layout.hpp"
#include "storage/migrate/manifest_order.hpp"
#include "storage/migrate/snapshot.hpp"

namespace berth::storage::migrate {
namespace {

// Reads up to `size` bytes at the descriptor's current offset, retrying
// EINTR and short reads; fewer bytes only at end of file.
Result<size_t> ReadFull(int fd, char* buf, size_t size) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, buf + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("read", errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

// Shared state of one run; the blob workers update it under mu.
class Run {
 public:
  Run(const MigrateTarget& target, const MigrateOptions& options,
      const std::function<void(const MigrateProblem&)>& problem,
      const std::function<void(const MigrateProgress&)>& progress)
      : target_(target), options_(options), problem_(problem), progress_(progress) {}

  MigrateReport report;

  void Problem(std::string kind, std::string subject, std::string detail) {
    MutexLock lock(mu_);
    ++report.problems;
    if (problem_) problem_({std::move(kind), std::move(subject), std::move(detail)});
  }
  void Progress(const char* phase, uint64_t done, uint64_t total, uint64_t bytes) {
    MutexLock lock(mu_);
    if (progress_) progress_({phase, done, total, bytes});
  }

  void CopyBlobs(const std::string& source_root, const std::vector<SnapshotBlob>& blobs);
  void CopyLinks(const std::vector<SnapshotLink>& links);
  void CopyManifests(const std::vector<SnapshotManifest>& manifests);
  void CopyTags(const std::vector<SnapshotManifest>& manifests,
                const std::vector<SnapshotTag>& tags);
  void Verify(const SourceSnapshot& snap);

 private:
  enum class BlobOutcome { kCopied, kSkipped, kBad };
  BlobOutcome CopyBlob(FsBlobStore& source, const SnapshotBlob& b, std::vector<char>& buf,
                       uint64_t* bytes);
  // Hashes the target's copy of `b`; a problem and false when it differs.
  bool CheckTarget(const SnapshotBlob& b, std::vector<char>& buf);

  const MigrateTarget& target_;
  const MigrateOptions& options_;
  const std::function<void(const MigrateProblem&)>& problem_;
  const std::function<void(const MigrateProgress&)>& progress_;
  Mutex mu_;
  std::set<std::string> bad_blobs_ GUARDED_BY(mu_);
  std::set<std::pair<std::string, std::string>> bad_manifests_;  // (repository, digest)
};

bool Run::CheckTarget(const SnapshotBlob& b, std::vector<char>& buf) {
  auto open = target_.blobs.OpenRange(b.digest, 0, b.size);
  if (!open) {
    Problem("target_mismatch", b.digest.str(), "cannot read it back: " + open.status().message());
    return false;
  }
  // A seekable blob is a file read from its start; a streamed one yields
  // exactly the range asked for, then EOF (fewer bytes: the fetch failed).
  crypto::Hasher h(b.digest.algorithm());
  uint64_t seen = 0;
  while (true) {
    auto n =
        open->stream ? ReadFull(open->fd.get(), buf.data(), buf.size()) : [&]() -> Result<size_t> {
      ssize_t r = ::pread(open->fd.get(), buf.data(), buf.size(), static_cast<off_t>(seen));
      if (r < 0) return PosixError("pread", errno);
      return static_cast<size_t>(r);
    }();
    if (!n) {
      Problem("target_mismatch", b.digest.str(), "reading it back: " + n.status().message());
      return false;
    }
    if (*n == 0) break;
    h.Update({buf.data(), *n});
    seen += *n;
  }
  if (seen != b.size || h.Peek() != b.digest) {
    Problem(
        "target_mismatch", b.digest.str(),
        "the target's copy has " + std::to_string(seen) + " bytes hashing to " + h.Peek().str());
    return false;
  }
  return true;
}

Run::BlobOutcome Run::CopyBlob(FsBlobStore& source, const SnapshotBlob& b, std::vector<char>& buf,
                               uint64_t* bytes) {
  const std::string subject = b.digest.str();
  auto have = target_.blobs.Stat(b.digest);
  if (have) {
    if (*have != b.size) {
      Problem("target_mismatch", subject,
              "the target holds " + std::to_string(*have) + " bytes, the source " +
                  std::to_string(b.size));
      return BlobOutcome::kBad;
    }
    if (options_.verify && !CheckTarget(b, buf)) return BlobOutcome::kBad;
    return BlobOutcome::kSkipped;
  }
  if (have.status().code() != Errc::kBlobUnknown) {
    Problem("copy_failed", subject, "target stat: " + have.status().message());
    return BlobOutcome::kBad;
  }

  auto open = source.Open(b.digest);
  if (!open) {
    const bool gone = open.status().code() == Errc::kBlobUnknown;
    Problem(gone ? "missing_source" : "copy_failed", subject, open.status().message());
    return BlobOutcome::kBad;
  }
  if (open->size != b.size) {
    Problem("source_size", subject,
            "the file has " + std::to_string(open->size) + " bytes, the row says " +
                std::to_string(b.size));
    return BlobOutcome::kBad;
  }
  auto created = target_.uploads.Create(b.repository);
  if (!created) {
    Problem("copy_failed", subject, "target upload: " + created.status().message());
    return BlobOutcome::kBad;
  }
  UploadPtr upload = std::move(created).value();
  const std::string id = upload->id();
  // Drops the lease, then the session, so a failed copy leaves nothing behind.
  auto abandon = [&](const char* kind, const std::string& why) {
    upload.reset();
    // Best effort: the blob is reported as a problem either way, and a
    // session left behind expires with the target's upload age.
    target_.uploads.Cancel(id, b.repository).IgnoreError();
    Problem(kind, subject, why);
    return BlobOutcome::kBad;
  };
  uint64_t since_keep = 0;
  while (true) {
    auto n = ReadFull(open->fd.get(), buf.data(), buf.size());
    if (!n) return abandon("copy_failed", "reading the source: " + n.status().message());
    if (*n == 0) break;
    if (auto s = upload->Append({buf.data(), *n}); !s.ok()) {
      return abandon("copy_failed", "target append: " + s.message());
    }
    *bytes += *n;
    since_keep += *n;
    if (since_keep >= options_.keep_bytes) {
      // A Keep ends a lease, as it ends a PATCH (the S3 store gives the
      // lease back in it): the next bytes go through a new one.
      if (auto s = upload->Keep(); !s.ok())
        return abandon("copy_failed", "target keep: " + s.message());
      upload.reset();
      auto again = target_.uploads.Acquire(id, b.repository);
      if (!again) return abandon("copy_failed", "target upload: " + again.status().message());
      upload = std::move(again).value();
      since_keep = 0;
    }
  }
  // Like a PUT with the last bytes: Complete makes them durable itself.
  if (auto s = upload->Complete(b.digest); !s.ok()) {
    // Complete hashed exactly the source's bytes: a mismatch is the source's.
    const bool corrupt = s.code() == Errc::kDigestInvalid;
    return abandon(corrupt ? "corrupt_source" : "copy_failed",
                   corrupt ? "not copied: " + s.message() : "target complete: " + s.message());
  }
  return BlobOutcome::kCopied;
}

void Run::CopyBlobs(const std::string& source_root, const std::vector<SnapshotBlob>& blobs) {
  FsBlobStore source(source_root);  // only opened for reading
  std::atomic<size_t> next{0};
  uint64_t done = 0, bytes_done = 0;  // under mu_
  auto work = [&] {
    std::vector<char> buf(options_.chunk_bytes);
    while (true) {
      size_t i = next.fetch_add(1);
      if (i >= blobs.size()) return;
      uint64_t bytes = 0;
      BlobOutcome out = CopyBlob(source, blobs[i], buf, &bytes);
      MutexLock lock(mu_);
      switch (out) {
        case BlobOutcome::kCopied:
          ++report.blobs_copied;
          report.bytes_copied += bytes;
          break;
        case BlobOutcome::kSkipped:
          ++report.blobs_skipped;
          break;
        case BlobOutcome::kBad:
          ++report.blobs_bad;
          bad_blobs_.insert(blobs[i].digest.str());
          break;
      }
      ++done;
      bytes_done += blobs[i].size;
      if (progress_) progress_({"blobs", done, blobs.size(), bytes_done});
    }
  };
  const size_t jobs = options_.jobs < 1 ? 1 : static_cast<size_t>(options_.jobs);
  const size_t n = std::max<size_t>(1, std::min(jobs, blobs.size()));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}

void Run::CopyLinks(const std::vector<SnapshotLink>& links) {
  uint64_t done = 0;
  for (const auto& l : links) {
    ++done;
    {
      MutexLock lock(mu_);                             // uncontended: the blob workers are done
      if (bad_blobs_.count(l.digest.str())) continue;  // reported with the blob
    }
    if (target_.meta.LinkedBlobSize(l.repository, l.digest)) {
      ++report.links_existing;
    } else if (auto s = target_.meta.LinkBlob(l.repository, l.digest, l.size, /*quota=*/0);
               s.ok()) {
      ++report.links_new;
    } else {
      Problem("link_failed", l.repository + "@" + l.digest.str(), s.message());
    }
    if (done % 1000 == 0 || done == links.size()) Progress("links", done, links.size(), 0);
  }
}

void Run::CopyManifests(const std::vector<SnapshotManifest>& manifests) {
  std::vector<size_t> cyclic;
  std::vector<size_t> order = OrderManifests(manifests, &cyclic);
  for (size_t i : cyclic) {
    const auto& m = manifests[i];
    bad_manifests_.insert({m.repository, m.record.digest.str()});
    Problem("manifest_failed", m.repository + "@" + m.record.digest.str(),
            "caught in a cycle of manifest references");
  }
  uint64_t done = 0;
  for (size_t i : order) {
    const auto& m = manifests[i];
    const std::string subject = m.repository + "@" + m.record.digest.str();
    ++done;
    auto fail = [&](const std::string& why) {
      bad_manifests_.insert({m.repository, m.record.digest.str()});
      Problem("manifest_failed", subject, why);
    };
    crypto::Hasher h(m.record.digest.algorithm());
    h.Update({m.record.content.data(), m.record.content.size()});
    if (h.Peek() != m.record.digest) {
      fail("the stored bytes hash to " + h.Peek().str());
      continue;
    }
    auto have = target_.meta.GetManifest(m.repository, m.record.digest);
    if (have && have->content == m.record.content) {
      ++report.manifests_existing;
    } else if (have) {
      fail("the target holds other bytes under this digest");
    } else {
      ManifestPut put{m.record, std::nullopt, m.blob_refs, m.manifest_refs, {}};
      if (auto s = target_.meta.PutManifest(m.repository, put); s.ok()) {
        ++report.manifests_new;
      } else {
        fail(s.message());
      }
    }
    if (done % 1000 == 0 || done == order.size()) Progress("manifests", done, order.size(), 0);
  }
}

void Run::CopyTags(const std::vector<SnapshotManifest>& manifests,
                   const std::vector<SnapshotTag>& tags) {
  std::map<std::pair<std::string, std::string>, const SnapshotManifest*> by_key;
  for (const auto& m : manifests)
    by_key.emplace(std::make_pair(m.repository, m.record.digest.str()), &m);
  uint64_t done = 0;
  for (const auto& t : tags) {
    ++done;
    const std::string subject = t.repository + ":" + t.name;
    auto key = std::make_pair(t.repository, t.digest);
    if (bad_manifests_.count(key)) {
      Problem("tag_failed", subject, "its manifest " + t.digest + " was not copied");
      continue;
    }
    auto m = by_key.find(key);
    if (m == by_key.end()) {
      Problem("tag_failed", subject, "points at " + t.digest + ", which the source does not hold");
      continue;
    }
    auto have = target_.meta.GetManifest(t.repository, Reference(t.name));
    if (have && have->digest.str() == t.digest) {
      ++report.tags_existing;
    } else {
      // PutManifest with a tag re-puts the (identical) manifest and moves the tag.
      const SnapshotManifest& sm = *m->second;
      ManifestPut put{sm.record, t.name, sm.blob_refs, sm.manifest_refs, {}};
      if (auto s = target_.meta.PutManifest(t.repository, put); s.ok()) {
        ++report.tags_new;
      } else {
        Problem("tag_failed", subject, s.message());
      }
    }
    if (done % 1000 == 0 || done == tags.size()) Progress("tags", done, tags.size(), 0);
  }
}

void Run::Verify(const SourceSnapshot& snap) {
  const uint64_t total =
      snap.blobs.size() + snap.links.size() + snap.manifests.size() + snap.tags.size();
  uint64_t done = 0;
  auto failed = [&](const std::string& subject, const std::string& why) {
    {
      MutexLock lock(mu_);
      ++report.verify_failures;
    }
    Problem("verify", subject, why);
  };
  auto step = [&] {
    if (++done % 1000 == 0 || done == total) Progress("verify", done, total, 0);
  };
  for (const auto& b : snap.blobs) {
    auto size = target_.blobs.Stat(b.digest);
    if (!size)
      failed(b.digest.str(), "not in the target: " + size.status().message());
    else if (*size != b.size)
      failed(b.digest.str(), "size " + std::to_string(*size) + " in the target");
    step();
  }
  for (const auto& l : snap.links) {
    auto size = target_.meta.LinkedBlobSize(l.repository, l.digest);
    if (!size)
      failed(l.repository + "@" + l.digest.str(), "link missing: " + size.status().message());
    step();
  }
  for (const auto& m : snap.manifests) {
    auto have = target_.meta.GetManifest(m.repository, m.record.digest);
    if (!have) {
      failed(m.repository + "@" + m.record.digest.str(),
             "manifest missing: " + have.status().message());
    } else if (have->content != m.record.content) {
      failed(m.repository + "@" + m.record.digest.str(), "manifest bytes differ");
    }
    step();
  }
  for (const auto& t : snap.tags) {
    auto have = target_.meta.GetManifest(t.repository, Reference(t.name));
    if (!have) {
      failed(t.repository + ":" + t.name, "tag missing: " + have.status().message());
    } else if (have->digest.str() != t.digest) {
      failed(t.repository + ":" + t.name, "names " + have->digest.str() + ", not " + t.digest);
    }
    step();
  }
}

}  // namespace

Result<MigrateReport> MigrateStore(const std::string& source_root, const MigrateTarget& target,
                                   const MigrateOptions& options,
                                   const std::function<void(const MigrateProblem&)>& problem,
                                   const std::function<void(const MigrateProgress&)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  uint64_t bad_rows = 0;
  auto snap = ReadSnapshot(layout::MetadataDb(source_root), &bad_rows);
  if (!snap) return snap.status();
  Run run(target, options, problem, progress);
  for (uint64_t i = 0; i < bad_rows; ++i) {
    run.Problem("bad_row", layout::MetadataDb(source_root), "a row's digest does not parse");
  }
  run.report.blobs_total = snap->blobs.size();
  run.report.unlinked_blobs = snap->unlinked_blobs;
  for (const auto& b : snap->blobs) run.report.bytes_total += b.size;

  run.CopyBlobs(source_root, snap->blobs);
  run.CopyLinks(snap->links);
  run.CopyManifests(snap->manifests);
  run.CopyTags(snap->manifests, snap->tags);
  run.Verify(*snap);

  run.report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run.report;
}

}  // namespace berth::storage::migrate
