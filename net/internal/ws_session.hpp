// One WebSocket connection: a bounded send queue with one write in flight, client actions.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "actors/event_bus.hpp"
#include "net/internal/coalescing_stream.hpp"
#include "net/ws_hub.hpp"
#include "runtime/error.hpp"
#include "runtime/model.hpp"

namespace hive::net::internal {

/// What a client asked to receive (`subscribe`); empty lists mean "any".
struct ws_filter {
  bool muted = false;       ///< after `unsubscribe`
  uint32_t event_types = 0; ///< bit per actors::event_type; 0 = all
  uint32_t priorities = 0;  ///< bit per priority; 0 = all
  std::vector<std::string> task_types;
  std::vector<std::string> agent_ids;
};

/// The facts of one event the filters look at.
struct ws_event_key {
  actors::event_type type;
  const std::string* task_type = nullptr; ///< task events only
  const std::string* agent_id = nullptr;
  std::optional<priority> task_priority;
};

bool matches(const ws_filter& f, const ws_event_key& key) noexcept;

class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  ws_session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<ws_hub> hub);
  ~ws_session();

  /// Completes the upgrade of `req` (on the session's strand).
  void start(boost::beast::http::request<boost::beast::http::string_body> req);

  /// Any thread: whether this client wants the event (reads the current filter).
  bool wants(const ws_event_key& key) const;

  /// Any thread: queues an event for this client (dropped and counted if it lags).
  void offer(std::string_view type, std::shared_ptr<const std::string> data);

  /// Any thread: closes the connection.
  void close_async();

private:
  void on_accept(boost::beast::error_code ec);
  void read_next();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void handle_action(const std::string& text);
  /// Queues a message; `control` ones (replies, notices) are never dropped.
  void push(std::string_view type, const std::string& data, bool control,
            const std::string& correlation_id = {});
  void push_error(const error& err, const std::string& correlation_id);
  /// The `{type, seq, ts, correlation_id, data}` envelope (takes the next sequence number).
  std::string envelope(std::string_view type, const std::string& data,
                       const std::string& correlation_id);
  /// Moves events offered by the hub into the send queue (on the strand).
  void drain_inbox();
  /// Counts events this client did not get; drops the client when it stays behind.
  void count_missed(uint64_t n);
  /// Frames queued messages into the stream while it has room; waits for the socket if not.
  void write_next();
  void on_writable(boost::beast::error_code ec);
  /// Too much waits for this client (queued or in the stream): stop reading its frames.
  bool backlogged();
  /// `abort`: reset the connection instead of closing it (a dropped, lagging client).
  void close(bool abort = false);

  std::shared_ptr<ws_hub> hub_;
  boost::beast::websocket::stream<coalescing_stream> ws_;
  boost::beast::flat_buffer rbuf_;
  std::deque<std::string> queue_; ///< serialised messages not yet framed into the stream
  bool writing_ = false;          ///< waiting for the stream to drain below high water
  bool read_paused_ = false;      ///< not reading the client's frames until it drains
  bool closed_ = false;
  bool counted_ = false;
  uint64_t seq_ = 0;    ///< per-connection sequence number of sent messages
  uint64_t missed_ = 0; ///< events dropped since the last `lagged` notice
  uint64_t missed_total_ = 0;
  std::shared_ptr<const ws_filter> filter_; ///< read with std::atomic_load from any thread

  /// Events offered by the hub from other threads, moved to queue_ by one post per burst.
  struct offered {
    std::string_view type; ///< a static event name
    std::shared_ptr<const std::string> data;
  };
  std::mutex inbox_mtx_; ///< guards inbox_ and inbox_missed_
  std::vector<offered> inbox_;
  std::vector<offered> draining_; ///< swapped with inbox_ by drain_inbox (strand only)
  uint64_t inbox_missed_ = 0;     ///< offered while the inbox was full
};

/// Hands a connection that asked for `GET /ws` with an upgrade to a new session; refuses it
/// with 503 when the hub is full. Called by the HTTP session on its strand.
void start_websocket(const std::shared_ptr<ws_hub>& hub, boost::asio::ip::tcp::socket&& socket,
                     boost::beast::http::request<boost::beast::http::string_body>&& req);

} // namespace hive::net::internal
