#include "crypto/random.hpp"

#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

#include "crypto/hasher.hpp"

namespace berth::crypto {

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    // The CSPRNG failing is not recoverable by a caller; do not hand out
    // guessable ids.
    throw std::runtime_error("RAND_bytes failed");
  }
  return ToHex(buf);
}

}  // namespace berth::crypto
