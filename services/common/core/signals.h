#pragma once

// Clean shutdown on SIGTERM and SIGINT.
//
// Install() must be called from main() before any other thread starts: it blocks both signals in
// the calling thread (so every thread created later inherits the mask) and starts one thread that
// waits for them. Services poll Requested() or block in Wait()/WaitFor() and then stop in order.

#include <chrono>

namespace sfbridge::core {

class ShutdownSignal {
 public:
  // Returns the process-wide instance, installing it on first call. Thread-safe after that.
  static ShutdownSignal& Install();

  bool Requested() const;
  // Blocks until shutdown is requested.
  void Wait();
  // Blocks until shutdown is requested or `timeout` passes; true when requested.
  bool WaitFor(std::chrono::milliseconds timeout);
  // Requests shutdown from inside the process (a fatal error in a worker, a test).
  void Request();
  // The signal number that asked for shutdown, 0 if none or requested in-process.
  int signal_number() const;

 private:
  ShutdownSignal();
};

}  // namespace sfbridge::core
