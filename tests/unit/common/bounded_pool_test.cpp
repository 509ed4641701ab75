// Tests for BoundedPool (common/bounded_pool.hpp): calls run on the pool's
// threads, at most threads + queue are accepted at once, the next is refused
// without waiting, and a refusal frees nothing it did not take.

#include "common/bounded_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace berth {
namespace {

using namespace std::chrono_literals;

// Waits (bounded) until the pool holds `n` calls.
bool WaitInFlight(const BoundedPool& pool, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (pool.in_flight() != n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(BoundedPoolTest, RunsOnAPoolThreadAndWaitsForTheCall) {
  BoundedPool pool(2, 0);
  std::thread::id ran_on;
  int value = 0;
  EXPECT_TRUE(pool.Run([&] {
    ran_on = std::this_thread::get_id();
    std::this_thread::sleep_for(10ms);
    value = 42;
  }));
  EXPECT_EQ(value, 42);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_EQ(pool.in_flight(), 0u);
}

TEST(BoundedPoolTest, RefusesAtOnceWhenThreadsAndQueueAreFull) {
  BoundedPool pool(1, 1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> ran{0};
  auto blocked = [&] {
    gate.wait();
    ++ran;
  };
  // One call runs (blocked), one waits in the queue.
  std::thread running([&] { EXPECT_TRUE(pool.Run(blocked)); });
  ASSERT_TRUE(WaitInFlight(pool, 1));
  std::thread queued([&] { EXPECT_TRUE(pool.Run(blocked)); });
  ASSERT_TRUE(WaitInFlight(pool, 2));

  const auto start = std::chrono::steady_clock::now();
  bool called = false;
  EXPECT_FALSE(pool.Run([&] { called = true; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_FALSE(called);
  EXPECT_EQ(pool.refused(), 1u);
  EXPECT_EQ(pool.in_flight(), 2u);  // the refusal took no place

  release.set_value();
  running.join();
  queued.join();
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(pool.in_flight(), 0u);
  EXPECT_TRUE(pool.Run([&] { called = true; }));  // room again
  EXPECT_TRUE(called);
}

TEST(BoundedPoolTest, ZeroQueueAcceptsOnlyAsManyAsThreads) {
  BoundedPool pool(2, 0);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::vector<std::thread> callers;
  for (int i = 0; i < 2; ++i) {
    callers.emplace_back([&] { EXPECT_TRUE(pool.Run([&] { gate.wait(); })); });
  }
  ASSERT_TRUE(WaitInFlight(pool, 2));
  EXPECT_FALSE(pool.Run([] {}));
  release.set_value();
  for (auto& t : callers) t.join();
}

TEST(BoundedPoolTest, ManyCallersAllFinishOrAreRefused) {
  BoundedPool pool(3, 5);
  std::atomic<int> ran{0}, accepted{0}, refused{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 32; ++i) {
    callers.emplace_back([&] {
      if (pool.Run([&] {
            std::this_thread::sleep_for(2ms);
            ++ran;
          })) {
        ++accepted;
      } else {
        ++refused;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(accepted + refused, 32);
  EXPECT_EQ(ran, accepted);
  EXPECT_EQ(pool.refused(), static_cast<uint64_t>(refused));
  EXPECT_EQ(pool.in_flight(), 0u);
}

}  // namespace
}  // namespace berth
