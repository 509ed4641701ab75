#include "storage/s3/s3_upload_core.hpp"

#include <fcntl.h>
#include <linux/falloc.h>

#include <algorithm>
#include <cstring>

namespace berth::storage {

S3UploadStore::Core::~Core() {
  for (auto& [at, buffer] : held) store->GiveBuffer(std::move(buffer));
}

Status S3UploadStore::Core::Write(uint64_t at, std::span<const char> data) {
  while (!data.empty()) {
    const uint64_t rel = (at - spool_base) % part_size;
    if (rel == 0) StartRegion(at);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(data.size(), part_size - rel));
    if (fill != nullptr) {
      std::memcpy(fill + rel, data.data(), n);
    } else if (auto s = WriteAllAt(spool.get(), data.data(), n, at - spool_base,
                                   "spool of upload " + id);
               !s.ok()) {
      return s;
    }
    at += n;
    data = data.subspan(n);
  }
  return Status::Ok();
}

void S3UploadStore::Core::StartRegion(uint64_t at) {
  fill = nullptr;
  {
    MutexLock lock(mu);
    if (static_cast<int>(held.size()) > max_pumps) return;
  }
  auto buffer = store->TakeBuffer();
  if (!buffer) return;
  fill = buffer.get();
  MutexLock lock(mu);
  held.emplace(at, std::move(buffer));
}

const char* S3UploadStore::Core::Held(uint64_t at) {
  MutexLock lock(mu);
  auto it = held.find(at);
  return it == held.end() ? nullptr : it->second.get();
}

void S3UploadStore::Core::Drop(uint64_t at) {
  std::unique_ptr<char[]> buffer;
  {
    MutexLock lock(mu);
    auto it = held.find(at);
    if (it != held.end()) {
      buffer = std::move(it->second);
      held.erase(it);
    }
  }
  if (buffer) {
    store->GiveBuffer(std::move(buffer));
    return;
  }
  // A large push holds a few parts on local disk, not the body. A hint:
  // where holes are not supported the file just stays whole.
  (void)::fallocate(spool.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(at - spool_base), static_cast<off_t>(part_size));
}

Result<std::string> S3UploadStore::Core::SendPart(const std::string& uid, int number, uint64_t at,
                                                  uint64_t length) {
  if (const char* buffer = Held(at)) {
    return store->client_.UploadPart(store->DataKey(id), uid, number,
                                     {buffer, static_cast<size_t>(length)});
  }
  return store->client_.UploadPart(store->DataKey(id), uid, number, spool.get(), at - spool_base,
                                   length);
}

Status S3UploadStore::Core::PutRegion(const std::string& key, uint64_t at, uint64_t length) {
  if (const char* buffer = Held(at)) {
    return store->client_.PutData(key, {buffer, static_cast<size_t>(length)});
  }
  return store->client_.PutFile(key, spool.get(), at - spool_base, length);
}

Result<std::string> S3UploadStore::Core::UploadId() {
  MutexLock create(create_mu);
  {
    MutexLock lock(mu);
    if (!upload_id.empty()) return upload_id;
  }
  auto created = store->client_.CreateMultipart(store->DataKey(id));
  if (!created) return created.status();
  MutexLock lock(mu);
  upload_id = *created;
  return upload_id;
}

bool S3UploadStore::Core::UploadNextPart() {
  uint64_t offset;
  int number;
  {
    MutexLock lock(mu);
    if (!error.ok() || dropped || size - parts_end < part_size) return false;
    offset = parts_end;
    number = next_number++;
    parts_end += part_size;
  }
  Status failure;
  if (number > kS3MaxParts) {
    failure = Status(Errc::kTooLarge, "upload " + id + " is over 10,000 parts of S3 multipart");
  } else if (auto uid = UploadId(); !uid) {
    failure = uid.status();
  } else {
    auto etag = SendPart(*uid, number, offset, part_size);
    if (etag) {
      Drop(offset);
      MutexLock lock(mu);
      parts.push_back({number, std::move(etag).value(), part_size});
      return true;
    }
    failure = etag.status();
  }
  MutexLock lock(mu);
  if (error.ok()) error = failure;
  return false;
}

void S3UploadStore::Core::Pump() {
  while (UploadNextPart()) {
  }
  bool release = false;
  {
    MutexLock lock(mu);
    --pumps;
    if (pumps == 0 && dropped && !released) release = released = true;
  }
  cv.notify_all();
  if (release) Release();
}

Status S3UploadStore::Core::Flush() {
  {
    MutexLock lock(mu);
    cv.wait(lock.native(), [&]() REQUIRES(mu) { return pumps == 0; });
  }
  while (UploadNextPart()) {
  }
  MutexLock lock(mu);
  std::sort(parts.begin(), parts.end(),
            [](const UploadPart& a, const UploadPart& b) { return a.number < b.number; });
  return error;
}

void S3UploadStore::Core::Release() {
  std::string uid;
  {
    MutexLock lock(mu);
    uid = upload_id;
  }
  if (!uid.empty() && uid != kept.upload_id) {
    // Best effort: no kept state names this multipart upload, so it is
    // never completed; the bucket's AbortIncompleteMultipartUpload rule
    // removes it (s3_upload_store.hpp, "Not handled").
    store->client_.AbortMultipart(store->DataKey(id), uid).IgnoreError();
  }
  // A lease that is not released lapses after lease_ttl_seconds.
  store->leases_.Release(UploadLeaseKey(id), holder).IgnoreError();
}

void S3UploadStore::Core::ReleaseNow() {
  {
    MutexLock lock(mu);
    if (released) return;
    released = true;
  }
  Release();
}

Status S3UploadStore::Core::Renew() {
  auto taken =
      store->leases_.TryAcquire(UploadLeaseKey(id), holder, store->options_.lease_ttl_seconds);
  if (!taken) return taken.status();
  if (!*taken) {
    return Status(Errc::kBusy, "upload " + id + ": the lease lapsed and another request holds it");
  }
  return Status::Ok();
}

}  // namespace berth::storage
