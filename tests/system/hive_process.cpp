// Child-process control for system tests.
#include "tests/system/hive_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace hive::test {

hive_process::hive_process(std::string log_path, std::vector<std::string> args)
  : log_path_(std::move(log_path)) {
  std::vector<std::string> argv_s{HIVE_BINARY, "serve", "--port", "0", "--host", "127.0.0.1"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  // Only what this process logs counts: the file is appended across restarts.
  auto start_offset = log().size();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  if (posix_spawn(&pid_, HIVE_BINARY, &actions, nullptr, argv.data(), environ) != 0)
    pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  if (pid_ < 0)
    return;
  // The server logs "listening on HOST:PORT" once it accepts connections.
  std::regex listening{R"(\[http\] listening on [^ \n]+:(\d+)\n)"};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = log().substr(start_offset);
    std::smatch m;
    if (std::regex_search(text, m, listening)) {
      port_ = static_cast<uint16_t>(std::stoi(m[1]));
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

hive_process::~hive_process() {
  if (pid_ > 0)
    stop(SIGKILL);
}

int hive_process::stop(int sig, std::chrono::milliseconds within) {
  if (pid_ <= 0)
    return -1;
  kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + within;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1000; // did not stop in time
}

std::string hive_process::log() const {
  std::ifstream in{log_path_};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace hive::test
