// Tests for MemoryLeaseTable (storage/memory/memory_lease_table.hpp): exclusive
// holders, renewal by the same holder, lapse after the TTL, release only by
// the holder.

#include "storage/memory/memory_lease_table.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace berth::storage {
namespace {

TEST(MemoryLeaseTableTest, OneHolderAtATime) {
  MemoryLeaseTable t;
  EXPECT_TRUE(*t.TryAcquire("upload:a", "h1", 60));
  EXPECT_FALSE(*t.TryAcquire("upload:a", "h2", 60));
  EXPECT_TRUE(*t.TryAcquire("upload:a", "h1", 60));  // renewal
  EXPECT_TRUE(*t.TryAcquire("upload:b", "h2", 60));  // another key
  EXPECT_TRUE(t.Release("upload:a", "h2").ok());     // not h2's: no effect
  EXPECT_FALSE(*t.TryAcquire("upload:a", "h2", 60));
  EXPECT_TRUE(t.Release("upload:a", "h1").ok());
  EXPECT_TRUE(*t.TryAcquire("upload:a", "h2", 60));
  EXPECT_TRUE(t.Release("upload:missing", "h1").ok());
}

TEST(MemoryLeaseTableTest, LapsedLeaseIsTakenOver) {
  MemoryLeaseTable t;
  EXPECT_TRUE(*t.TryAcquire("k", "h1", 0));  // lapses at once
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(*t.TryAcquire("k", "h2", 60));
  EXPECT_FALSE(*t.TryAcquire("k", "h1", 60));
}

}  // namespace
}  // namespace berth::storage
