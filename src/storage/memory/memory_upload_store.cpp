#include "storage/memory/memory_upload_store.hpp"

#include <ctime>

#include "crypto/hasher.hpp"
#include "crypto/random.hpp"

namespace berth::storage {
namespace {

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

struct MemoryUploadStore::Session {
  std::string repository;
  std::string bytes;        // written only by the lease holder
  bool leased = false;      // GUARDED_BY(store mu_)
  int64_t touched = Now();  // last Keep; GUARDED_BY(store mu_)
};

// One request's hold on a session. Appends go straight into the session's
// bytes; a lease dropped without Keep cuts them back to where it started.
class MemoryUploadStore::Lease final : public Upload {
 public:
  Lease(MemoryUploadStore& store, std::string id, std::shared_ptr<Session> session)
      : store_(store),
        id_(std::move(id)),
        session_(std::move(session)),
        start_size_(session_->bytes.size()) {}

  ~Lease() override {
    if (done_) return;
    if (!kept_) session_->bytes.resize(start_size_);
    store_.Release(*session_);
  }

  const std::string& id() const override { return id_; }
  uint64_t size() const override { return session_->bytes.size(); }

  Status Append(std::span<const char> data) override {
    session_->bytes.append(data.data(), data.size());
    return Status::Ok();
  }

  Status Keep() override {
    kept_ = true;
    MutexLock lock(store_.mu_);
    session_->touched = Now();
    return Status::Ok();
  }

  Status Complete(const Digest& expected) override {
    const Digest actual = crypto::HashBytes(expected.algorithm(), session_->bytes);
    if (actual != expected) {
      Finish();
      return {Errc::kDigestInvalid,
              "content digest is " + actual.str() + ", not " + expected.str()};
    }
    if (auto s = store_.blobs_.Put(expected, session_->bytes); !s.ok()) return s;
    Finish();
    return Status::Ok();
  }

 private:
  void Finish() {
    done_ = true;
    store_.Forget(id_);
  }

  MemoryUploadStore& store_;
  const std::string id_;
  std::shared_ptr<Session> session_;
  const size_t start_size_;
  bool kept_ = false;
  bool done_ = false;
};

MemoryUploadStore::MemoryUploadStore(MemoryBlobStore& blobs) : blobs_(blobs) {}

MemoryUploadStore::~MemoryUploadStore() = default;

Result<UploadPtr> MemoryUploadStore::Create(const std::string& repository) {
  auto random = crypto::RandomHex(16);
  if (!random) return random.status();
  std::string id = std::move(random).value();
  auto session = std::make_shared<Session>();
  session->repository = repository;
  session->leased = true;
  {
    MutexLock lock(mu_);
    sessions_[id] = session;
  }
  return UploadPtr(std::make_unique<Lease>(*this, std::move(id), std::move(session)));
}

Result<UploadPtr> MemoryUploadStore::Acquire(const std::string& id, const std::string& repository) {
  std::shared_ptr<Session> session;
  {
    MutexLock lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second->repository != repository) {
      return Status(Errc::kBlobUploadUnknown, "upload session not found");
    }
    if (it->second->leased)
      return Status(Errc::kBusy, "another request is using this upload session");
    it->second->leased = true;
    session = it->second;
  }
  return UploadPtr(std::make_unique<Lease>(*this, id, std::move(session)));
}

Status MemoryUploadStore::Cancel(const std::string& id, const std::string& repository) {
  MutexLock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->repository != repository) {
    return {Errc::kBlobUploadUnknown, "upload session not found"};
  }
  if (it->second->leased) return {Errc::kBusy, "another request is using this upload session"};
  sessions_.erase(it);
  return Status::Ok();
}

Result<uint64_t> MemoryUploadStore::ExpireIdle(int64_t max_age_seconds, bool dry_run) {
  const int64_t cutoff = Now() - max_age_seconds;
  MutexLock lock(mu_);
  uint64_t removed = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second->leased || it->second->touched >= cutoff) {
      ++it;
      continue;
    }
    ++removed;
    it = dry_run ? std::next(it) : sessions_.erase(it);
  }
  return removed;
}

Result<uint64_t> MemoryUploadStore::InProgress() {
  MutexLock lock(mu_);
  return static_cast<uint64_t>(sessions_.size());
}

void MemoryUploadStore::Release(Session& session) {
  MutexLock lock(mu_);
  session.leased = false;
}

void MemoryUploadStore::Forget(const std::string& id) {
  MutexLock lock(mu_);
  sessions_.erase(id);
}

}  // namespace berth::storage
