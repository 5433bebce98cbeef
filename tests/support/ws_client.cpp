// Test WebSocket client on Beast's synchronous API; SO_RCVTIMEO bounds every read.
#include "tests/support/ws_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>

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
  if (impl_->closed)
    return std::nullopt;
  timeval tv{};
  tv.tv_sec = static_cast<long>(within.count() / 1000);
  tv.tv_usec = static_cast<long>((within.count() % 1000) * 1000);
  auto fd = impl_->ws.next_layer().native_handle();
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  beast::error_code ec;
  impl_->buffer.consume(impl_->buffer.size());
  impl_->ws.read(impl_->buffer, ec);
  if (ec) {
    if (ec != asio::error::would_block && ec != asio::error::try_again
        && ec != asio::error::timed_out)
      impl_->closed = true;
    return std::nullopt;
  }
  return beast::buffers_to_string(impl_->buffer.data());
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
