// Unpredictable identifiers from the kernel's CSPRNG (upload ids, token ids, salts).
//
// Thread-safety: safe from any thread.
#pragma once

#include <string>

#include "common/result.hpp"

namespace berth::crypto {

// `bytes` random bytes as lower-case hex (2 * bytes characters); kInternal
// when the kernel cannot supply them.
Result<std::string> RandomHex(size_t bytes);

}  // namespace berth::crypto
