#include "storage/db/fsck.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>
#include <vector>

#include "common/file.hpp"
#include "crypto/file_hash.hpp"
#include "storage/db/sqlite.hpp"
#include "storage/fs/layout.hpp"

namespace berth::storage {
namespace {

namespace fs = std::filesystem;

// Moves a bad blob aside, keeping it for inspection.
bool Quarantine(const std::string& root, const std::string& path, const Digest& d) {
  // A failed mkdir shows as the rename's failure just below.
  EnsureDir(layout::QuarantineDir(root), root).IgnoreError();
  std::string dest = layout::QuarantinePath(root, d, static_cast<long long>(::time(nullptr)));
  return ::rename(path.c_str(), dest.c_str()) == 0 && SyncDir(fs::path(path).parent_path()).ok();
}

}  // namespace

Result<FsckSummary> RunFsck(const std::string& root, bool repair,
                            const std::function<void(const FsckProblem&)>& report) {
  FsckSummary sum;
  auto problem = [&](const FsckProblem& p) {
    ++sum.problems;
    if (p.repaired) ++sum.repaired;
    report(p);
  };

  // 1. Every blob file hashes to its name.
  std::set<std::string> files;  // digests that have a sound file
  for (const char* algo : {"sha256", "sha512"}) {
    fs::path dir = fs::path(layout::BlobsDir(root)) / algo;
    std::error_code ec;
    if (!fs::exists(dir, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string path = it->path().string();
      auto d = Digest::Parse(std::string(algo) + ":" + it->path().filename().string());
      if (!d || it->path().parent_path().filename() != d->hex().substr(0, 2)) {
        problem({"stray_file", path, "not a blob file name", false});
        continue;
      }
      auto actual = crypto::HashFile(path, d->algorithm(), &sum.bytes_checked);
      ++sum.blobs_checked;
      if (!actual) {
        problem({"unreadable_blob", d->str(), actual.status().message(), false});
        continue;
      }
      if (*actual != *d) {
        bool fixed = repair && Quarantine(root, path, *d);
        problem({"corrupt_blob", d->str(), "content hashes to " + actual->str(), fixed});
        continue;
      }
      files.insert(d->str());
    }
  }

  // 2. Every row points at something that exists.
  auto db = sql::Db::Open(layout::MetadataDb(root));
  if (!db) return db.status();
  // Without the timeout fsck still runs; it only gives up sooner when a
  // running berth holds a write lock.
  (*db)->Exec("PRAGMA busy_timeout=5000").IgnoreError();
  auto each = [&](const char* q, const std::function<void(sql::Stmt&)>& fn) -> Status {
    auto st = (*db)->Prepare(q);
    if (!st) return st.status();
    while (true) {
      auto row = st->Step();
      if (!row) return row.status();
      if (!*row) return Status::Ok();
      ++sum.rows_checked;
      fn(*st);
    }
  };
  std::vector<std::pair<std::string, std::string>> drop_tags;
  Status s = each(
      "SELECT r.name, rb.digest FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id",
      [&](sql::Stmt& st) {
        std::string digest = st.Text(1);
        if (!files.count(digest)) {
          problem({"missing_blob_file", st.Text(0) + "@" + digest,
                   "linked into the repository but no sound file exists (push it again)", false});
        }
      });
  if (!s.ok()) return s;
  s = each(
      "SELECT r.name, mr.digest, mr.ref FROM manifest_refs mr JOIN repositories r ON r.id = "
      "mr.repo_id "
      "WHERE NOT EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.repo_id = mr.repo_id AND rb.digest = "
      "mr.ref) "
      "AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = mr.repo_id AND m.digest = "
      "mr.ref)",
      [&](sql::Stmt& st) {
        problem({"dangling_ref", st.Text(0) + "@" + st.Text(1),
                 "references " + st.Text(2) + ", which the repository no longer holds", false});
      });
  if (!s.ok()) return s;
  s = each(
      "SELECT r.name, t.name, t.digest FROM tags t JOIN repositories r ON r.id = t.repo_id "
      "WHERE NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = t.repo_id AND m.digest = "
      "t.digest)",
      [&](sql::Stmt& st) { drop_tags.emplace_back(st.Text(0), st.Text(1)); });
  if (!s.ok()) return s;
  for (const auto& [repo, tag] : drop_tags) {
    bool fixed = false;
    if (repair) {
      auto del = (*db)->Prepare(
          "DELETE FROM tags WHERE name = ? AND repo_id = (SELECT id FROM repositories WHERE name = "
          "?)");
      fixed = del && del->Bind(1, tag).Bind(2, repo).Run().ok();
    }
    problem({"dangling_tag", repo + ":" + tag, "points at a manifest that does not exist", fixed});
  }
  return sum;
}

}  // namespace berth::storage
