// The script directory: a poll of file times and sizes.
#include "actors/scripting/script_dir.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "runtime/log.hpp"

namespace hive::actors::scripting {

script_directory::script_directory(std::filesystem::path dir, script_catalog& catalog)
  : dir_(std::move(dir)), catalog_(catalog) {}

script_directory::~script_directory() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

size_t script_directory::scan() {
  namespace fs = std::filesystem;
  size_t changes = 0;
  std::set<std::string> present;
  std::error_code ec;
  fs::directory_iterator it{dir_, ec};
  if (ec) {
    if (!unreadable_) // once, not at every check
      runtime::log_warn("script", "cannot read scripting.dir '" + dir_.string() + "': "
                                    + ec.message());
    unreadable_ = true;
    return 0;
  }
  unreadable_ = false;
  for (const auto& entry : it) {
    if (entry.path().extension() != ".lua" || !entry.is_regular_file(ec))
      continue;
    auto name = entry.path().stem().string();
    seen_file now{entry.last_write_time(ec), entry.file_size(ec)};
    if (ec)
      continue;
    present.insert(name);
    auto old = seen_.find(name);
    if (old != seen_.end() && old->second.mtime == now.mtime && old->second.size == now.size)
      continue;
    seen_[name] = now; // a broken file is not retried until it changes again
    std::ifstream in{entry.path()};
    std::stringstream source;
    source << in.rdbuf();
    auto put = catalog_.put(name, source.str());
    if (!put) {
      runtime::log_warn("script", "script file '" + entry.path().string() + "' not loaded: "
                                    + put.err().message);
      continue;
    }
    runtime::log_info("script", std::string{put->second ? "loaded" : "reloaded"} + " script '"
                                  + name + "' from " + entry.path().string());
    ++changes;
  }
  // Files that went away take their scripts with them.
  for (auto i = seen_.begin(); i != seen_.end();) {
    if (present.count(i->first) != 0) {
      ++i;
      continue;
    }
    if (auto gone = catalog_.remove(i->first); gone && *gone) {
      runtime::log_info("script", "removed script '" + i->first + "' (its file is gone)");
      ++changes;
    }
    i = seen_.erase(i);
  }
  return changes;
}

void script_directory::start(std::chrono::milliseconds interval) {
  thread_ = std::thread{[this, interval] {
    std::unique_lock<std::mutex> lock{mtx_};
    while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      scan();
      lock.lock();
    }
  }};
}

} // namespace hive::actors::scripting
