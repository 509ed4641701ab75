// Clang's thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html)
// and a mutex and lock type that carry them, because libstdc++'s std::mutex
// and std::lock_guard do not: with them `-Wthread-safety` turns "this member
// is only touched under mu_" from a comment into a compile error. The clang
// build of `make unit-tsan` checks them; under GCC the macros are empty.
//
// Use berth::Mutex for a mutex that guards members, MutexLock to hold it for
// a scope, and GUARDED_BY(mu_) on every member it guards. A condition
// variable waits on MutexLock::native(); write the wait as a loop around
// cv.wait(lock.native()) so the predicate is checked with the lock held.
//
// Thread-safety: Mutex is a std::mutex; MutexLock belongs to one thread.
#pragma once

#include <mutex>

#if defined(__clang__)
#define BERTH_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define BERTH_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) BERTH_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY BERTH_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) BERTH_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) BERTH_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) BERTH_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) BERTH_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define REQUIRES(...) BERTH_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) BERTH_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) BERTH_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) BERTH_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) BERTH_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) BERTH_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) BERTH_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS BERTH_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace berth {

// A std::mutex the analysis knows about. Not copyable or movable.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

  // For MutexLock only (a condition variable needs the std::mutex).
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// Holds a Mutex from construction to destruction, like std::unique_lock:
// Unlock()/Lock() release and take it again inside the scope, and native()
// is what std::condition_variable::wait takes.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.native()) {}
  ~MutexLock() RELEASE() = default;
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Lock() ACQUIRE() { lock_.lock(); }
  void Unlock() RELEASE() { lock_.unlock(); }

  // The analysis cannot see that wait() gives the lock back before it
  // returns; the mutex is held again when it does, as the annotations say.
  std::unique_lock<std::mutex>& native() { return lock_; }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace berth
