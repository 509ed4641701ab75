// Unpredictable identifiers from the kernel's CSPRNG (upload ids, token ids, salts).
//
// Thread-safety: safe from any thread.
#pragma once

#include <string>

namespace berth::crypto {

// `bytes` random bytes as lower-case hex (2 * bytes characters).
std::string RandomHex(size_t bytes);

}  // namespace berth::crypto
