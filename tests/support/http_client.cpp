// The test HTTP client: Beast async operations driven to completion one at a time.
#include "tests/support/http_client.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cctype>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace hive::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string http_reply::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

// Synchronous Beast calls cannot time out, so each call starts one async operation with a
// tcp_stream deadline and runs the private io_context until it completes.
struct http_client::impl {
  std::string host;
  uint16_t port;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout{5000};
  std::size_t connects = 0;
  bool server_said_close = false;
  bool reply_to_head = false; ///< the next response has no body whatever its headers say

  impl(std::string h, uint16_t p) : host(std::move(h)), port(p) {}

  template <class Start>
  beast::error_code run(std::chrono::milliseconds limit, Start&& start) {
    beast::error_code result = asio::error::would_block;
    stream->expires_after(limit);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  bool open() const { return stream.has_value() && stream->socket().is_open(); }

  void close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
    }
    stream.reset();
    buffer.clear();
    server_said_close = false;
  }

  // An idle kept-alive connection that the server closed is readable with nothing to read.
  bool peer_closed() {
    if (buffer.size() != 0)
      return false;
    pollfd p{stream->socket().native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0)
      return false;
    char byte;
    return ::recv(p.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
  }

  bool connect() {
    if (open())
      return true;
    close();
    stream.emplace(ioc);
    beast::error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec),
                           port);
    if (ec)
      return false;
    ec = run(timeout, [&](auto handler) { stream->async_connect(endpoint, handler); });
    if (ec) {
      close();
      return false;
    }
    ++connects;
    return true;
  }

  bool ensure_connected() {
    if (open() && (server_said_close || peer_closed()))
      close();
    return connect();
  }
};

http_client::http_client(std::string host, uint16_t port)
  : impl_(std::make_unique<impl>(std::move(host), port)) {}

http_client::~http_client() { impl_->close(); }

http_reply http_client::request(std::string_view method, std::string_view target,
                                std::string_view body, const header_list& headers) {
  http_reply reply;
  if (!impl_->ensure_connected()) {
    reply.error = "cannot connect";
    return reply;
  }
  http::request<http::string_body> req;
  req.version(11);
  auto verb = http::string_to_verb(beast::string_view(method.data(), method.size()));
  if (verb == http::verb::unknown)
    req.method_string(beast::string_view(method.data(), method.size()));
  else
    req.method(verb);
  req.target(beast::string_view(target.data(), target.size()));
  req.set(http::field::host, impl_->host + ":" + std::to_string(impl_->port));
  req.set(http::field::user_agent, "hive-test");
  for (const auto& [name, value] : headers)
    req.set(name, value);
  if (!body.empty() || verb == http::verb::post || verb == http::verb::put ||
      verb == http::verb::patch) {
    req.body().assign(body.data(), body.size());
    req.prepare_payload();
  }
  auto ec = impl_->run(impl_->timeout, [&](auto handler) {
    http::async_write(*impl_->stream, req, handler);
  });
  impl_->reply_to_head = verb == http::verb::head;
  if (ec) {
    impl_->close();
    reply.error = "write failed: " + ec.message();
    return reply;
  }
  return read_reply();
}

bool http_client::send_raw(std::string_view bytes) {
  if (!impl_->ensure_connected())
    return false;
  auto ec = impl_->run(impl_->timeout, [&](auto handler) {
    asio::async_write(*impl_->stream, asio::buffer(bytes.data(), bytes.size()), handler);
  });
  if (ec)
    impl_->close();
  return !ec;
}

http_reply http_client::read_reply(bool skip_informational) {
  http_reply reply;
  if (!impl_->open()) {
    reply.error = "not connected";
    return reply;
  }
  for (;;) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    parser.skip(impl_->reply_to_head);
    auto ec = impl_->run(impl_->timeout, [&](auto handler) {
      http::async_read(*impl_->stream, impl_->buffer, parser, handler);
    });
    if (ec) {
      impl_->close();
      reply.error = "read failed: " + ec.message();
      return reply;
    }
    auto& res = parser.get();
    if (skip_informational && res.result_int() >= 100 && res.result_int() < 200)
      continue;
    impl_->reply_to_head = false;
    reply.status = res.result_int();
    reply.body = std::move(res.body());
    for (const auto& field : res) {
      std::string name(field.name_string().data(), field.name_string().size());
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value(field.value().data(), field.value().size());
      auto [it, inserted] = reply.headers.emplace(name, value);
      if (!inserted)
        it->second += ", " + value;
    }
    impl_->server_said_close = !res.keep_alive();
    return reply;
  }
}

std::optional<std::string> http_client::read_until_closed(std::chrono::milliseconds within) {
  if (!impl_->open())
    return std::nullopt;
  std::string out(static_cast<const char*>(impl_->buffer.data().data()), impl_->buffer.size());
  impl_->buffer.clear();
  auto deadline = std::chrono::steady_clock::now() + within;
  std::optional<std::string> result;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    char chunk[4096];
    std::size_t got = 0;
    auto ec = impl_->run(left, [&](auto handler) {
      impl_->stream->async_read_some(asio::buffer(chunk),
                                     [&got, handler](beast::error_code ec, std::size_t n) {
                                       got = n;
                                       handler(ec, n);
                                     });
    });
    out.append(chunk, got);
    if (ec == beast::error::timeout)
      break;
    if (ec) {
      result = std::move(out); // end of stream or reset
      break;
    }
  }
  impl_->close();
  return result;
}

bool http_client::connect() { return impl_->connect(); }

void http_client::close() { impl_->close(); }

bool http_client::is_open() const noexcept { return impl_->open(); }

std::size_t http_client::connects() const noexcept { return impl_->connects; }

void http_client::set_timeout(std::chrono::milliseconds timeout) noexcept {
  impl_->timeout = timeout;
}

} // namespace hive::test
