#pragma once

// Live churn: a background thread that makes random creates, updates and deletes at a rate,
// `burst` of them sharing one SystemModstamp. The rate can change while it runs.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "sfsim/org/org.h"

namespace sfbridge::sfsim {

class Churn {
 public:
  Churn(org::Org& org, uint64_t seed) : org_(org), seed_(seed) {}
  ~Churn() { Stop(); }

  // Starts the thread (idempotent). With a rate of 0 it idles.
  void Start();
  void Stop();
  void SetRate(double changes_per_second, int burst);
  double rate() const { return rate_.load(); }
  int burst() const { return burst_.load(); }
  // One step now, on the caller's thread. Returns the changes made.
  int StepNow(int changes, int burst);
  int64_t total_changes() const { return total_.load(); }

 private:
  void Run();

  org::Org& org_;
  std::atomic<uint64_t> seed_;
  std::atomic<double> rate_{0};
  std::atomic<int> burst_{1};
  std::atomic<int64_t> total_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sfbridge::sfsim
