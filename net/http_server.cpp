// Starts and stops the Beast HTTP server: binding, the accept loop and the I/O threads.
#include "net/http_server.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>

#include "net/internal/http_session.hpp"
#include "net/internal/server_state.hpp"
#include "runtime/log.hpp"

namespace hive::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr std::chrono::seconds k_stop_grace{2}; ///< for sessions to wind down before a hard stop
constexpr std::chrono::milliseconds k_accept_backoff{50}; ///< after EMFILE and the like

/// The accept loop. Runs on its own strand; every accepted socket gets a fresh strand.
class listener : public std::enable_shared_from_this<listener> {
public:
  listener(std::shared_ptr<internal::server_state> state, tcp::acceptor acceptor)
    : state_(std::move(state)), acceptor_(std::move(acceptor)), backoff_(acceptor_.get_executor()) {}

  void start() {
    asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
  }

  /// Closes the acceptor; waits for that unless called on an I/O thread (which would deadlock).
  void close() {
    auto done = std::make_shared<std::promise<void>>();
    auto closed = done->get_future();
    asio::post(acceptor_.get_executor(), [self = shared_from_this(), done] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->backoff_.cancel();
      done->set_value();
    });
    if (!state_->ioc.get_executor().running_in_this_thread())
      closed.wait();
  }

private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(state_->ioc),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open() || ec == asio::error::operation_aborted)
      return;
    if (ec) {
      // Typically out of file descriptors: retrying at once would spin.
      runtime::log_warn("http", "accept failed: " + ec.message());
      backoff_.expires_after(k_accept_backoff);
      backoff_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec && self->acceptor_.is_open())
          self->accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    state_->connections_accepted.fetch_add(1, std::memory_order_relaxed);
    bool counted = state_->connections_open.fetch_add(1, std::memory_order_relaxed) <
                   state_->opts.max_connections;
    if (!counted) {
      state_->connections_open.fetch_sub(1, std::memory_order_relaxed);
      state_->connections_refused.fetch_add(1, std::memory_order_relaxed);
    }
    auto session = std::make_shared<internal::http_session>(state_, std::move(socket), counted);
    if (uint64_t id = state_->add_session(session); id != 0) {
      session->set_registry_id(id);
      if (counted)
        session->start();
      else
        session->start_refused();
    }
    accept();
  }

  std::shared_ptr<internal::server_state> state_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
};

class server_impl final : public http_server {
public:
  server_impl(std::shared_ptr<internal::server_state> state, std::shared_ptr<listener> lst,
              uint16_t port)
    : state_(std::move(state)),
      listener_(std::move(lst)),
      port_(port),
      work_(asio::make_work_guard(state_->ioc)) {}

  ~server_impl() override { stop(); }

  void run(uint32_t threads) {
    threads_.reserve(threads);
    for (uint32_t i = 0; i < threads; ++i)
      threads_.emplace_back([this] { run_io(); });
    listener_->start();
  }

  uint16_t port() const noexcept override { return port_; }

  void stop_accepting() override {
    if (!accepting_)
      return;
    accepting_ = false;
    listener_->close();
    state_->draining.store(true, std::memory_order_relaxed);
    for (auto& session : state_->live_sessions(false))
      session->close_if_idle_async();
  }

  void stop() override {
    if (stopped_)
      return;
    stopped_ = true;
    stop_accepting();
    for (auto& session : state_->live_sessions(true))
      session->close_async();
    work_.reset();
    {
      // With every socket closed the threads run out of work on their own; if something
      // still holds them, stop the io_context after a grace period.
      std::unique_lock<std::mutex> lock(mutex_);
      if (!done_cv_.wait_for(lock, k_stop_grace,
                             [this] { return threads_done_ == threads_.size(); }))
        state_->ioc.stop();
    }
    for (auto& thread : threads_)
      thread.join();
    // Only after a hard stop can handlers be left queued; run them so they release sessions.
    state_->ioc.restart();
    state_->ioc.poll();
    state_->handler = nullptr;
  }

  http_server_stats stats() const override {
    http_server_stats s;
    s.connections_open = state_->connections_open.load(std::memory_order_relaxed);
    s.connections_accepted = state_->connections_accepted.load(std::memory_order_relaxed);
    s.connections_refused = state_->connections_refused.load(std::memory_order_relaxed);
    s.requests = state_->requests.load(std::memory_order_relaxed);
    return s;
  }

private:
  void run_io() {
    for (;;) {
      try {
        state_->ioc.run();
        break;
      } catch (const std::exception& e) {
        runtime::log_error("http", std::string("I/O thread caught: ") + e.what());
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++threads_done_;
    }
    done_cv_.notify_all();
  }

  std::shared_ptr<internal::server_state> state_;
  std::shared_ptr<listener> listener_;
  uint16_t port_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  std::size_t threads_done_ = 0;
  bool accepting_ = true;
  bool stopped_ = false;
};

error bind_error(const http_server_options& opts, std::string_view what,
                 const beast::error_code& ec) {
  std::string field = ec == boost::system::errc::address_not_available ? "server.host" : "server.port";
  return make_error(errc::invalid_field,
                    std::string(what) + " " + opts.host + ":" + std::to_string(opts.port) + ": " +
                      ec.message(),
                    std::move(field));
}

} // namespace

result<std::unique_ptr<http_server>> http_server::start(const http_server_options& opts,
                                                        http_handler handler) {
  if (!handler)
    return make_error(errc::invalid_field, "the HTTP server needs a handler", "server");
  auto state = std::make_shared<internal::server_state>(opts, std::move(handler));

  beast::error_code ec;
  tcp::endpoint endpoint;
  if (auto address = asio::ip::make_address(opts.host, ec); !ec) {
    endpoint = tcp::endpoint(address, opts.port);
  } else {
    tcp::resolver resolver(state->ioc);
    auto found = resolver.resolve(opts.host, std::to_string(opts.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || found.empty())
      return make_error(errc::invalid_field,
                        "cannot resolve server host '" + opts.host +
                          "': " + (ec ? ec.message() : std::string("no address")),
                        "server.host");
    endpoint = found.begin()->endpoint();
  }

  tcp::acceptor acceptor(asio::make_strand(state->ioc));
  if (acceptor.open(endpoint.protocol(), ec); ec)
    return make_error(errc::invalid_field,
                      "cannot open a socket for " + opts.host + ": " + ec.message(),
                      "server.host");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec)
    return bind_error(opts, "cannot set SO_REUSEADDR for", ec);
  if (acceptor.bind(endpoint, ec); ec)
    return bind_error(opts, "cannot bind", ec);
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
    return bind_error(opts, "cannot listen on", ec);
  uint16_t port = acceptor.local_endpoint(ec).port();
  if (ec)
    return bind_error(opts, "cannot read the bound port of", ec);

  auto accept_loop = std::make_shared<listener>(state, std::move(acceptor));
  auto server = std::make_unique<server_impl>(state, std::move(accept_loop), port);
  server->run(std::max<uint32_t>(opts.io_threads, 1));
  runtime::log_info("http", "listening on " + opts.host + ":" + std::to_string(port));
  return std::unique_ptr<http_server>(std::move(server));
}

} // namespace hive::net
