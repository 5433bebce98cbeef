// One HTTP/1.1 connection: reads requests, calls the handler, writes responses in order.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/http_types.hpp"
#include "runtime/error.hpp"

namespace hive::net::internal {

struct server_state;

/// A connection waits up to keep_alive_timeout_secs for the first byte of each request (the
/// first one included); from there until its response is written, request_timeout_secs.
/// Everything runs on the session's strand (the executor of its socket); only respond(),
/// close_async() and close_if_idle_async() may be called from other threads. Owned by
/// shared_ptr: pending operations, the deadline timer and outstanding responders keep it alive.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  /// `counted` says whether the session holds a slot of max_connections (refused ones do not).
  http_session(std::shared_ptr<server_state> state, boost::asio::ip::tcp::socket socket,
               bool counted);
  ~http_session();

  http_session(const http_session&) = delete;
  http_session& operator=(const http_session&) = delete;

  /// Records the registry id (see server_state::add_session). Before start.
  void set_registry_id(uint64_t id) noexcept { registry_id_ = id; }

  /// Starts serving requests.
  void start();

  /// Answers 503 (too many connections) and closes.
  void start_refused();

  /// Delivers the handler's answer to request number `generation`. Any thread; answers for a
  /// request that already timed out, or after stop(), are dropped.
  void respond(uint64_t generation, http_response response);

  /// Closes the connection now. Any thread.
  void close_async();

  /// Closes the connection if it is waiting for a next request (stop_accepting). Any thread.
  void close_if_idle_async();

private:
  using clock = std::chrono::steady_clock;
  enum class phase : unsigned char { idle, reading, handling, writing, lingering, closed };

  void read_next();
  void read_some();
  void on_read_some(boost::beast::error_code ec, std::size_t bytes);
  void parse_buffered();
  void on_parse_error(boost::beast::error_code ec);
  void on_request();
  void answer_internal_error(uint64_t generation);
  void on_response(uint64_t generation, http_response response);
  void write(http_response response, bool keep_alive);
  void write_error(errc code, std::string message);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void linger();
  void on_linger_read(boost::beast::error_code ec, std::size_t bytes);
  void close();

  void enter(phase next, clock::duration budget);
  void arm_timer(clock::time_point now);
  void on_timer(boost::beast::error_code ec);
  void on_deadline();
  /// Writes the access line of the request being answered, if the settings want one.
  void log_access(unsigned status, std::size_t body_bytes);

  std::shared_ptr<server_state> state_;
  boost::beast::tcp_stream stream_;
  boost::asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::string out_; ///< the serialised response being written
  std::string request_id_; ///< of the request being answered, echoed as X-Request-Id
  std::string access_method_; ///< of the request being answered, kept only for access logs
  std::string access_target_;
  clock::time_point request_started_{}; ///< first byte of the request being answered
  unsigned request_version_ = 11;

  phase phase_ = phase::idle;
  clock::time_point deadline_;  ///< of the current phase
  clock::time_point armed_at_;  ///< expiry of the pending timer wait
  clock::duration keep_alive_budget_; ///< idle wait for the first byte of a request
  clock::duration request_budget_;    ///< first byte of a request to its response written
  clock::duration tick_;              ///< longest timer wait, see arm_timer
  uint64_t generation_ = 0;     ///< number of the request being handled
  uint64_t registry_id_ = 0;
  std::size_t linger_bytes_ = 0;
  bool counted_;
  bool timer_armed_ = false;
  bool awaiting_handler_ = false;
  bool request_keep_alive_ = false;
  bool request_is_head_ = false;
  bool continue_sent_ = false;
  bool read_timed_out_ = false;
};

} // namespace hive::net::internal
