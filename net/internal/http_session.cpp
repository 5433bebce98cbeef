// One HTTP/1.1 connection: parsing, the handler call, response writing, timeouts, closing.
#include "net/internal/http_session.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <random>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "net/error_mapping.hpp"
#include "net/internal/ws_session.hpp"
#include "net/internal/server_state.hpp"
#include "net/internal/target.hpp"
#include "runtime/log.hpp"

namespace hive::net::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

constexpr std::chrono::seconds k_error_write_budget{5}; ///< to write a 4xx/5xx we close after
constexpr std::chrono::seconds k_linger_budget{2};      ///< to drain input before closing
constexpr std::size_t k_linger_max_bytes = 4 << 20;
constexpr std::size_t k_min_read = 4096;
constexpr std::size_t k_max_read = 64 << 10;
constexpr std::size_t k_max_request_id = 128;
constexpr std::uint32_t k_header_limit = 8 << 10;
constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";

std::chrono::seconds at_least_one_second(uint32_t secs) {
  return std::chrono::seconds(std::max<uint32_t>(secs, 1));
}

std::string to_std(beast::string_view text) { return std::string(text.data(), text.size()); }

std::string in_seconds(std::chrono::steady_clock::duration budget) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(budget).count()) + " s";
}

/// 16 hex digits: 24 random bits chosen once per process, then a 40-bit counter.
std::string make_request_id() {
  static const uint64_t tag = std::random_device{}() & 0xffffffu;
  static std::atomic<uint64_t> counter{0};
  static constexpr char hex[] = "0123456789abcdef";
  uint64_t n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
  uint64_t value = (tag << 40) | (n & ((uint64_t{1} << 40) - 1));
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4)
    id[static_cast<std::size_t>(i)] = hex[value & 0xf];
  return id;
}

/// A client-sent X-Request-Id is echoed in a response header and in logs: keep it short and
/// printable.
bool acceptable_request_id(beast::string_view id) {
  if (id.empty() || id.size() > k_max_request_id)
    return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

} // namespace

http_session::http_session(std::shared_ptr<server_state> state, asio::ip::tcp::socket socket,
                           bool counted)
  : state_(std::move(state)),
    stream_(std::move(socket)),
    timer_(stream_.get_executor()),
    keep_alive_budget_(at_least_one_second(state_->opts.keep_alive_timeout_secs)),
    request_budget_(at_least_one_second(state_->opts.request_timeout_secs)),
    tick_(std::min(keep_alive_budget_, request_budget_)),
    counted_(counted) {}

http_session::~http_session() {
  if (counted_)
    state_->connections_open.fetch_sub(1, std::memory_order_relaxed);
  if (registry_id_ != 0)
    state_->remove_session(registry_id_);
}

void http_session::start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_next(); });
}

void http_session::start_refused() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->request_id_ = make_request_id();
    self->write_error(errc::too_many_connections, "too many connections");
  });
}

void http_session::respond(uint64_t generation, http_response response) {
  // After stop() nobody runs the io_context any more; a posted answer would only pile up.
  if (state_->stopping.load(std::memory_order_acquire))
    return;
  asio::dispatch(stream_.get_executor(),
                 [self = shared_from_this(), generation, r = std::move(response)]() mutable {
                   self->on_response(generation, std::move(r));
                 });
}

void http_session::close_async() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
}

void http_session::close_if_idle_async() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ == phase::idle)
      self->close();
  });
}

void http_session::read_next() {
  if (phase_ == phase::closed)
    return;
  if (state_->draining.load(std::memory_order_relaxed)) {
    close();
    return;
  }
  // A large upload grew the buffer; do not keep that memory on an idle connection.
  if (buffer_.size() == 0 && buffer_.capacity() > k_max_read / 4)
    buffer_.shrink_to_fit();
  parser_.emplace();
  parser_->header_limit(k_header_limit);
  parser_->body_limit(state_->opts.max_body_bytes);
  continue_sent_ = false;
  if (buffer_.size() == 0) {
    enter(phase::idle, keep_alive_budget_);
    read_some();
  } else {
    // Pipelined: the next request is already (partly) buffered.
    enter(phase::reading, request_budget_);
    parse_buffered();
  }
}

void http_session::read_some() {
  std::size_t room = buffer_.capacity() - buffer_.size();
  if (parser_->is_header_done())
    if (auto remaining = parser_->content_length_remaining())
      room = static_cast<std::size_t>(std::min<std::uint64_t>(*remaining, k_max_read));
  room = std::clamp(room, k_min_read, k_max_read);
  stream_.async_read_some(buffer_.prepare(room),
                          beast::bind_front_handler(&http_session::on_read_some,
                                                    shared_from_this()));
}

void http_session::on_read_some(beast::error_code ec, std::size_t bytes) {
  if (phase_ == phase::closed)
    return;
  if (read_timed_out_) {
    request_id_ = make_request_id();
    write_error(errc::request_timeout,
                "request not received within " + in_seconds(request_budget_));
    return;
  }
  if (ec) {
    // End of stream, reset, or the idle timeout closed the socket: nobody to answer.
    close();
    return;
  }
  buffer_.commit(bytes);
  if (phase_ == phase::idle)
    enter(phase::reading, request_budget_);
  parse_buffered();
}

void http_session::parse_buffered() {
  // Parsing here instead of with http::async_read saves a round trip through the executor
  // when a whole request arrived in one segment, the common case.
  beast::error_code ec;
  while (buffer_.size() != 0 && !parser_->is_done()) {
    std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) {
      on_parse_error(ec);
      return;
    }
    if (used == 0)
      break;
  }
  if (parser_->is_done()) {
    on_request();
    return;
  }
  if (parser_->is_header_done() && !continue_sent_) {
    continue_sent_ = true;
    const auto& header = parser_->get();
    if (header.version() >= 11 && beast::iequals(header[http::field::expect], "100-continue")) {
      asio::async_write(stream_, asio::buffer(k_continue.data(), k_continue.size()),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (self->phase_ == phase::closed)
                            return;
                          if (ec && !self->read_timed_out_)
                            self->close();
                          else if (ec)
                            self->on_read_some(ec, 0); // answers 408
                          else
                            self->read_some();
                        });
      return;
    }
  }
  read_some();
}

void http_session::on_parse_error(beast::error_code ec) {
  request_id_ = make_request_id();
  if (ec == http::error::body_limit) {
    write_error(errc::payload_too_large,
                "request body exceeds " + std::to_string(state_->opts.max_body_bytes) + " bytes");
  } else if (ec == http::error::header_limit) {
    write_error(errc::bad_request,
                "request header exceeds " + std::to_string(k_header_limit) +
                  " bytes");
  } else {
    write_error(errc::bad_request, "malformed HTTP request: " + ec.message());
  }
}

void http_session::on_request() {
  state_->requests.fetch_add(1, std::memory_order_relaxed);
  auto& msg = parser_->get();
  if (state_->opts.websocket && websocket::is_upgrade(msg)) {
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    split_target(to_std(msg.target()), path, query);
    if (path == "/ws") {
      // The connection becomes a WebSocket session; this HTTP session ends here.
      phase_ = phase::closed;
      awaiting_handler_ = false;
      timer_.cancel();
      if (counted_) {
        counted_ = false;
        state_->connections_open.fetch_sub(1, std::memory_order_relaxed);
      }
      start_websocket(state_->opts.websocket, stream_.release_socket(), parser_->release());
      return;
    }
  }
  request_keep_alive_ = msg.keep_alive();
  request_version_ = msg.version();
  request_is_head_ = msg.method() == http::verb::head;

  http_request request;
  request.method = to_std(msg.method_string());
  request.target = to_std(msg.target());
  split_target(request.target, request.path, request.query);
  if (auto it = msg.find(http::field::content_type); it != msg.end())
    request.content_type = to_std(it->value());
  if (auto it = msg.find("Idempotency-Key"); it != msg.end())
    request.idempotency_key = to_std(it->value());
  if (auto it = msg.find("X-Request-Id"); it != msg.end() && acceptable_request_id(it->value()))
    request.request_id = to_std(it->value());
  else
    request.request_id = make_request_id();
  request_id_ = request.request_id;
  request.body = std::move(msg.body());
  if (state_->opts.access != http_server_options::access_log::off) {
    access_method_ = request.method;
    access_target_ = request.target;
  }

  // The deadline set when the request started arriving keeps running through the handler.
  phase_ = phase::handling;
  awaiting_handler_ = true;
  uint64_t generation = ++generation_;
  responder respond_once = [self = shared_from_this(), generation](http_response response) {
    self->respond(generation, std::move(response));
  };
  try {
    state_->handler(std::move(request), std::move(respond_once));
  } catch (const std::exception& e) {
    runtime::log(runtime::log_level::error, "http", std::string("handler threw: ") + e.what(),
                 {{"request_id", request_id_}});
    answer_internal_error(generation);
  } catch (...) {
    runtime::log(runtime::log_level::error, "http", "handler threw a non-exception",
                 {{"request_id", request_id_}});
    answer_internal_error(generation);
  }
}

void http_session::answer_internal_error(uint64_t generation) {
  on_response(generation, error_response(make_error(errc::internal, "internal error"), request_id_));
}

void http_session::on_response(uint64_t generation, http_response response) {
  if (phase_ != phase::handling || !awaiting_handler_ || generation != generation_)
    return; // timed out (408 sent), closed, or a second call of the same responder
  awaiting_handler_ = false;
  bool keep_alive = request_keep_alive_ && !state_->draining.load(std::memory_order_relaxed);
  write(std::move(response), keep_alive);
}

void http_session::write(http_response response, bool keep_alive) {
  unsigned status = response.status;
  if (status < 200 || status > 999) {
    runtime::log(runtime::log_level::error, "http",
                 "handler answered status " + std::to_string(status),
                 {{"request_id", request_id_}});
    response = error_response(make_error(errc::internal, "internal error"), request_id_);
    status = response.status;
  }
  // These statuses must not carry a body.
  bool bodyless = status == 204 || status == 304;
  // The response is serialised by hand into one buffer: one contiguous write is measurably
  // cheaper than Beast's serializer for the small answers this server mostly gives.
  auto valid = [](std::string_view text) {
    return text.find_first_of("\r\n") == std::string_view::npos;
  };
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || !valid(name) || !valid(value) || name.find(':') != std::string::npos) {
      runtime::log_error("http", "cannot build the response: a header name or value contains "
                                 "a line break or is empty");
      close();
      return;
    }
  }
  if (!valid(response.content_type)) {
    runtime::log_error("http", "cannot build the response: bad content type");
    close();
    return;
  }
  auto reason = http::obsolete_reason(static_cast<http::status>(status));
  auto& out = out_;
  out.clear();
  out += request_version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\nServer: hive\r\n";
  if (!bodyless && !response.content_type.empty()) {
    out += "Content-Type: ";
    out += response.content_type;
    out += "\r\n";
  }
  out += "X-Request-Id: ";
  out += request_id_;
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!bodyless) {
    // HEAD: the length of the body a GET would get, but no body.
    out += "Content-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n";
  }
  if (request_version_ == 10 && keep_alive)
    out += "Connection: keep-alive\r\n";
  else if (request_version_ != 10 && !keep_alive)
    out += "Connection: close\r\n";
  out += "\r\n";
  if (!bodyless && !request_is_head_)
    out += response.body;

  log_access(status, response.body.size());
  phase_ = phase::writing;
  asio::async_write(stream_, asio::buffer(out_),
                    beast::bind_front_handler(&http_session::on_write, shared_from_this(),
                                              keep_alive));
}

void http_session::log_access(unsigned status, std::size_t body_bytes) {
  using mode = http_server_options::access_log;
  auto wanted = state_->opts.access;
  if (wanted == mode::off || (wanted == mode::errors && status < 400))
    return;
  auto level = status >= 500 ? runtime::log_level::warn : runtime::log_level::info;
  if (!runtime::log_enabled(level))
    return;
  double ms = 0;
  if (request_started_ != clock::time_point{})
    ms = std::chrono::duration<double, std::milli>(clock::now() - request_started_).count();
  beast::error_code ec;
  auto peer = stream_.socket().remote_endpoint(ec);
  auto peer_text = ec ? std::string{"-"} : peer.address().to_string();
  std::string method = access_method_.empty() ? "-" : access_method_;
  std::string target = access_target_.empty() ? "-" : access_target_;
  runtime::log(level, "http.access", method + " " + target + " " + std::to_string(status),
               {{"request_id", request_id_},
                {"method", method},
                {"target", target},
                {"status", static_cast<double>(status)},
                {"duration_ms", ms},
                {"bytes", static_cast<double>(body_bytes)},
                {"peer", peer_text}});
}

void http_session::write_error(errc code, std::string message) {
  awaiting_handler_ = false;
  auto response = error_response(make_error(code, std::move(message)), request_id_);
  request_version_ = 11;
  request_is_head_ = false;
  enter(phase::writing, k_error_write_budget);
  write(std::move(response), false);
}

void http_session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  if (phase_ == phase::closed)
    return;
  if (ec) {
    close();
    return;
  }
  // Do not pin a large body's memory while the connection idles.
  if (out_.capacity() > k_max_read)
    std::string().swap(out_);
  if (!keep_alive) {
    linger();
    return;
  }
  read_next();
}

void http_session::linger() {
  // Closing with unread input makes the kernel send a reset, which can destroy the response we
  // just wrote before the client reads it; so half-close and drain for a while.
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) {
    close();
    return;
  }
  enter(phase::lingering, k_linger_budget);
  linger_bytes_ = 0;
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(k_min_read),
                          beast::bind_front_handler(&http_session::on_linger_read,
                                                    shared_from_this()));
}

void http_session::on_linger_read(beast::error_code ec, std::size_t bytes) {
  if (phase_ != phase::lingering)
    return;
  linger_bytes_ += bytes;
  if (ec || linger_bytes_ > k_linger_max_bytes) {
    close();
    return;
  }
  stream_.async_read_some(buffer_.prepare(k_min_read),
                          beast::bind_front_handler(&http_session::on_linger_read,
                                                    shared_from_this()));
}

void http_session::close() {
  if (phase_ == phase::closed)
    return;
  phase_ = phase::closed;
  awaiting_handler_ = false;
  stream_.close();
  timer_.cancel();
  if (counted_) {
    counted_ = false;
    state_->connections_open.fetch_sub(1, std::memory_order_relaxed);
  }
}

void http_session::enter(phase next, clock::duration budget) {
  phase_ = next;
  auto now = clock::now();
  if (next == phase::reading) {
    request_started_ = now;
    access_method_.clear();
    access_target_.clear();
  }
  deadline_ = now + budget;
  arm_timer(now);
}

void http_session::arm_timer(clock::time_point now) {
  // The timer is re-armed only when it would wake too late. Waking at most `tick_` from now
  // means that every later request deadline (now + request budget >= now + tick_) is covered
  // by the pending wait, so the steady request/response cycle touches no timer at all.
  auto at = std::min(deadline_, now + tick_);
  if (timer_armed_ && armed_at_ <= at)
    return;
  timer_armed_ = true;
  armed_at_ = at;
  timer_.expires_at(at);
  timer_.async_wait(beast::bind_front_handler(&http_session::on_timer, shared_from_this()));
}

void http_session::on_timer(beast::error_code ec) {
  if (ec == asio::error::operation_aborted)
    return; // re-armed or closed
  timer_armed_ = false;
  if (phase_ == phase::closed)
    return;
  auto now = clock::now();
  if (now < deadline_) {
    arm_timer(now);
    return;
  }
  on_deadline();
}

void http_session::on_deadline() {
  switch (phase_) {
    case phase::idle:
      close(); // idle keep-alive connection: close silently
      break;
    case phase::reading: {
      // The pending read completes with operation_aborted and answers 408.
      read_timed_out_ = true;
      beast::error_code ignored;
      stream_.socket().cancel(ignored);
      break;
    }
    case phase::handling:
      write_error(errc::request_timeout,
                  "no response within " + in_seconds(request_budget_));
      break;
    case phase::writing:
    case phase::lingering:
      close();
      break;
    case phase::closed:
      break;
  }
}

} // namespace hive::net::internal
