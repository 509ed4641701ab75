#include "storage/s3/s3_upload_store.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>

#include "common/file.hpp"
#include "common/thread_annotations.hpp"
#include "crypto/hasher.hpp"
#include "crypto/random.hpp"
#include "storage/s3/s3_upload_core.hpp"
#include "storage/s3/upload_state.hpp"

namespace berth::storage {

namespace {

constexpr size_t kMaxStateBytes = size_t{2} << 20;  // 10,000 parts fit with room

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// An unlinked file in `dir`: nothing to clean up after a crash.
Result<UniqueFd> OpenSpool(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd.valid()) return fd;
  // A filesystem without O_TMPFILE: a named file, unlinked at once.
  std::string path = dir + "/spool-XXXXXX";
  int raw = ::mkostemp(path.data(), O_CLOEXEC);
  if (raw < 0) return PosixError("create spool file in " + dir, errno);
  ::unlink(path.c_str());
  return UniqueFd(raw);
}

}  // namespace

class S3UploadStore::Lease final : public Upload {
 public:
  Lease(std::shared_ptr<Core> core, crypto::Hasher hasher)
      : core_(std::move(core)), hasher_(std::move(hasher)) {}

  ~Lease() override {
    bool post = false;
    {
      MutexLock lock(core_->mu);
      core_->dropped = true;
      if (core_->pumps == 0 && !core_->released) post = core_->released = true;
    }
    // Releasing is a network call (the lease table, maybe an abort), and
    // this may run on the I/O thread: a worker does it.
    if (post) {
      auto core = core_;
      core->store->Post([core] { core->Release(); });
    }
  }

  const std::string& id() const override { return core_->id; }
  uint64_t size() const override { return size_; }

  Status Append(std::span<const char> data) override {
    if (finished_)
      return Status(Errc::kInternal, "upload " + core_->id + ": lease already given back");
    if (data.empty()) return Status::Ok();
    if (size_ + data.size() > kS3MaxCopySize) {
      // Complete could not copy it into place (see the header): refuse now
      // rather than after the whole body went up.
      return Status(Errc::kTooLarge, "S3 storage takes blobs of at most 5 GiB for now");
    }
    if (auto s = core_->Write(size_, data); !s.ok()) return s;
    hasher_.Update(data);
    size_ += data.size();
    bool post = false;
    {
      MutexLock lock(core_->mu);
      core_->size = size_;
      if (!core_->error.ok()) return core_->error;
      if (core_->pumps < core_->max_pumps && size_ - core_->parts_end >= core_->part_size) {
        ++core_->pumps;
        post = true;
      }
    }
    if (post) {
      auto core = core_;
      core->store->Post([core] { core->Pump(); });
    }
    return Status::Ok();
  }

  Status Keep() override {
    if (finished_) return Status::Ok();
    if (auto s = core_->Flush(); !s.ok()) return s;
    if (kept_size_ == size_ && core_->state_exists) {  // nothing new
      Finished();
      return Status::Ok();
    }
    if (auto s = core_->Renew(); !s.ok()) return s;
    S3UploadStore& store = *core_->store;
    UploadState next = core_->kept;
    {
      MutexLock lock(core_->mu);
      next.parts = core_->parts;
      next.upload_id = core_->upload_id;
      next.tail = size_ - core_->parts_end;
    }
    next.size = size_;
    next.hash = hasher_.SaveState();
    next.generation = core_->kept.generation + 1;
    next.updated = Now();
    if (next.created == 0) next.created = next.updated;
    // The new tail under a new name first, the state naming it last: until
    // the state is written the old state and its tail stay intact.
    if (next.tail > 0) {
      if (auto s = core_->PutRegion(store.TailKey(core_->id, next.generation), size_ - next.tail,
                                    next.tail);
          !s.ok()) {
        return s;
      }
    }
    const std::string body = EncodeUploadState(next);
    if (auto s = store.client_.Put(store.StateKey(core_->id), {body.data(), body.size()});
        !s.ok()) {
      return s;
    }
    if (core_->kept.tail > 0) {
      // Garbage now; a failure leaves it to Complete, Cancel or ExpireIdle.
      store.client_.Delete(store.TailKey(core_->id, core_->kept.generation)).IgnoreError();
    }
    core_->kept = std::move(next);
    core_->state_exists = true;
    kept_size_ = size_;
    Finished();
    return Status::Ok();
  }

  Status Complete(const Digest& expected) override {
    if (finished_)
      return Status(Errc::kInternal, "upload " + core_->id + ": lease already given back");
    if (auto s = core_->Flush(); !s.ok()) return s;
    S3UploadStore& store = *core_->store;
    const std::string& id = core_->id;
    std::vector<UploadPart> parts;
    std::string uid;
    uint64_t parts_end;
    {
      MutexLock lock(core_->mu);
      parts = core_->parts;
      uid = core_->upload_id;
      parts_end = core_->parts_end;
    }
    // Before the hash check: a mismatch deletes the session, which a lapsed
    // lease may no longer do.
    if (auto s = core_->Renew(); !s.ok()) return s;
    const std::string blob_key = store.blobs_.Key(expected);
    if (expected.algorithm() == DigestAlgorithm::kSha256) {
      if (auto s = CheckDigest(expected, hasher_.Peek(), uid); !s.ok()) return s;
      auto existing = store.client_.Head(blob_key);
      if (!existing && existing.status().code() != Errc::kBlobUnknown) return existing.status();
      if (!existing) {
        if (parts.empty()) {
          // Small enough to have no full part: one PUT of the local bytes.
          if (auto s = PutSpool(blob_key, parts_end); !s.ok()) return s;
        } else {
          if (auto s = Assemble(parts, uid, parts_end); !s.ok()) return s;
          if (auto s = store.client_.Copy(store.DataKey(id), blob_key); !s.ok()) return s;
        }
      }
    } else {
      // The running hash is SHA-256 (the one persisted between requests), so
      // another algorithm is checked on the assembled bytes, read back once.
      if (parts.empty()) {
        if (auto s = PutSpool(store.DataKey(id), parts_end); !s.ok()) return s;
      } else if (auto s = Assemble(parts, uid, parts_end); !s.ok()) {
        return s;
      }
      crypto::Hasher other(expected.algorithm());
      if (auto s = store.client_.Get(store.DataKey(id), 0, UINT64_MAX,
                                     [&](std::span<const char> bytes) {
                                       other.Update(bytes);
                                       return true;
                                     });
          !s.ok()) {
        return s;
      }
      if (auto s = CheckDigest(expected, other.Peek(), uid); !s.ok()) return s;
      auto existing = store.client_.Head(blob_key);
      if (!existing && existing.status().code() != Errc::kBlobUnknown) return existing.status();
      if (!existing) {
        if (auto s = store.client_.Copy(store.DataKey(id), blob_key); !s.ok()) return s;
      }
    }
    // The blob is published; a session left behind is removed by
    // ExpireIdle, and the client is not to hear of it.
    store.DiscardSession(id, uid).IgnoreError();
    Closed();
    return Status::Ok();
  }

  // Cancel: the session and everything it holds in S3 goes.
  Status Discard() {
    if (auto s = core_->Flush(); !s.ok()) return s;
    std::string uid;
    {
      MutexLock lock(core_->mu);
      uid = core_->upload_id;
    }
    if (auto s = core_->store->DiscardSession(core_->id, uid); !s.ok()) return s;
    Closed();
    return Status::Ok();
  }

 private:
  // A mismatch ends the session (the bytes can never complete).
  Status CheckDigest(const Digest& expected, const Digest& actual, const std::string& uid) {
    if (actual == expected) return Status::Ok();
    // The mismatch is the answer; a session left behind is removed by
    // ExpireIdle.
    core_->store->DiscardSession(core_->id, uid).IgnoreError();
    Closed();
    return {Errc::kDigestInvalid, "content digest is " + actual.str() + ", not " + expected.str()};
  }

  // An upload with no full part: all its bytes are still here (a part
  // buffer or the spool).
  Status PutSpool(const std::string& key, uint64_t parts_end) {
    return core_->PutRegion(key, parts_end, size_ - parts_end);
  }

  // Sends the tail as the last part and completes the multipart upload into
  // the session's data object. `uid` is spent afterwards and cleared.
  Status Assemble(std::vector<UploadPart>& parts, std::string& uid, uint64_t parts_end) {
    S3UploadStore& store = *core_->store;
    const std::string& id = core_->id;
    const uint64_t tail = size_ - parts_end;
    if (tail > 0) {
      const int number = static_cast<int>(parts.size()) + 1;
      auto etag = core_->SendPart(uid, number, parts_end, tail);
      if (!etag) return etag.status();
      parts.push_back({number, std::move(etag).value(), tail});
    }
    std::vector<s3::CompletedPart> done;
    done.reserve(parts.size());
    for (const auto& p : parts) done.push_back({p.number, p.etag});
    if (auto s = store.client_.CompleteMultipart(store.DataKey(id), uid, done); !s.ok()) return s;
    // Nothing to abort from here on; the data object goes with the session.
    uid.clear();
    {
      MutexLock lock(core_->mu);
      core_->upload_id.clear();
    }
    core_->kept.upload_id.clear();
    return Status::Ok();
  }

  // The session is gone from S3: the release must not abort anything more.
  void Closed() {
    {
      MutexLock lock(core_->mu);
      core_->upload_id.clear();
    }
    core_->kept.upload_id.clear();
    Finished();
  }

  // The lease is given back now; the Upload answers only id() and size().
  void Finished() {
    finished_ = true;
    core_->ReleaseNow();
  }

  std::shared_ptr<Core> core_;
  crypto::Hasher hasher_;
  uint64_t size_ = core_->size;
  uint64_t kept_size_ = core_->size;
  bool finished_ = false;
};

S3UploadStore::S3UploadStore(s3::Client& client, S3BlobStore& blobs, LeaseTable& leases,
                             S3UploadStoreOptions options)
    : client_(client), blobs_(blobs), leases_(leases), options_([&] {
        options.part_size = std::max(options.part_size, kS3MinPartSize);
        options.workers = std::max(options.workers, 1);
        options.parts_in_flight = std::max(options.parts_in_flight, 1);
        return std::move(options);
      }()) {
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Work(); });
}

std::unique_ptr<char[]> S3UploadStore::TakeBuffer() {
  MutexLock lock(buffers_mu_);
  if (!free_buffers_.empty()) {
    auto buffer = std::move(free_buffers_.back());
    free_buffers_.pop_back();
    ++buffers_out_;
    return buffer;
  }
  if (static_cast<uint64_t>(buffers_out_ + 1) * options_.part_size > options_.memory_bytes) {
    return nullptr;
  }
  ++buffers_out_;
  // Not zeroed: every byte is written before it is read.
  return std::make_unique_for_overwrite<char[]>(options_.part_size);
}

void S3UploadStore::GiveBuffer(std::unique_ptr<char[]> buffer) {
  MutexLock lock(buffers_mu_);
  --buffers_out_;
  // One upload's worth stays for the next parts: a new buffer costs a page
  // fault per page as it fills, about what the spool it replaces costs.
  if (static_cast<int>(free_buffers_.size()) <= options_.parts_in_flight) {
    free_buffers_.push_back(std::move(buffer));
  }
}

S3UploadStore::~S3UploadStore() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void S3UploadStore::Post(std::function<void()> task) {
  {
    MutexLock lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void S3UploadStore::Work() {
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(mu_);
      cv_.wait(lock.native(), [&]() REQUIRES(mu_) { return stopping_ || !tasks_.empty(); });
      // Drain before stopping: a queued release must still happen.
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

std::string S3UploadStore::SessionPrefix(const std::string& id) const {
  return options_.prefix + "uploads/" + id + "/";
}
std::string S3UploadStore::StateKey(const std::string& id) const {
  return SessionPrefix(id) + "state";
}
std::string S3UploadStore::DataKey(const std::string& id) const {
  return SessionPrefix(id) + "data";
}
std::string S3UploadStore::TailKey(const std::string& id, uint64_t generation) const {
  return SessionPrefix(id) + "tail-" + std::to_string(generation);
}

Result<UploadPtr> S3UploadStore::Create(const std::string& repository) {
  auto random = crypto::RandomHex(16);
  if (!random) return random.status();
  return Open(*random, repository, true);
}

Result<UploadPtr> S3UploadStore::Acquire(const std::string& id, const std::string& repository) {
  if (!IsUploadId(id)) return Status(Errc::kBlobUploadUnknown, "upload session not found");
  return Open(id, repository, false);
}

Result<UploadPtr> S3UploadStore::Open(const std::string& id, const std::string& repository,
                                      bool create) {
  auto holder = crypto::RandomHex(16);
  if (!holder) return holder.status();
  auto taken = leases_.TryAcquire(UploadLeaseKey(id), *holder, options_.lease_ttl_seconds);
  // A lease dropped without Keep is given back by a worker, a moment after
  // the answer went out: a client's next request may come first. Wait a
  // little for it rather than answer 409 at once.
  for (int i = 0; i < 10 && taken && !*taken; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    taken = leases_.TryAcquire(UploadLeaseKey(id), *holder, options_.lease_ttl_seconds);
  }
  if (!taken) return taken.status();
  if (!*taken) return Status(Errc::kBusy, "another request is using this upload session");
  auto fail = [&](Status s) -> Result<UploadPtr> {
    // A lease that is not released lapses after lease_ttl_seconds.
    leases_.Release(UploadLeaseKey(id), *holder).IgnoreError();
    return s;
  };

  auto core = std::make_shared<Core>();
  core->store = this;
  core->id = id;
  core->holder = *holder;
  core->part_size = options_.part_size;
  core->max_pumps = options_.parts_in_flight;
  std::optional<crypto::Hasher> hasher;
  if (create) {
    core->kept.repository = repository;
    core->kept.hash = crypto::Hasher(DigestAlgorithm::kSha256).SaveState();
    hasher.emplace(DigestAlgorithm::kSha256);
  } else {
    auto text = client_.GetSmall(StateKey(id), kMaxStateBytes);
    if (!text) {
      if (text.status().code() == Errc::kBlobUnknown) {
        return fail(Status(Errc::kBlobUploadUnknown, "upload session not found"));
      }
      return fail(text.status());
    }
    auto state = DecodeUploadState(*text, id);
    if (!state) return fail(state.status());
    if (state->repository != repository) {
      return fail(Status(Errc::kBlobUploadUnknown, "upload session not found in this repository"));
    }
    auto h = crypto::Hasher::LoadState(DigestAlgorithm::kSha256, state->hash);
    if (!h) return fail(Status(Errc::kInternal, "upload " + id + ": " + h.status().message()));
    hasher.emplace(std::move(h).value());
    core->kept = std::move(state).value();
    core->state_exists = true;
  }
  auto spool = OpenSpool(options_.spool_dir);
  if (!spool) return fail(spool.status());
  core->spool = std::move(spool).value();
  const UploadState& kept = core->kept;
  core->spool_base = kept.size - kept.tail;
  if (kept.tail > 0) {
    // The tail comes back into the spool: the next part starts with it.
    uint64_t got = 0;
    Status werr;
    auto s = client_.Get(TailKey(id, kept.generation), 0, kept.tail, [&](std::span<const char> d) {
      if (got + d.size() > kept.tail) {
        werr = Status(Errc::kInternal, "upload " + id + ": tail object longer than its state says");
        return false;
      }
      werr = core->Write(core->spool_base + got, d);
      got += d.size();
      return werr.ok();
    });
    if (!werr.ok()) return fail(werr);
    if (!s.ok()) return fail(s);
    if (got != kept.tail) {
      return fail(
          Status(Errc::kInternal, "upload " + id + ": tail object shorter than its state says"));
    }
  }
  {
    MutexLock lock(core->mu);  // uncontended: no worker has the core yet
    core->size = kept.size;
    core->parts = kept.parts;
    core->parts_end = core->spool_base;
    core->next_number = static_cast<int>(kept.parts.size()) + 1;
    core->upload_id = kept.upload_id;
  }
  return UploadPtr(std::make_unique<Lease>(std::move(core), std::move(*hasher)));
}

Status S3UploadStore::DiscardSession(const std::string& id, const std::string& upload_id) {
  if (!upload_id.empty()) {
    if (auto s = client_.AbortMultipart(DataKey(id), upload_id);
        !s.ok() && s.code() != Errc::kBlobUploadUnknown) {
      return s;
    }
  }
  const std::string prefix = SessionPrefix(id);
  std::vector<std::string> keys;
  std::string token;
  do {
    auto page = client_.List(prefix, token, 1000);
    if (!page) return page.status();
    for (auto& [key, size] : page->objects) {
      if (key != StateKey(id)) keys.push_back(key);
    }
    token = page->next_token;
  } while (!token.empty());
  for (const auto& key : keys) {
    if (auto s = client_.Delete(key); !s.ok()) return s;
  }
  // Last: while anything of the session is left, its state lets a later
  // Cancel or ExpireIdle find it.
  return client_.Delete(StateKey(id));
}

Status S3UploadStore::Cancel(const std::string& id, const std::string& repository) {
  if (!IsUploadId(id)) return {Errc::kBlobUploadUnknown, "upload session not found"};
  auto lease = Open(id, repository, false);
  if (!lease) return lease.status();
  return static_cast<Lease&>(**lease).Discard();
}

Result<uint64_t> S3UploadStore::ExpireIdle(int64_t max_age_seconds, bool dry_run) {
  const std::string prefix = options_.prefix + "uploads/";
  // id -> keys of its objects; whether it has a state object.
  std::map<std::string, std::vector<std::string>> sessions;
  std::set<std::string> with_state;
  std::string token;
  do {
    auto page = client_.List(prefix, token, 1000);
    if (!page) return page.status();
    for (auto& [key, size] : page->objects) {
      std::string_view rest(key);
      if (rest.substr(0, prefix.size()) != prefix) continue;
      rest.remove_prefix(prefix.size());
      auto slash = rest.find('/');
      std::string id(rest.substr(0, slash));
      if (slash != rest.npos && rest.substr(slash + 1) == "state") with_state.insert(id);
      sessions[id].push_back(key);
    }
    token = page->next_token;
  } while (!token.empty());

  const int64_t now = Now();
  const int64_t cutoff = now - max_age_seconds;
  uint64_t removed = 0;
  for (const auto& [id, keys] : sessions) {
    std::optional<UploadState> state;
    if (with_state.count(id) && IsUploadId(id)) {
      auto text = client_.GetSmall(StateKey(id), kMaxStateBytes);
      // Gone meanwhile (completed, cancelled), or unreadable now: never take
      // a live session for a leftover.
      if (!text) continue;
      auto decoded = DecodeUploadState(*text, id);
      if (decoded) state = std::move(decoded).value();
    }
    if (state) {
      if (state->updated >= cutoff) continue;
    } else {
      // A leftover: S3 lists no time, so age it by when we first saw it.
      MutexLock lock(mu_);
      auto [it, inserted] = leftovers_.emplace(prefix + id, now);
      if (inserted || it->second > cutoff) continue;
    }
    auto holder = crypto::RandomHex(16);
    if (!holder) return holder.status();
    auto taken = leases_.TryAcquire(UploadLeaseKey(id), *holder, 60);
    if (!taken) return taken.status();
    if (!*taken) continue;  // a request is using it
    if (dry_run) {
      ++removed;
    } else {
      Status s;
      if (state) {
        s = DiscardSession(id, state->upload_id);
      } else {
        for (const auto& key : keys) {
          if (s = client_.Delete(key); !s.ok()) break;
        }
      }
      if (s.ok()) {
        ++removed;
        MutexLock lock(mu_);
        leftovers_.erase(prefix + id);
      }
    }
    // A lease that is not released lapses after lease_ttl_seconds.
    leases_.Release(UploadLeaseKey(id), *holder).IgnoreError();
  }
  return removed;
}

Result<uint64_t> S3UploadStore::InProgress() {
  const std::string prefix = options_.prefix + "uploads/";
  uint64_t n = 0;
  std::string token;
  do {
    auto page = client_.List(prefix, token, 1000);
    if (!page) return page.status();
    for (const auto& [key, size] : page->objects) {
      if (key.size() > prefix.size() + 6 && key.compare(key.size() - 6, 6, "/state") == 0) ++n;
    }
    token = page->next_token;
  } while (!token.empty());
  return n;
}

}  // namespace berth::storage
