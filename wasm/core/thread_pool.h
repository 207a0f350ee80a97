// The engine's one pool of native threads. Starting std::threads per call
// costs 50-100 us, as much as a whole 128-row product on two cores; these
// workers start once and sleep on a condition variable between runs.
// The trainer owns a pool of its thread count; the multithreaded GEMM
// (gemm_packed_mt) uses the process-wide shared() pool, which grows to the
// threads a run asks for. In wasm (built without pthreads) a pool holds no
// worker and runs every task on the calling thread.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hl {

class ThreadPool {
 public:
  // n_threads counts the calling thread: n_threads - 1 workers.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The process-wide pool (no worker until a run asks for them; workers join
  // at exit). A run on it with n_tasks tasks first grows it to n_tasks threads.
  static ThreadPool& shared();

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(task, thread) for every task in [0, n_tasks) on the calling
  // thread (thread 0) and the workers (1 .. size() - 1), each task once,
  // taken in order by whichever thread is free, and returns when all are
  // done. Tasks must not throw. Which thread runs a task must never change
  // what the task computes. Runs from several threads at once are served
  // one after the other.
  void run(int n_tasks, const std::function<void(int task, int thread)>& fn);

 private:
  ThreadPool(int n_threads, bool grows);
  void start_workers(int n_threads);  // under mutex_
  void drain(int thread);
  void worker_loop(int thread, uint64_t seen);

  const bool grows_;      // shared(): a run grows the pool to its task count
  std::mutex run_mutex_;  // one run at a time
  std::mutex mutex_;      // guards everything below
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;  // workers_[i] is thread i + 1
  const std::function<void(int, int)>* fn_ = nullptr;
  int n_tasks_ = 0;
  std::atomic<int> next_task_{0};
  int busy_workers_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace hl
