// Runs the `hive` binary as a child process for system tests and finds the port it bound.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace hive::test {

/// One `hive serve` process with its stderr in a log file. Killed (SIGKILL) on destruction.
class hive_process {
public:
  /// Starts `hive serve --port 0 ARGS...`; waits until it logs the port it listens on.
  hive_process(std::string log_path, std::vector<std::string> args);
  ~hive_process();

  hive_process(const hive_process&) = delete;
  hive_process& operator=(const hive_process&) = delete;

  bool started() const noexcept { return port_ != 0; }
  uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }

  /// Sends `sig` and waits (bounded) for the exit; returns the exit status (or -signal).
  int stop(int sig, std::chrono::milliseconds within = std::chrono::seconds(15));

  std::string log() const;

private:
  std::string log_path_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

} // namespace hive::test
