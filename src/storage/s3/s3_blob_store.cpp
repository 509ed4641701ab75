#include "storage/s3/s3_blob_store.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <thread>

#include "common/file.hpp"

namespace berth::storage {

namespace {

// S3 refuses a single PutObject above 5 GiB.
constexpr uint64_t kMaxSinglePut = uint64_t{5} << 30;

// Blocks SIGPIPE in the calling thread for its whole life: a write to a pipe
// whose reader is gone then fails with EPIPE instead of killing berth.
void BlockSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// The SIGPIPE a failed write raised stays pending on this (blocking) thread;
// take it, so it cannot be delivered should the thread ever unblock it.
void DropPendingSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  timespec zero{0, 0};
  while (sigtimedwait(&set, nullptr, &zero) == SIGPIPE) {
  }
}

// Writes all of `data` to the non-blocking pipe `fd`, waiting at most
// `stall_ms` each time the pipe is full. False when the reader went away or
// stalled.
bool WriteToPipe(int fd, std::span<const char> data, int stall_ms) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      int r = ::poll(&p, 1, stall_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;  // the reader stalled
      if (p.revents & (POLLERR | POLLHUP)) {
        // POLLERR on a pipe's write end: the reader is gone; the next
        // write would fail with EPIPE.
        return false;
      }
      continue;
    }
    if (n < 0 && errno == EPIPE) DropPendingSigpipe();
    return false;
  }
  return true;
}

}  // namespace

S3BlobStore::S3BlobStore(s3::Client& client, S3BlobStoreOptions options)
    : client_(client), options_(std::move(options)) {}

S3BlobStore::~S3BlobStore() {
  MutexLock lock(mu_);
  cv_.wait(lock.native(), [&]() REQUIRES(mu_) { return fetches_ == 0; });
}

std::string S3BlobStore::Key(const Digest& digest) const {
  return options_.prefix + "blobs/" + std::string(digest.algorithm_name()) + "/" +
         digest.hex().substr(0, 2) + "/" + digest.hex();
}

Result<uint64_t> S3BlobStore::Stat(const Digest& digest) {
  auto info = client_.Head(Key(digest));
  if (!info) return info.status();
  return info->size;
}

Result<OpenBlob> S3BlobStore::Open(const Digest& digest) {
  auto size = Stat(digest);
  if (!size) return size.status();
  return OpenRange(digest, 0, *size);
}

Result<OpenBlob> S3BlobStore::OpenRange(const Digest& digest, uint64_t offset, uint64_t length) {
  const std::string key = Key(digest);
  auto info = client_.Head(key);
  if (!info) return info.status();
  if (offset > info->size || length > info->size - offset) {
    return Status(Errc::kRangeInvalid, "range past the end of blob " + digest.str());
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return PosixError("pipe for blob " + digest.str(), errno);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  OpenBlob blob{std::move(read_end), info->size, true};
  if (length == 0) return blob;  // the write end closes now: an empty stream
  (void)::fcntl(write_end.get(), F_SETPIPE_SZ, options_.pipe_bytes);  // a hint
  if (::fcntl(write_end.get(), F_SETFL, O_NONBLOCK) != 0) {
    return PosixError("pipe for blob " + digest.str(), errno);
  }
  {
    MutexLock lock(mu_);
    if (!cv_.wait_for(lock.native(), std::chrono::milliseconds(options_.fetch_wait_ms),
                      [&]() REQUIRES(mu_) { return fetches_ < options_.max_fetches; })) {
      return Status(Errc::kUnavailable, "too many blob reads from S3 in flight; retry");
    }
    ++fetches_;
  }
  // A thread per fetch, counted rather than pooled: a fetch is network-bound
  // and lasts long compared with starting a thread.
  std::thread(RunFetch, this, key, offset, length, std::move(write_end)).detach();
  return blob;
}

// `key` by value: the detached thread owns its copy.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
void S3BlobStore::RunFetch(S3BlobStore* store, std::string key, uint64_t offset, uint64_t length,
                           UniqueFd write_end) {
  BlockSigpipe();
  const int stall_ms = store->options_.stall_timeout_ms;
  // The sink returning false aborts the GET; the short stream tells the
  // reader. The status itself has no one to go to but the reader's count.
  store->client_
      .Get(key, offset, length,
           [&](std::span<const char> data) { return WriteToPipe(write_end.get(), data, stall_ms); })
      .IgnoreError();
  write_end.Reset();
  MutexLock lock(store->mu_);
  --store->fetches_;
  // Under the lock: the destructor may return (and the store vanish) as
  // soon as it sees the count drop.
  store->cv_.notify_all();
}

std::optional<std::string> S3BlobStore::RedirectUrl(const Digest& digest,
                                                    const std::string& method) {
  if (!options_.redirect) return std::nullopt;
  return client_.Presign(method, Key(digest), options_.redirect_expires_seconds);
}

Status S3BlobStore::Publish(const std::string& staged_path, const Digest& digest) {
  const std::string key = Key(digest);
  auto existing = client_.Head(key);
  if (existing) {
    // Same digest, same content: the object already is this blob.
    ::unlink(staged_path.c_str());
    return Status::Ok();
  }
  if (existing.status().code() != Errc::kBlobUnknown) return existing.status();
  UniqueFd fd(::open(staged_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + staged_path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return PosixError("stat " + staged_path, errno);
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > kMaxSinglePut) {
    return Status(Errc::kUnsupported,
                  "blob " + digest.str() + " is over 5 GiB, S3's single PUT limit");
  }
  if (auto s = client_.PutFile(key, fd.get(), 0, size); !s.ok()) return s;
  ::unlink(staged_path.c_str());
  return Status::Ok();
}

Status S3BlobStore::Remove(const Digest& digest) { return client_.Delete(Key(digest)); }

Result<uint64_t> S3BlobStore::Purge() { return uint64_t{0}; }

Status S3BlobStore::ForEach(const std::function<void(const Digest&, uint64_t size)>& visit) {
  const std::string prefix = options_.prefix + "blobs/";
  std::string token;
  do {
    auto page = client_.List(prefix, token, 1000);
    if (!page) return page.status();
    for (const auto& [key, size] : page->objects) {
      // "<algorithm>/<xx>/<hex>"
      std::string_view rest(key);
      if (rest.substr(0, prefix.size()) != prefix) continue;
      rest.remove_prefix(prefix.size());
      auto slash1 = rest.find('/');
      if (slash1 == rest.npos) continue;
      auto slash2 = rest.find('/', slash1 + 1);
      if (slash2 == rest.npos || slash2 != slash1 + 3) continue;
      auto digest = Digest::Parse(std::string(rest.substr(0, slash1)) + ":" +
                                  std::string(rest.substr(slash2 + 1)));
      if (!digest || digest->hex().substr(0, 2) != rest.substr(slash1 + 1, 2)) continue;
      visit(*digest, size);
    }
    token = page->next_token;
  } while (!token.empty());
  return Status::Ok();
}

}  // namespace berth::storage
