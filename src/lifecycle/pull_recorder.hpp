// PullRecorder: remembers when tags were pulled, in memory, and writes them
// to the store in one transaction per flush, so a pull costs no write.
// Retention's keep_days reads these times; a crash loses at most one flush
// interval of them, which can only make a tag look older by that much.
//
// Thread-safety: Record and Flush are safe from many threads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/thread_annotations.hpp"
#include "storage/lifecycle_store.hpp"

namespace berth::lifecycle {

class PullRecorder {
 public:
  // At most this many distinct tags wait for a flush; past it, pulls of
  // further tags are not recorded until the next flush (counted in dropped()).
  static constexpr size_t kMaxPending = 100000;

  void Record(const std::string& repository, const std::string& tag, int64_t now);

  // Writes what was recorded; on failure it is kept for the next flush.
  Status Flush(storage::LifecycleStore& store);

  uint64_t dropped() const;

 private:
  mutable Mutex mu_;
  std::map<std::pair<std::string, std::string>, int64_t> pending_ GUARDED_BY(mu_);
  uint64_t dropped_ GUARDED_BY(mu_) = 0;
};

}  // namespace berth::lifecycle
