// Test helper: the bytes an OpenBlob yields for a range, read the way its
// `stream` flag says (pread of a seekable file; a pipe read to EOF, each
// read bounded by a poll timeout so that a stuck producer fails the test
// instead of hanging it).
#pragma once

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>

namespace berth::test_util {

// [offset, offset + length) of a seekable `fd`, or everything a pipe `fd`
// yields until EOF (at most length + 1 MiB, so an overrun shows); nullopt on
// a read error or a producer silent for 10 s.
inline std::optional<std::string> ReadBlobFd(int fd, bool stream, uint64_t offset,
                                             uint64_t length) {
  std::string out;
  char buf[64 * 1024];
  while (true) {
    if (stream) {
      if (out.size() > length + (1 << 20)) return out;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10'000) <= 0) return std::nullopt;
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::nullopt;
      if (n == 0) return out;
      out.append(buf, static_cast<size_t>(n));
    } else {
      if (out.size() >= length) return out;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof buf, length - out.size()));
      ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(offset + out.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::nullopt;
      if (n == 0) return out;  // shorter than asked
      out.append(buf, static_cast<size_t>(n));
    }
  }
}

}  // namespace berth::test_util
