// Persistent worker threads for the native multithreaded GEMM
// (gemm_packed_mt). Starting std::threads per call costs 50-100 us, as much as
// a whole 128-row product on two cores; these workers are started once and
// sleep on a condition variable between calls.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hl {

class GemmThreads {
 public:
  // The process-wide pool (workers start on first use, join at exit).
  static GemmThreads& instance();
  ~GemmThreads();

  // Runs task(i) for i in [0, n_tasks), task 0 on the calling thread, the
  // others on workers, and returns when all are done. Calls from several
  // threads at once are served one after the other.
  void run(int n_tasks, const std::function<void(int)>& task);

 private:
  GemmThreads() = default;
  void worker_loop(int task_index);

  std::mutex run_mutex_;  // one run at a time
  std::mutex mutex_;      // guards everything below
  std::condition_variable start_cv_, done_cv_;
  std::vector<std::thread> workers_;  // workers_[i] runs task i + 1
  const std::function<void(int)>* task_ = nullptr;
  int n_tasks_ = 0;
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace hl
