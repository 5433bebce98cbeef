// The PostgreSQL pool: connections made on demand up to the limit, waited for beyond it.
#include "persistence/internal/pg_pool.hpp"

#include <algorithm>

#include <pqxx/pqxx>

namespace hive::persistence::internal {

pg_connection::~pg_connection() = default;

pg_lease::~pg_lease() {
  if (pool_ != nullptr && c_)
    pool_->give_back(std::move(c_), broken_);
}

pg_pool::pg_pool(pg_pool_options opts) : opts_(std::move(opts)) {
  opts_.max_connections = std::max<uint32_t>(1, opts_.max_connections);
  opts_.min_connections = std::min(opts_.min_connections, opts_.max_connections);
}

pg_pool::~pg_pool() = default;

std::string pg_pool::redact(const std::string& url) {
  // postgresql://user:secret@host/db -> postgresql://user:***@host/db
  auto scheme = url.find("://");
  auto at = url.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos)
    return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at)
    return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

error pg_failure(const std::exception& e, std::string_view what, bool& broken) {
  broken = dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr
           || dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
  std::string msg{what};
  msg += ": ";
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql && !sql->sqlstate().empty())
    msg += "[" + sql->sqlstate() + "] ";
  std::string text = e.what();
  // libpq messages end with a newline and sometimes carry a second line of context.
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  std::replace(text.begin(), text.end(), '\n', ' ');
  msg += text;
  return make_error(errc::store_unavailable, std::move(msg));
}

result<std::unique_ptr<pg_connection>> pg_pool::connect() {
  // libpq gives up connecting after connect_timeout; the URI may already carry options.
  auto url = opts_.url;
  url += url.find('?') == std::string::npos ? '?' : '&';
  // Keepalives and tcp_user_timeout: a server that vanished from the network (no reset) is
  // noticed within about the connection timeout, not after the kernel's two hours.
  auto timeout_ms = std::to_string(uint64_t{opts_.connection_timeout_secs} * 1000);
  url += "connect_timeout=" + std::to_string(opts_.connection_timeout_secs)
         + "&application_name=hive&keepalives=1&keepalives_idle=10&keepalives_interval=5"
           "&keepalives_count=3&tcp_user_timeout="
         + timeout_ms;
  try {
    auto c = std::make_unique<pg_connection>();
    c->conn = std::make_unique<pqxx::connection>(url);
    c->opened = std::chrono::steady_clock::now();
    // set_variable, not a plain SET: libpqxx restores it if it reconnects the session itself.
    c->conn->set_variable("statement_timeout",
                          std::to_string(uint64_t{opts_.statement_timeout_secs} * 1000));
    return c;
  } catch (const std::exception& e) {
    bool broken = false;
    auto err = pg_failure(e, "cannot connect to PostgreSQL at " + redact(opts_.url), broken);
    return err;
  }
}

result<unit_t> pg_pool::warm_up() {
  auto want = std::max<uint32_t>(1, opts_.min_connections);
  std::vector<std::unique_ptr<pg_connection>> made;
  for (uint32_t i = 0; i < want; ++i) {
    auto c = connect();
    if (!c)
      return std::move(c).err();
    made.push_back(std::move(*c));
  }
  std::lock_guard<std::mutex> guard{mtx_};
  open_ += made.size();
  for (auto& c : made)
    idle_.push_back(std::move(c));
  return unit;
}

result<pg_lease> pg_pool::acquire() {
  auto deadline =
    std::chrono::steady_clock::now() + std::chrono::seconds{opts_.connection_timeout_secs};
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return pg_lease{this, std::move(c)};
    }
    if (open_ < opts_.max_connections) {
      ++open_; // reserve the slot, connect outside the lock
      lock.unlock();
      auto c = connect();
      if (!c) {
        std::lock_guard<std::mutex> guard{mtx_};
        --open_;
        returned_.notify_one();
        return std::move(c).err();
      }
      return pg_lease{this, std::move(*c)};
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty()
        && open_ >= opts_.max_connections)
      return make_error(errc::store_unavailable,
                        "no PostgreSQL connection free within "
                          + std::to_string(opts_.connection_timeout_secs) + " s ("
                          + std::to_string(opts_.max_connections) + " in use)");
  }
}

void pg_pool::give_back(std::unique_ptr<pg_connection> c, bool broken) {
  auto age = std::chrono::steady_clock::now() - c->opened;
  bool keep = !broken && c->conn && c->conn->is_open()
              && age < std::chrono::seconds{opts_.recycle_secs};
  std::unique_ptr<pg_connection> closing;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (keep) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
      closing = std::move(c); // closed below, outside the lock
    }
  }
  returned_.notify_one();
}

void pg_pool::discard_idle() {
  std::vector<std::unique_ptr<pg_connection>> closing;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ -= idle_.size();
    closing.swap(idle_);
  }
  returned_.notify_all();
}

pg_pool::stats pg_pool::counts() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return {open_, idle_.size()};
}

} // namespace hive::persistence::internal
