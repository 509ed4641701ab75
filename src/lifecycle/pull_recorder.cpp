#include "lifecycle/pull_recorder.hpp"

#include <algorithm>
#include <vector>

namespace berth::lifecycle {

void PullRecorder::Record(const std::string& repository, const std::string& tag, int64_t now) {
  MutexLock lock(mu_);
  auto key = std::make_pair(repository, tag);
  auto it = pending_.find(key);
  if (it != pending_.end()) {
    it->second = std::max(it->second, now);
  } else if (pending_.size() < kMaxPending) {
    pending_.emplace(std::move(key), now);
  } else {
    ++dropped_;
  }
}

Status PullRecorder::Flush(storage::LifecycleStore& store) {
  decltype(pending_) batch;
  {
    MutexLock lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return Status::Ok();
  std::vector<storage::TagPull> pulls;
  pulls.reserve(batch.size());
  for (const auto& [key, at] : batch) pulls.push_back({key.first, key.second, at});
  Status s = store.RecordPulls(pulls);
  if (!s.ok()) {
    // Put them back (newer pulls recorded meanwhile win).
    MutexLock lock(mu_);
    for (auto& [key, at] : batch) {
      auto [it, inserted] = pending_.emplace(key, at);
      if (!inserted) it->second = std::max(it->second, at);
    }
  }
  return s;
}

uint64_t PullRecorder::dropped() const {
  MutexLock lock(mu_);
  return dropped_;
}

}  // namespace berth::lifecycle
