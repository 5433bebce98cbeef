// Test WebSocket client on Beast: synchronous handshake and writes, reads with a deadline.
#include "tests/support/ws_client.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace hive::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct ws_client::impl {
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::flat_buffer buffer;
  bool ok = false;
  bool closed = false;
  bool timed_out = false;
  int pongs = 0;
  unsigned refused = 0;
  std::string error;
};

ws_client::ws_client(const std::string& host, uint16_t port, const std::string& target)
  : impl_(std::make_unique<impl>()) {
  try {
    tcp::resolver resolver{impl_->ioc};
    auto results = resolver.resolve(host, std::to_string(port));
    asio::connect(impl_->ws.next_layer(), results);
    websocket::response_type res;
    beast::error_code ec;
    impl_->ws.handshake(res, host + ":" + std::to_string(port), target, ec);
    if (ec) {
      impl_->refused = res.result_int();
      impl_->error = ec.message();
      return;
    }
    impl_->ws.control_callback([state = impl_.get()](websocket::frame_type kind,
                                                      beast::string_view) {
      if (kind == websocket::frame_type::pong)
        ++state->pongs;
    });
    impl_->ok = true;
  } catch (const std::exception& e) {
    impl_->error = e.what();
  }
}

ws_client::~ws_client() {
  beast::error_code ec;
  impl_->ws.next_layer().close(ec);
}

bool ws_client::ok() const noexcept {
  return impl_->ok;
}

const std::string& ws_client::error() const noexcept {
  return impl_->error;
}

unsigned ws_client::refused_status() const noexcept {
  return impl_->refused;
}

bool ws_client::send(const std::string& text) {
  beast::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write(asio::buffer(text), ec);
  return !ec;
}

std::optional<std::string> ws_client::read(std::chrono::milliseconds within) {
  if (impl_->closed || impl_->timed_out)
    return std::nullopt;
  // Asynchronous read with a deadline (a blocking read would retry a timed-out recv forever).
  impl_->buffer.consume(impl_->buffer.size());
  beast::error_code ec;
  bool done = false;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  impl_->ioc.restart();
  impl_->ioc.run_for(within);
  if (!done) {
    beast::error_code ignored;
    impl_->ws.next_layer().cancel(ignored);
    impl_->ws.next_layer().close(ignored);
    impl_->ioc.restart();
    impl_->ioc.run(); // lets the read finish with operation_aborted
    impl_->timed_out = true;
    return std::nullopt;
  }
  if (ec) {
    impl_->closed = true;
    return std::nullopt;
  }
  return beast::buffers_to_string(impl_->buffer.data());
}

bool ws_client::ping(const std::string& payload) {
  beast::error_code ec;
  impl_->ws.ping(websocket::ping_data{payload}, ec);
  return !ec;
}

int ws_client::pongs_seen() const noexcept {
  return impl_->pongs;
}

bool ws_client::close_handshake(std::chrono::milliseconds within) {
  if (impl_->closed || impl_->timed_out)
    return false;
  beast::error_code ec;
  bool done = false;
  impl_->ws.async_close(websocket::close_code::normal, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  impl_->ioc.restart();
  impl_->ioc.run_for(within);
  impl_->closed = true;
  if (!done) {
    beast::error_code ignored;
    impl_->ws.next_layer().close(ignored);
    impl_->ioc.restart();
    impl_->ioc.run();
    return false;
  }
  return !ec;
}

bool ws_client::timed_out() const noexcept {
  return impl_->timed_out;
}

bool ws_client::closed() const noexcept {
  return impl_->closed;
}

void ws_client::shrink_receive_buffer() {
  int size = 4096;
  ::setsockopt(impl_->ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVBUF, &size,
               sizeof(size));
}

} // namespace hive::test
