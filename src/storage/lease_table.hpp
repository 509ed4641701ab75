// LeaseTable: short exclusive leases on named things (an upload session),
// shared by every berth that uses the same store. A lease not released
// lapses after its time to live, so a node that died holding one blocks the
// thing only briefly.
//
// Thread-safety: implementations are safe to call from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"

namespace berth::storage {

class LeaseTable {
 public:
  virtual ~LeaseTable() = default;

  // Takes the lease on `key` for `holder` (unique per lease attempt) for
  // `ttl_seconds`: true when taken or already held by `holder` (then
  // renewed), false when another holder has it and it has not lapsed.
  virtual Result<bool> TryAcquire(const std::string& key, const std::string& holder,
                                  int64_t ttl_seconds) = 0;

  // Gives the lease back if `holder` still has it; OK otherwise too.
  virtual Status Release(const std::string& key, const std::string& holder) = 0;
};

using LeaseTablePtr = std::unique_ptr<LeaseTable>;

}  // namespace berth::storage
