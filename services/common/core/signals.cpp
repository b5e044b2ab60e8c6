#include "common/core/signals.h"

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace sfbridge::core {
namespace {

struct State {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> requested{false};
  std::atomic<int> signal_number{0};
};

State& GetState() {
  static State* state = new State();
  return *state;
}

void Trigger(int signo) {
  State& s = GetState();
  {
    std::lock_guard lock(s.mu);
    if (!s.requested.load()) s.signal_number.store(signo);
    s.requested.store(true);
  }
  s.cv.notify_all();
}

}  // namespace

ShutdownSignal::ShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    for (;;) {
      int signo = 0;
      if (sigwait(&set, &signo) == 0) Trigger(signo);
    }
  }).detach();
}

ShutdownSignal& ShutdownSignal::Install() {
  static ShutdownSignal* instance = new ShutdownSignal();
  return *instance;
}

bool ShutdownSignal::Requested() const { return GetState().requested.load(); }

void ShutdownSignal::Wait() {
  State& s = GetState();
  std::unique_lock lock(s.mu);
  s.cv.wait(lock, [&] { return s.requested.load(); });
}

bool ShutdownSignal::WaitFor(std::chrono::milliseconds timeout) {
  State& s = GetState();
  std::unique_lock lock(s.mu);
  return s.cv.wait_for(lock, timeout, [&] { return s.requested.load(); });
}

void ShutdownSignal::Request() { Trigger(0); }

int ShutdownSignal::signal_number() const { return GetState().signal_number.load(); }

}  // namespace sfbridge::core
