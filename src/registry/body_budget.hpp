// BodyBudget and BudgetedBody: a cap on the request bodies the registry holds
// in memory at once (manifest PUTs; blob bodies stream to disk and need
// none). Without it, N clients that each stall a manifest PUT just before its
// end hold N × max_manifest_bytes between them; with it they hold at most the
// budget, and the request that would pass it is answered 429.
//
// Thread-safety: a BodyBudget may be used from many threads at once; a
// BudgetedBody belongs to one request (one thread at a time).
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>

#include "common/result.hpp"

namespace berth::registry {

// Bytes of manifest bodies held in memory across all requests of the
// process: 64 MiB, sixteen 4 MiB manifests (the default max_manifest_bytes)
// at once. Not configurable yet.
constexpr uint64_t kManifestBodyBudget = 64 * 1024 * 1024;

class BodyBudget {
 public:
  explicit BodyBudget(uint64_t limit) : limit_(limit) {}
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;

  // Takes `bytes` from the budget. False, taking nothing, when that would
  // pass the limit, unless nothing at all is taken: one body larger than the
  // whole budget is still let through on its own, so a max_manifest_bytes
  // above the budget refuses concurrency, not the manifest.
  bool TryReserve(uint64_t bytes);
  // Gives back `bytes`. REQUIRES: they were taken by TryReserve.
  void Release(uint64_t bytes);

  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

// The process-wide budget for manifest bodies (kManifestBodyBudget bytes),
// shared by every Registry.
BodyBudget& ManifestBodyBudget();

// A request body collected in memory under a BodyBudget. The buffer grows as
// bytes arrive (doubling, never past what the body needs), and every byte of
// buffer is reserved before it is allocated, so the budget bounds what is
// really held. Everything is given back by Release or the destructor, which
// also covers a client that vanished mid-body.
class BudgetedBody {
 public:
  // The body may reach `max_bytes`; `budget` must outlive this.
  BudgetedBody(BodyBudget& budget, uint64_t max_bytes) : budget_(budget), max_bytes_(max_bytes) {}
  ~BudgetedBody() { Release(); }
  BudgetedBody(const BudgetedBody&) = delete;
  BudgetedBody& operator=(const BudgetedBody&) = delete;

  // Reserves a declared length (Content-Length) before any byte is read, so
  // a body that cannot fit is refused at once, before the client sends it;
  // the buffer still grows only as bytes arrive, up to `length`.
  // kTooLarge past max_bytes; kTooManyRequests when the budget is spent.
  // REQUIRES: called at most once, before Append.
  Status Claim(uint64_t length);

  // Appends `data`. kTooLarge when the body would pass max_bytes;
  // kTooManyRequests when growing the buffer would pass the budget.
  Status Append(std::span<const char> data);

  // The bytes so far.
  const std::string& bytes() const { return buffer_; }
  // Moves the bytes out. The reservation stays until Release, because the
  // caller still holds the memory.
  std::string Take() { return std::move(buffer_); }
  // Frees the buffer and gives its reservation back. Idempotent.
  void Release();

  // Bytes reserved from the budget (exposed for tests).
  uint64_t reserved() const { return reserved_; }

 private:
  BodyBudget& budget_;
  const uint64_t max_bytes_;
  uint64_t claimed_ = 0;    // declared length reserved by Claim
  uint64_t allocated_ = 0;  // heap bytes of buffer_ (0 while it is empty)
  uint64_t reserved_ = 0;   // taken from budget_: covers claimed_ and allocated_
  std::string buffer_;
};

}  // namespace berth::registry
