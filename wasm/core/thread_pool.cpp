#include "thread_pool.h"

namespace hl {

ThreadPool::ThreadPool(int n_threads) : ThreadPool(n_threads, false) {}

ThreadPool::ThreadPool(int n_threads, bool grows) : grows_(grows) {
  std::lock_guard<std::mutex> lock(mutex_);
  start_workers(n_threads);
}

ThreadPool& ThreadPool::shared() {
  static ThreadPool pool(1, true);
  return pool;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::start_workers(int n_threads) {
#ifndef __EMSCRIPTEN__
  while (size() < n_threads) {
    const int thread = size();
    // A worker started now waits for the next generation, whenever it gets
    // to run its loop: it must not miss a run that starts before it does.
    workers_.emplace_back([this, thread, seen = generation_] { worker_loop(thread, seen); });
  }
#else
  (void)n_threads;
#endif
}

void ThreadPool::run(int n_tasks, const std::function<void(int, int)>& fn) {
  if (n_tasks <= 0) return;
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  bool on_caller = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (grows_) start_workers(n_tasks);
    on_caller = workers_.empty() || n_tasks == 1;
    if (!on_caller) {
      fn_ = &fn;
      n_tasks_ = n_tasks;
      next_task_.store(0);
      busy_workers_ = static_cast<int>(workers_.size());
      ++generation_;
    }
  }
  if (on_caller) {
    for (int t = 0; t < n_tasks; ++t) fn(t, 0);
    return;
  }
  wake_.notify_all();
  drain(0);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return busy_workers_ == 0; });
  fn_ = nullptr;
}

void ThreadPool::drain(int thread) {
  for (;;) {
    const int task = next_task_.fetch_add(1);
    if (task >= n_tasks_) return;
    (*fn_)(task, thread);
  }
}

void ThreadPool::worker_loop(int thread, uint64_t seen) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain(thread);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_workers_ == 0) done_.notify_one();
    }
  }
}

}  // namespace hl
