#include "storage/fs/fs_upload_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <optional>
#include <vector>

#include "common/file.hpp"
#include "crypto/file_hash.hpp"
#include "crypto/hasher.hpp"
#include "crypto/random.hpp"
#include "storage/fs/layout.hpp"

namespace berth::storage {

struct FsUploadStore::Session {
  std::string repository;
  std::string path;                      // the session's file
  bool durable = false;                  // file and its name fsynced (first Keep)
  bool leased = false;                   // GUARDED_BY(store mu_)
  std::optional<crypto::Hasher> hasher;  // sha256 of the first `hashed` bytes
  uint64_t hashed = 0;
};

namespace {

// The session file of upload `id` in `repository`. The name carries a key of
// the repository (a name may hold '/' and be long, so not the name itself):
// after a restart a session is found only under the repository it was
// started in, with no second file to create, sync and delete per upload.
// 128 bits of SHA-256 make a match under another repository's key as good as
// impossible.
std::string SessionFile(const std::string& root, const std::string& id,
                        const std::string& repository) {
  std::string key = crypto::HashBytes(DigestAlgorithm::kSha256, repository).hex().substr(0, 32);
  return layout::UploadFile(root, id + "-" + key);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

// Appended bytes are handed to the disk in steps of this size (see Append).
constexpr uint64_t kWritebackStep = 8 << 20;

// One request's hold on a session. See UploadStore for the rollback rule.
class FsUploadStore::Lease final : public Upload {
 public:
  Lease(FsUploadStore& store, std::string id, std::shared_ptr<Session> session, UniqueFd fd,
        uint64_t size, crypto::Hasher hasher)
      : store_(store),
        id_(std::move(id)),
        session_(std::move(session)),
        fd_(std::move(fd)),
        start_size_(size),
        size_(size),
        written_back_(size),
        start_hasher_(hasher.Clone()),
        hasher_(std::move(hasher)) {}

  ~Lease() override {
    if (done_) return;
    if (!kept_ && size_ != start_size_) {
      // Roll back to the last chunk boundary; if even that fails, drop the
      // in-memory hash so the next lease rebuilds it from the file.
      if (::ftruncate(fd_.get(), static_cast<off_t>(start_size_)) != 0) {
        MutexLock lock(store_.mu_);
        session_->hasher.reset();
        session_->leased = false;
        return;
      }
    }
    MutexLock lock(store_.mu_);
    if (kept_) {
      session_->hasher = std::move(hasher_);
      session_->hashed = size_;
    } else {
      session_->hasher = std::move(start_hasher_);
      session_->hashed = start_size_;
    }
    session_->leased = false;
  }

  const std::string& id() const override { return id_; }
  uint64_t size() const override { return size_; }

  Status Append(std::span<const char> data) override {
    if (auto s = WriteAll(fd_.get(), data.data(), data.size(), "upload " + id_); !s.ok()) {
      // A short write (a full disk) leaves part of `data` in the file: cut it
      // off so the file holds exactly the bytes hashed. When even this fails,
      // the next lease hashes the file again from its size.
      (void)::ftruncate(fd_.get(), static_cast<off_t>(size_));
      return s;
    }
    hasher_.Update(data);
    size_ += data.size();
    if (size_ - written_back_ >= kWritebackStep) {
      // Starts writing the new pages to disk now, while the rest of the body
      // arrives, so that the fsync before the answer waits only for the tail.
      // A hint: when it fails, that fsync does all the work, as without it.
      (void)::sync_file_range(fd_.get(), static_cast<off_t>(written_back_),
                              static_cast<off_t>(size_ - written_back_), SYNC_FILE_RANGE_WRITE);
      written_back_ = size_;
    }
    return Status::Ok();
  }

  Status Keep() override {
    if (size_ == 0) {
      // An empty session holds no byte a client could lose: it need not be
      // durable (after a crash it is unknown and the client starts over).
      // This spares the syncs of every POST that opens a push.
      kept_ = true;
      return Status::Ok();
    }
    if (::fdatasync(fd_.get()) != 0) return PosixError("fdatasync upload " + id_, errno);
    if (!session_->durable) {
      // The first acknowledged chunk makes the session's name durable too, so
      // a crash cannot lose a session whose bytes were acknowledged.
      if (auto st = SyncDir(layout::UploadsDir(store_.root_)); !st.ok()) return st;
      session_->durable = true;
    }
    kept_ = true;
    return Status::Ok();
  }

  Status Complete(const Digest& expected) override {
    Digest actual = hasher_.Peek();
    if (expected.algorithm() != DigestAlgorithm::kSha256) {
      auto h = crypto::HashFd(fd_.get(), expected.algorithm(), size_, "upload " + id_);
      if (!h) return h.status();
      actual = h->Peek();
    }
    if (actual != expected) {
      Finish();
      return {Errc::kDigestInvalid,
              "content digest is " + actual.str() + ", not " + expected.str()};
    }
    if (auto s = store_.blobs_.Publish(session_->path, expected); !s.ok()) {
      return s;  // the lease rolls back; the session stays for a retry
    }
    Finish();
    return Status::Ok();
  }

 private:
  // Closes the session for good: files and in-memory state.
  void Finish() {
    done_ = true;
    fd_.Reset();
    ::unlink(session_->path.c_str());  // gone already when published
    store_.Forget(id_);
  }

  FsUploadStore& store_;
  const std::string id_;
  std::shared_ptr<Session> session_;
  UniqueFd fd_;
  const uint64_t start_size_;
  uint64_t size_;
  uint64_t written_back_;  // bytes handed to sync_file_range so far
  crypto::Hasher start_hasher_;
  crypto::Hasher hasher_;
  bool kept_ = false;
  bool done_ = false;
};

FsUploadStore::FsUploadStore(std::string root, BlobStore& blobs)
    : root_(std::move(root)), blobs_(blobs) {}

FsUploadStore::~FsUploadStore() = default;

Result<UploadPtr> FsUploadStore::Create(const std::string& repository) {
  auto random = crypto::RandomHex(16);
  if (!random) return random.status();
  std::string id = std::move(random).value();
  std::string path = SessionFile(root_, id, repository);
  // Not fsynced: a session is acknowledged by nothing durable until its first
  // Keep, so after a crash losing it only makes the client start over.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError("create upload", errno);
  auto session = std::make_shared<Session>();
  session->repository = repository;
  session->path = std::move(path);
  session->leased = true;
  session->hasher.emplace(DigestAlgorithm::kSha256);
  {
    MutexLock lock(mu_);
    sessions_[id] = session;
  }
  crypto::Hasher h(DigestAlgorithm::kSha256);
  return UploadPtr(std::make_unique<Lease>(*this, id, session, std::move(fd), 0, std::move(h)));
}

Result<UploadPtr> FsUploadStore::Acquire(const std::string& id, const std::string& repository) {
  if (!IsUploadId(id)) return Status(Errc::kBlobUploadUnknown, "upload session not found");
  std::shared_ptr<Session> session;
  {
    MutexLock lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) {
      // Not seen since start-up: the session may predate a restart.
      std::string path = SessionFile(root_, id, repository);
      if (!Exists(path)) return Status(Errc::kBlobUploadUnknown, "upload session not found");
      session = std::make_shared<Session>();
      session->repository = repository;
      session->path = std::move(path);
      sessions_[id] = session;
    } else {
      session = it->second;
    }
    if (session->repository != repository) {
      return Status(Errc::kBlobUploadUnknown, "upload session not found in this repository");
    }
    if (session->leased) {
      return Status(Errc::kBusy, "another request is using this upload session");
    }
    session->leased = true;
  }
  return Lease_(id, std::move(session));
}

Result<UploadPtr> FsUploadStore::Lease_(const std::string& id, std::shared_ptr<Session> session) {
  auto release = [&](Status s) -> Result<UploadPtr> {
    MutexLock lock(mu_);
    session->leased = false;
    return s;
  };
  UniqueFd fd(::open(session->path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC));
  if (!fd.valid()) return release(PosixError("open upload", errno, Errc::kBlobUploadUnknown));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return release(PosixError("stat upload", errno));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  std::optional<crypto::Hasher> hasher;
  {
    MutexLock lock(mu_);
    if (session->hasher && session->hashed == size) hasher = std::move(session->hasher);
    session->hasher.reset();
  }
  if (!hasher) {
    auto h = crypto::HashFd(fd.get(), DigestAlgorithm::kSha256, size, "upload " + id);
    if (!h) return release(h.status());
    hasher = std::move(h).value();
  }
  return UploadPtr(std::make_unique<Lease>(*this, id, std::move(session), std::move(fd), size,
                                           std::move(*hasher)));
}

Status FsUploadStore::Cancel(const std::string& id, const std::string& repository) {
  if (!IsUploadId(id)) return {Errc::kBlobUploadUnknown, "upload session not found"};
  std::string path = SessionFile(root_, id, repository);
  {
    MutexLock lock(mu_);
    auto it = sessions_.find(id);
    if (it != sessions_.end()) {
      if (it->second->repository != repository) {
        return {Errc::kBlobUploadUnknown, "upload session not found in this repository"};
      }
      if (it->second->leased) return {Errc::kBusy, "another request is using this upload session"};
      sessions_.erase(it);
    } else if (!Exists(path)) {
      return {Errc::kBlobUploadUnknown, "upload session not found"};
    }
  }
  // Best effort: a leftover session file is garbage, never visible content.
  ::unlink(path.c_str());
  return Status::Ok();
}

Result<uint64_t> FsUploadStore::ExpireIdle(int64_t max_age_seconds, bool dry_run) {
  const std::string dir = layout::UploadsDir(root_);
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) {
    if (errno == ENOENT) return uint64_t{0};
    return PosixError("opendir " + dir, errno);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view n(e->d_name);
    if (n != "." && n != "..") names.emplace_back(n);
  }
  const int64_t cutoff = static_cast<int64_t>(std::time(nullptr)) - max_age_seconds;
  uint64_t removed = 0;
  for (const auto& name : names) {
    std::string path = layout::UploadFile(root_, name);
    // "<32 hex id>-<32 hex key>" is a session of this layout; anything else
    // is a leftover, removed by the same age rule.
    const bool session = name.size() == 65 && name[32] == '-' && IsUploadId(name.substr(0, 32)) &&
                         IsUploadId(name.substr(33));
    MutexLock lock(mu_);  // no lease can start while we decide
    if (session) {
      auto it = sessions_.find(name.substr(0, 32));
      if (it != sessions_.end() && it->second->leased) continue;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || st.st_mtime >= cutoff) continue;
    if (dry_run) {
      ++removed;
      continue;
    }
    int rc = S_ISDIR(st.st_mode) ? ::rmdir(path.c_str()) : ::unlink(path.c_str());
    if (rc != 0) continue;  // not empty, or gone meanwhile: not ours to force
    if (session) sessions_.erase(name.substr(0, 32));
    ++removed;
  }
  return removed;
}

Result<uint64_t> FsUploadStore::InProgress() {
  const std::string dir = layout::UploadsDir(root_);
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) {
    if (errno == ENOENT) return uint64_t{0};
    return PosixError("opendir " + dir, errno);
  }
  uint64_t n = 0;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view name(e->d_name);
    if (name.size() == 65 && name[32] == '-' && IsUploadId(std::string(name.substr(0, 32))) &&
        IsUploadId(std::string(name.substr(33)))) {
      ++n;
    }
  }
  return n;
}

void FsUploadStore::Forget(const std::string& id) {
  MutexLock lock(mu_);
  sessions_.erase(id);
}

}  // namespace berth::storage
