#include "crypto/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "crypto/hasher.hpp"

namespace berth::crypto {

Result<std::string> RandomHex(size_t bytes) {
  // The kernel's CSPRNG rather than OpenSSL's: ids need no more, and the
  // first RAND_bytes instantiates OpenSSL's DRBG, which maps ~2 MiB more of
  // libcrypto into every registry that never does TLS.
  std::vector<unsigned char> buf(bytes);
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::getrandom(buf.data() + got, buf.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Never a guessable id instead.
      return Status(Errc::kInternal, std::string("getrandom failed: ") + std::strerror(errno));
    }
    got += static_cast<size_t>(n);
  }
  return ToHex(buf);
}

}  // namespace berth::crypto
