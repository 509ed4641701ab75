// Hashing a file's bytes with crypto::Hasher: the one loop that reads a file
// back to hash it (fsck, and an upload session resumed after a restart).
// It lives in crypto, not in common/file.hpp, because crypto depends on
// common.
//
// Thread-safety: reentrant; the descriptor's offset is not moved (pread).
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "common/digest.hpp"
#include "common/result.hpp"
#include "crypto/hasher.hpp"

namespace berth::crypto {

// Reads to the end of the file.
inline constexpr uint64_t kToEndOfFile = std::numeric_limits<uint64_t>::max();

// Hashes bytes [0, size) of `fd` with `algorithm` and returns the hasher, so
// the caller may go on feeding it. With size kToEndOfFile it hashes the whole
// file; otherwise a file shorter than `size` is kInternal ("<context>: file
// shorter than expected"). `context` names the file in errors. `*bytes`,
// when given, is increased by the number of bytes hashed.
Result<Hasher> HashFd(int fd, DigestAlgorithm algorithm, uint64_t size, const std::string& context,
                      uint64_t* bytes = nullptr);

// Digest of the whole file `path`. A missing file is kInternal like any
// other read error; `*bytes` as for HashFd.
Result<Digest> HashFile(const std::string& path, DigestAlgorithm algorithm,
                        uint64_t* bytes = nullptr);

}  // namespace berth::crypto
