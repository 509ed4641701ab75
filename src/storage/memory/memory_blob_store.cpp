#include "storage/memory/memory_blob_store.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <thread>
#include <vector>

#include "common/file.hpp"

namespace berth::storage {
namespace {

// Feeds [offset, offset + length) of `bytes` into the pipe's write end, then
// closes it. SIGPIPE is blocked in this thread so that a reader that went
// away ends the loop with EPIPE instead of killing a process that did not
// ignore the signal (a test binary).
// `bytes` by value: the detached thread holds its own reference.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
void Feed(UniqueFd out, std::shared_ptr<const std::string> bytes, uint64_t offset,
          uint64_t length) {
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  const char* p = bytes->data() + offset;
  uint64_t left = length;
  while (left > 0) {
    ssize_t n = ::write(out.get(), p, static_cast<size_t>(std::min<uint64_t>(left, 1 << 20)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EPIPE: the reader closed its end
    p += n;
    left -= static_cast<uint64_t>(n);
  }
}

Result<OpenBlob> MemfdCopy(const std::string& bytes) {
  UniqueFd fd(::memfd_create("berth-blob", MFD_CLOEXEC));
  if (!fd.valid()) return PosixError("memfd_create", errno);
  if (auto s = WriteAll(fd.get(), bytes.data(), bytes.size(), "memfd"); !s.ok()) return s;
  return OpenBlob{std::move(fd), bytes.size(), false};
}

}  // namespace

MemoryBlobStore::MemoryBlobStore(Serve serve) : serve_(serve) {}

Status MemoryBlobStore::Put(const Digest& digest, std::string bytes) {
  MutexLock lock(mu_);
  blobs_.try_emplace(digest.str(), std::make_shared<const std::string>(std::move(bytes)));
  return Status::Ok();
}

void MemoryBlobStore::SetRedirectBase(std::string base) {
  MutexLock lock(mu_);
  redirect_base_ = std::move(base);
}

Result<MemoryBlobStore::Bytes> MemoryBlobStore::Find(const Digest& digest) {
  MutexLock lock(mu_);
  auto it = blobs_.find(digest.str());
  if (it == blobs_.end()) return Status(Errc::kBlobUnknown, "blob " + digest.str() + " not stored");
  return it->second;
}

Result<OpenBlob> MemoryBlobStore::Open(const Digest& digest) {
  auto bytes = Find(digest);
  if (!bytes) return bytes.status();
  return OpenRange(digest, 0, (*bytes)->size());
}

Result<OpenBlob> MemoryBlobStore::OpenRange(const Digest& digest, uint64_t offset,
                                            uint64_t length) {
  auto found = Find(digest);
  if (!found) return found.status();
  Bytes bytes = std::move(found).value();
  if (serve_ == Serve::kSeekable) return MemfdCopy(*bytes);
  const uint64_t size = bytes->size();
  if (offset > size) {
    return Status(Errc::kRangeInvalid, "range starts past the end of " + digest.str());
  }
  length = std::min(length, size - offset);
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return PosixError("pipe", errno);
  UniqueFd in(ends[0]), out(ends[1]);
  std::thread(Feed, std::move(out), std::move(bytes), offset, length).detach();
  return OpenBlob{std::move(in), size, true};
}

std::optional<std::string> MemoryBlobStore::RedirectUrl(const Digest& digest,
                                                        const std::string& method) {
  MutexLock lock(mu_);
  if (redirect_base_.empty()) return std::nullopt;
  return redirect_base_ + "/" + digest.str() + "?method=" + method;
}

Result<uint64_t> MemoryBlobStore::Stat(const Digest& digest) {
  auto bytes = Find(digest);
  if (!bytes) return bytes.status();
  return static_cast<uint64_t>((*bytes)->size());
}

Status MemoryBlobStore::Publish(const std::string& staged_path, const Digest& digest) {
  UniqueFd fd(::open(staged_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + staged_path, errno);
  std::string bytes;
  std::vector<char> buf(1 << 16);
  while (true) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PosixError("read " + staged_path, errno);
    if (n == 0) break;
    bytes.append(buf.data(), static_cast<size_t>(n));
  }
  ::unlink(staged_path.c_str());
  return Put(digest, std::move(bytes));
}

Status MemoryBlobStore::Remove(const Digest& digest) {
  MutexLock lock(mu_);
  auto it = blobs_.find(digest.str());
  if (it == blobs_.end()) return Status::Ok();
  trash_[it->first] = std::move(it->second);
  blobs_.erase(it);
  return Status::Ok();
}

Result<uint64_t> MemoryBlobStore::Purge() {
  MutexLock lock(mu_);
  const uint64_t freed = trash_.size();
  trash_.clear();
  return freed;
}

Status MemoryBlobStore::ForEach(const std::function<void(const Digest&, uint64_t size)>& visit) {
  // A snapshot: `visit` may call back into the store.
  std::vector<std::pair<std::string, uint64_t>> all;
  {
    MutexLock lock(mu_);
    for (const auto& [name, bytes] : blobs_) all.emplace_back(name, bytes->size());
  }
  for (const auto& [name, size] : all) {
    auto digest = Digest::Parse(name);
    if (digest) visit(*digest, size);
  }
  return Status::Ok();
}

}  // namespace berth::storage
