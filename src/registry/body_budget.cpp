#include "registry/body_budget.hpp"

#include <algorithm>

namespace berth::registry {
namespace {

// The first buffer of a body whose length was not declared: most manifests
// are one or two KiB.
constexpr uint64_t kFirstBuffer = 4096;

Status TooLarge(uint64_t max_bytes) {
  return {Errc::kTooLarge, "manifest larger than " + std::to_string(max_bytes) + " bytes"};
}

Status Busy() {
  return {Errc::kTooManyRequests, "too many manifest uploads in progress; retry shortly"};
}

}  // namespace

bool BodyBudget::TryReserve(uint64_t bytes) {
  uint64_t used = used_.load(std::memory_order_relaxed);
  do {
    if (used != 0 && (bytes > limit_ || used > limit_ - bytes)) return false;
  } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

void BodyBudget::Release(uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

BodyBudget& ManifestBodyBudget() {
  static BodyBudget budget(kManifestBodyBudget);
  return budget;
}

Status BudgetedBody::Claim(uint64_t length) {
  if (length > max_bytes_) return TooLarge(max_bytes_);
  if (length <= reserved_) return Status::Ok();
  if (!budget_.TryReserve(length - reserved_)) return Busy();
  reserved_ = length;
  claimed_ = length;
  return Status::Ok();
}

Status BudgetedBody::Append(std::span<const char> data) {
  const uint64_t need = buffer_.size() + data.size();
  if (need > max_bytes_) return TooLarge(max_bytes_);
  if (need > allocated_) {
    // Double, but never past the declared length (or the limit when none was
    // declared): the last step allocates only what the body still needs.
    const uint64_t ceiling = claimed_ ? std::max(claimed_, need) : max_bytes_;
    const uint64_t doubled = std::max(2 * allocated_, kFirstBuffer);
    const uint64_t size = std::max(need, std::min(doubled, ceiling));
    // The old buffer, smaller than the new one, is live too while the bytes
    // are copied across. That lasts one copy, not a client's stall, so it is
    // not reserved: reserving it could refuse, midway, a body whose declared
    // length was accepted.
    if (size > reserved_) {
      if (!budget_.TryReserve(size - reserved_)) return Busy();
      reserved_ = size;
    }
    // A fresh string reserves exactly `size` (growing in place may round the
    // capacity up to twice the old one), so what is reserved is what is
    // allocated, to within the allocator's rounding.
    std::string grown;
    grown.reserve(size);
    grown.append(buffer_);
    buffer_.swap(grown);
    allocated_ = size;
  }
  buffer_.append(data.data(), data.size());
  return Status::Ok();
}

void BudgetedBody::Release() {
  std::string().swap(buffer_);
  if (reserved_ > 0) budget_.Release(reserved_);
  reserved_ = 0;
  claimed_ = 0;
  allocated_ = 0;
}

}  // namespace berth::registry
