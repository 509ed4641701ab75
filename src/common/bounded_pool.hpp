// BoundedPool: a few threads of their own for blocking calls to another
// service (Keystone logins), with a bounded queue in front of them. The
// callers run on the HTTP blocking pool, which the registry shares in
// `berth serve`; without a bound, a slow service would hold every one of its
// threads. With it, at most threads + queue callers wait for the service,
// and the next one is refused at once, so it can answer "unavailable"
// instead of queueing (docs/threads.md).
//
// Thread-safety: Run is safe from many threads. Destroy the pool only after
// every Run has returned.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/thread_annotations.hpp"

namespace berth {

class BoundedPool {
 public:
  // Starts `threads` threads (at least 1). `queue` calls may wait for one of
  // them when all are busy (0: none wait).
  BoundedPool(size_t threads, size_t queue);
  // Lets the calls already accepted finish, then joins the threads.
  ~BoundedPool();
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  // Runs `fn` on a pool thread and returns true once it has returned. Returns
  // false at once, without running it, when every thread is busy and `queue`
  // calls already wait. `fn` must not throw.
  bool Run(const std::function<void()>& fn) EXCLUDES(mu_);

  // Calls running or waiting now; for tests and metrics.
  size_t in_flight() const EXCLUDES(mu_);
  // Calls refused since the start.
  uint64_t refused() const EXCLUDES(mu_);

 private:
  struct Task {
    const std::function<void()>* fn = nullptr;
    bool done = false;  // under mu_
  };

  void Work() EXCLUDES(mu_);

  const size_t threads_;
  const size_t queue_;
  mutable Mutex mu_;
  std::condition_variable work_cv_;  // a task was queued, or stop
  std::condition_variable done_cv_;  // a task finished
  std::deque<Task*> tasks_ GUARDED_BY(mu_);
  size_t in_flight_ GUARDED_BY(mu_) = 0;  // running + queued
  uint64_t refused_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace berth
