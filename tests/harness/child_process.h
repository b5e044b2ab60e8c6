#pragma once

// A program started by a test and left running: the services under test (sfsim, fetcher,
// writer, proxy). Its output is collected in the background; the test can wait for a line,
// send signals (SIGTERM for a clean stop, SIGKILL for a crash) and wait for the exit.
// The destructor kills whatever is still running in its process group.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sfbridge::testing {

class ChildProcess {
 public:
  // Starts `argv` in a process group of its own with `env` added to the environment.
  // Returns nullptr (and prints why) when it cannot be started.
  static std::unique_ptr<ChildProcess> Start(const std::vector<std::string>& argv,
                                             const std::map<std::string, std::string>& env = {});
  ~ChildProcess();

  // Waits until a line of output starts with `prefix`; returns that line (without the
  // newline), or nullopt on timeout or when the process ended first.
  std::optional<std::string> WaitForLine(const std::string& prefix,
                                         std::chrono::milliseconds timeout);
  void Signal(int signo);
  // Waits for the exit. The exit code, or 128+signal when killed, or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // True when any process of its group is still alive.
  bool GroupAlive() const;
  std::string Output() const;
  // Waits until the output pipe is closed (every process holding it exited), up to `timeout`.
  bool WaitForOutputEnd(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  ChildProcess() = default;
  void ReadLoop(int fd);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  mutable std::mutex mu_;
  std::string output_;
  bool eof_ = false;
  std::thread reader_;
};

}  // namespace sfbridge::testing
