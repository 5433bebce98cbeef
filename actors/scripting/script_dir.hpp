// Scripts from a directory: *.lua files loaded at start and watched for changes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "actors/scripting/scripts.hpp"

namespace hive::actors::scripting {

/// Each `NAME.lua` in the directory is the script NAME. `scan()` puts new and changed files
/// into the catalog (which checks and stores them, so a broken file is logged and the version
/// before it stays active) and removes the scripts of deleted files. `start()` scans every
/// `interval` on a thread of its own until the watcher is destroyed.
class script_directory {
public:
  script_directory(std::filesystem::path dir, script_catalog& catalog);
  ~script_directory(); ///< stops the thread

  script_directory(const script_directory&) = delete;
  script_directory& operator=(const script_directory&) = delete;

  /// One pass; returns how many scripts it put or removed.
  size_t scan();
  void start(std::chrono::milliseconds interval);

private:
  struct seen_file {
    std::filesystem::file_time_type mtime;
    uintmax_t size = 0;
  };

  std::filesystem::path dir_;
  script_catalog& catalog_;
  std::map<std::string, seen_file> seen_; ///< by script name; touched by scan() only
  bool unreadable_ = false;               ///< the last scan could not read the directory

  std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace hive::actors::scripting
