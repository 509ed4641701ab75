// Unpredictable identifiers from OpenSSL's CSPRNG (upload ids, request ids).
//
// Thread-safety: safe from any thread.
#pragma once

#include <string>

namespace berth::crypto {

// `bytes` random bytes as lower-case hex (2 * bytes characters).
std::string RandomHex(size_t bytes);

}  // namespace berth::crypto
