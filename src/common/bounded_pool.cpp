#include "common/bounded_pool.hpp"

#include <algorithm>

namespace berth {

BoundedPool::BoundedPool(size_t threads, size_t queue)
    : threads_(std::max<size_t>(threads, 1)), queue_(queue) {
  workers_.reserve(threads_);
  for (size_t i = 0; i < threads_; ++i) workers_.emplace_back([this] { Work(); });
}

BoundedPool::~BoundedPool() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

bool BoundedPool::Run(const std::function<void()>& fn) {
  Task task{&fn};
  MutexLock lock(mu_);
  if (in_flight_ >= threads_ + queue_) {
    ++refused_;
    return false;
  }
  ++in_flight_;
  tasks_.push_back(&task);
  work_cv_.notify_one();
  while (!task.done) done_cv_.wait(lock.native());
  return true;
}

void BoundedPool::Work() {
  MutexLock lock(mu_);
  while (true) {
    while (tasks_.empty() && !stop_) work_cv_.wait(lock.native());
    if (tasks_.empty()) return;  // stopping, and nothing accepted is left
    Task* task = tasks_.front();
    tasks_.pop_front();
    lock.Unlock();
    (*task->fn)();
    lock.Lock();
    task->done = true;
    --in_flight_;
    done_cv_.notify_all();
  }
}

size_t BoundedPool::in_flight() const {
  MutexLock lock(mu_);
  return in_flight_;
}

uint64_t BoundedPool::refused() const {
  MutexLock lock(mu_);
  return refused_;
}

}  // namespace berth
