#include "crypto/file_hash.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "common/file.hpp"

namespace berth::crypto {

Result<Hasher> HashFd(int fd, DigestAlgorithm algorithm, uint64_t size, const std::string& context,
                      uint64_t* bytes) {
  Hasher h(algorithm);
  std::vector<char> buf(1 << 20);
  uint64_t off = 0;
  while (off < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - off));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("read " + context, errno);
    }
    if (n == 0) {
      if (size == kToEndOfFile) break;
      return Status(Errc::kInternal, context + ": file shorter than expected");
    }
    h.Update({buf.data(), static_cast<size_t>(n)});
    off += static_cast<uint64_t>(n);
    if (bytes != nullptr) *bytes += static_cast<uint64_t>(n);
  }
  return h;
}

Result<Digest> HashFile(const std::string& path, DigestAlgorithm algorithm, uint64_t* bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + path, errno);
  auto h = HashFd(fd.get(), algorithm, kToEndOfFile, path, bytes);
  if (!h) return h.status();
  return h->Peek();
}

}  // namespace berth::crypto
