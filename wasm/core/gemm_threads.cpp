#include "gemm_threads.h"

namespace hl {

GemmThreads& GemmThreads::instance() {
  static GemmThreads pool;
  return pool;
}

GemmThreads::~GemmThreads() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void GemmThreads::run(int n_tasks, const std::function<void(int)>& task) {
  if (n_tasks <= 1) {
    if (n_tasks == 1) task(0);
    return;
  }
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  {
    std::unique_lock<std::mutex> lock(mutex_);
    while (static_cast<int>(workers_.size()) < n_tasks - 1) {
      const int index = static_cast<int>(workers_.size()) + 1;
      workers_.emplace_back([this, index] { worker_loop(index); });
    }
    task_ = &task;
    n_tasks_ = n_tasks;
    pending_ = n_tasks - 1;
    ++generation_;
  }
  start_cv_.notify_all();
  task(0);
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [this] { return pending_ == 0; });
  task_ = nullptr;
}

void GemmThreads::worker_loop(int task_index) {
  uint64_t seen = 0;
  {
    // A worker started during a run must take part in that run.
    std::lock_guard<std::mutex> lock(mutex_);
    seen = generation_ - (task_ != nullptr ? 1 : 0);
  }
  for (;;) {
    const std::function<void(int)>* task = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (task_index >= n_tasks_) continue;  // this run needs fewer workers
      task = task_;
    }
    (*task)(task_index);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --pending_;
    }
    done_cv_.notify_one();
  }
}

}  // namespace hl
