// The session registry of server_state, used by stop() and stop_accepting().
#include "net/internal/server_state.hpp"

#include <algorithm>

namespace hive::net::internal {

server_state::server_state(const http_server_options& options, http_handler h)
  : ioc(static_cast<int>(std::max<uint32_t>(options.io_threads, 1))),
    opts(options),
    handler(std::move(h)) {}

uint64_t server_state::add_session(const std::shared_ptr<http_session>& session) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping.load(std::memory_order_relaxed))
    return 0;
  uint64_t id = next_id_++;
  sessions_.emplace(id, session);
  return id;
}

void server_state::remove_session(uint64_t id) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.erase(id);
}

std::vector<std::shared_ptr<http_session>> server_state::live_sessions(bool stop) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stop)
    stopping.store(true, std::memory_order_release);
  std::vector<std::shared_ptr<http_session>> out;
  out.reserve(sessions_.size());
  for (const auto& entry : sessions_)
    if (auto session = entry.second.lock())
      out.push_back(std::move(session));
  return out;
}

} // namespace hive::net::internal
