#include "storage/fs/fs_blob_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "common/file.hpp"
#include "storage/fs/layout.hpp"

namespace berth::storage {

FsBlobStore::FsBlobStore(std::string root) : root_(std::move(root)) {}

Result<OpenBlob> FsBlobStore::Open(const Digest& digest) {
  std::string path = layout::BlobPath(root_, digest);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open blob " + digest.str(), errno, Errc::kBlobUnknown);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return PosixError("stat blob " + digest.str(), errno);
  return OpenBlob{std::move(fd), static_cast<uint64_t>(st.st_size)};
}

Result<uint64_t> FsBlobStore::Stat(const Digest& digest) {
  struct stat st {};
  std::string path = layout::BlobPath(root_, digest);
  if (::stat(path.c_str(), &st) != 0) {
    return PosixError("stat blob " + digest.str(), errno, Errc::kBlobUnknown);
  }
  return static_cast<uint64_t>(st.st_size);
}

Status FsBlobStore::Publish(const std::string& staged_path, const Digest& digest) {
  // Make the content durable before its name can be seen.
  {
    UniqueFd fd(::open(staged_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return PosixError("open " + staged_path, errno);
    if (::fsync(fd.get()) != 0) return PosixError("fsync " + staged_path, errno);
  }
  std::string final_path = layout::BlobPath(root_, digest);
  struct stat st {};
  if (::stat(final_path.c_str(), &st) == 0) {
    // Same digest, same content: the existing file already is this blob.
    ::unlink(staged_path.c_str());
    return Status::Ok();
  }
  std::string shard = layout::ShardDir(root_, digest);
  if (::rename(staged_path.c_str(), final_path.c_str()) != 0) {
    // The shard is missing only when Prepare did not make it (sha512, or a
    // root prepared by an older berth): make it, then try once more.
    if (errno != ENOENT) return PosixError("publish blob " + digest.str(), errno);
    if (auto s = EnsureDir(layout::AlgorithmDir(root_, digest), layout::BlobsDir(root_)); !s.ok()) {
      return s;
    }
    if (auto s = EnsureDir(shard, layout::AlgorithmDir(root_, digest)); !s.ok()) return s;
    if (::rename(staged_path.c_str(), final_path.c_str()) != 0) {
      return PosixError("publish blob " + digest.str(), errno);
    }
  }
  return SyncDir(shard);
}

Status FsBlobStore::Prepare() {
  const Digest probe(DigestAlgorithm::kSha256, std::string(64, '0'));  // names the sha256 dir
  std::string blobs = layout::BlobsDir(root_), algorithm = layout::AlgorithmDir(root_, probe);
  if (::mkdir(blobs.c_str(), 0700) != 0 && errno != EEXIST)
    return PosixError("mkdir " + blobs, errno);
  const std::string trash = layout::TrashDir(root_);
  if (::mkdir(trash.c_str(), 0700) != 0 && errno != EEXIST)
    return PosixError("mkdir " + trash, errno);
  if (::mkdir(algorithm.c_str(), 0700) != 0 && errno != EEXIST) {
    return PosixError("mkdir " + algorithm, errno);
  }
  bool made = false;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    std::string shard = algorithm + "/" + kHex[i >> 4] + kHex[i & 15];
    if (::mkdir(shard.c_str(), 0700) == 0) {
      made = true;
    } else if (errno != EEXIST) {
      return PosixError("mkdir " + shard, errno);
    }
  }
  if (!made) return Status::Ok();
  // One sync for all 256 names instead of one per first blob of a shard.
  if (auto s = SyncDir(algorithm); !s.ok()) return s;
  return SyncDir(blobs);
}

Status FsBlobStore::Remove(const Digest& digest) {
  std::string path = layout::BlobPath(root_, digest);
  // No directory sync: a file that comes back after a crash has no row, and
  // the next collection removes it again.
  if (::rename(path.c_str(), layout::TrashPath(root_, digest).c_str()) == 0) return Status::Ok();
  if (errno == ENOENT) {
    if (::access(path.c_str(), F_OK) != 0) return Status::Ok();  // already gone
    // The trash directory is missing (a root made before it existed).
    if (::mkdir(layout::TrashDir(root_).c_str(), 0700) != 0 && errno != EEXIST) {
      return PosixError("mkdir " + layout::TrashDir(root_), errno);
    }
    if (::rename(path.c_str(), layout::TrashPath(root_, digest).c_str()) == 0 || errno == ENOENT) {
      return Status::Ok();
    }
  }
  return PosixError("remove blob " + digest.str(), errno);
}

namespace {

// Names of the entries of `dir` (no "." or ".."); empty when it is missing.
Result<std::vector<std::string>> ListDir(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) {
    if (errno == ENOENT || errno == ENOTDIR) return std::vector<std::string>();
    return PosixError("opendir " + dir, errno);
  }
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view n(e->d_name);
    if (n != "." && n != "..") out.emplace_back(n);
  }
  return out;
}

}  // namespace

Result<uint64_t> FsBlobStore::Purge() {
  auto names = ListDir(layout::TrashDir(root_));
  if (!names) return names.status();
  uint64_t freed = 0;
  for (const auto& name : *names) {
    std::string path = layout::TrashDir(root_) + "/" + name;
    if (::unlink(path.c_str()) == 0) {
      ++freed;
    } else if (errno != ENOENT) {
      return PosixError("unlink " + path, errno);
    }
  }
  return freed;
}

Status FsBlobStore::ForEach(const std::function<void(const Digest&, uint64_t size)>& visit) {
  auto algorithms = ListDir(layout::BlobsDir(root_));
  if (!algorithms) return algorithms.status();
  for (const auto& algorithm : *algorithms) {
    std::string adir = layout::BlobsDir(root_) + "/" + algorithm;
    auto shards = ListDir(adir);
    if (!shards) return shards.status();
    // Appended to, not concatenated: this loop visits every blob of the store.
    const std::string prefix = algorithm + ":";
    for (const auto& shard : *shards) {
      std::string sdir = adir;
      sdir.append("/").append(shard);
      auto names = ListDir(sdir);
      if (!names) return names.status();
      sdir += '/';
      for (const auto& name : *names) {
        auto digest = Digest::Parse(prefix + name);
        if (!digest || digest->hex().substr(0, 2) != shard) continue;
        struct stat st {};
        if (::stat((sdir + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
          continue;  // removed meanwhile, or not a file
        }
        visit(*digest, static_cast<uint64_t>(st.st_size));
      }
    }
  }
  return Status::Ok();
}

}  // namespace berth::storage
