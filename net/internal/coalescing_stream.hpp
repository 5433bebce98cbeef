// The byte stream under a WebSocket session: one socket write in flight at a time, carrying
// everything that piled up meanwhile. The session appends its data frames straight into the
// pending buffer (many messages, one sendmsg); Beast's own writes (the handshake answer, pongs,
// pings, the close frame) pass through `async_write_some`, which appends them whole and
// completes at once. Frames are appended whole, so Beast's control frames can only land
// between the session's data frames, which the protocol allows.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace hive::net::internal {

class coalescing_stream {
public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  /// The session stops appending above this many pending bytes and waits for the socket.
  static constexpr std::size_t high_water = 64 * 1024;

  explicit coalescing_stream(boost::asio::ip::tcp::socket&& socket)
    : s_(std::make_shared<state>(std::move(socket))) {}

  executor_type get_executor() noexcept { return s_->next.get_executor(); }
  next_layer_type& next_layer() noexcept { return s_->next; }

  std::size_t pending_bytes() const noexcept { return s_->pending.size(); }
  bool failed() const noexcept { return static_cast<bool>(s_->failed); }

  /// Appends one unmasked, unfragmented text frame (server to client, RFC 6455 5.2).
  void append_text_frame(std::string_view payload) {
    auto& out = s_->pending;
    auto n = payload.size();
    out.push_back(static_cast<char>(0x81)); // FIN + text
    if (n < 126) {
      out.push_back(static_cast<char>(n));
    } else if (n <= 0xffff) {
      out.push_back(static_cast<char>(126));
      out.push_back(static_cast<char>((n >> 8) & 0xff));
      out.push_back(static_cast<char>(n & 0xff));
    } else {
      out.push_back(static_cast<char>(127));
      for (int shift = 56; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((static_cast<uint64_t>(n) >> shift) & 0xff));
    }
    out.append(payload.data(), payload.size());
  }

  /// Starts a socket write of what is pending, unless one is in flight.
  void flush() { flush(s_); }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return s_->next.async_read_some(buffers, std::forward<Handler>(handler));
  }

  /// Beast's writes: appended whole and completed at once (never waits for the socket, so a
  /// pong is never starved by a busy session).
  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, std::size_t)>(
      write_op<ConstBuffers>{s_, buffers}, handler, s_->next);
  }

  /// Completes once at most `limit` bytes are pending (0: all written), or the socket failed
  /// (with its error).
  template <class Handler>
  auto async_wait_below(std::size_t limit, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code)>(
      wait_op{s_, limit}, handler, s_->next);
  }

private:
  /// Shared with the socket write in flight, so that its buffer outlives a closed session.
  struct state {
    explicit state(boost::asio::ip::tcp::socket&& socket)
      : next(std::move(socket)), wake(next.get_executor()) {
      wake.expires_at(boost::asio::steady_timer::time_point::max());
    }

    boost::beast::tcp_stream next;
    boost::asio::steady_timer wake; ///< cancelled when a socket write ends: wakes waiters
    std::string pending;            ///< frames accepted, not yet handed to the socket
    std::string inflight;           ///< bytes of the socket write in flight
    bool flushing = false;
    boost::beast::error_code failed; ///< the first socket error; every later write fails
  };

  static void flush(const std::shared_ptr<state>& s) {
    if (s->flushing || s->pending.empty() || s->failed)
      return;
    s->flushing = true;
    s->inflight.swap(s->pending);
    boost::asio::async_write(s->next, boost::asio::buffer(s->inflight),
                             [s](boost::beast::error_code ec, std::size_t) {
                               s->flushing = false;
                               // Keep the larger buffer's capacity for the next round, but do
                               // not pin more than a burst's worth while the client idles.
                               s->inflight.clear();
                               if (s->inflight.capacity() > 4 * high_water)
                                 std::string{}.swap(s->inflight);
                               if (ec && !s->failed)
                                 s->failed = ec;
                               s->wake.cancel();
                               flush(s);
                             });
  }

  template <class ConstBuffers>
  struct write_op {
    std::shared_ptr<state> s;
    ConstBuffers buffers;
    std::size_t taken = 0;
    bool posted = false;

    template <class Self>
    void operator()(Self& self, boost::beast::error_code = {}) {
      if (posted)
        return self.complete(s->failed, taken);
      posted = true;
      if (!s->failed) {
        for (auto b : boost::beast::buffers_range_ref(buffers)) {
          s->pending.append(static_cast<const char*>(b.data()), b.size());
          taken += b.size();
        }
        flush(s);
      }
      // Never complete inside the initiating call.
      boost::asio::post(s->next.get_executor(), std::move(self));
    }
  };

  struct wait_op {
    std::shared_ptr<state> s;
    std::size_t limit;
    bool posted = false;

    template <class Self>
    void operator()(Self& self, boost::beast::error_code = {}) {
      flush(s);
      bool over = s->pending.size() > limit || (limit == 0 && s->flushing);
      if (!s->failed && over) {
        s->wake.async_wait(std::move(self));
        return;
      }
      if (!posted) {
        posted = true;
        boost::asio::post(s->next.get_executor(), std::move(self));
        return;
      }
      self.complete(s->failed);
    }
  };

  std::shared_ptr<state> s_;
};

// The closing handshake: everything written, the close frame included, reaches the socket
// before the TCP teardown.
inline void teardown(boost::beast::role_type role, coalescing_stream& stream,
                     boost::beast::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer().socket(), ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, coalescing_stream& stream,
                    TeardownHandler&& handler) {
  stream.async_wait_below(0, [role, &stream, handler = std::forward<TeardownHandler>(handler)](
                               boost::beast::error_code) mutable {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer().socket(), std::move(handler));
  });
}

} // namespace hive::net::internal
