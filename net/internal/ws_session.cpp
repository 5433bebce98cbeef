// WebSocket sessions: handshake, the action protocol, and the bounded send queue.
#include "net/internal/ws_session.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "net/internal/ws_hub_impl.hpp"
#include "net/json_codec.hpp"
#include "runtime/clock.hpp"

namespace hive::net::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

std::string json_string(std::string_view text) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string to_json_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  v.Accept(w);
  return std::string{buf.GetString(), buf.GetSize()};
}

/// Reads a list of strings (`field` must be an array of strings when present).
std::optional<error> read_strings(const rapidjson::Value& obj, const char* field,
                                  std::vector<std::string>& out) {
  auto it = obj.FindMember(field);
  if (it == obj.MemberEnd() || it->value.IsNull())
    return std::nullopt;
  if (!it->value.IsArray())
    return make_error(errc::invalid_field, std::string{field} + " must be an array of strings",
                      field);
  for (auto& v : it->value.GetArray()) {
    if (!v.IsString())
      return make_error(errc::invalid_field,
                        std::string{field} + " must be an array of strings", field);
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return std::nullopt;
}

result<ws_filter> decode_filter(const rapidjson::Value& obj) {
  ws_filter f;
  std::vector<std::string> types;
  std::vector<std::string> priorities;
  if (auto err = read_strings(obj, "event_types", types))
    return std::move(*err);
  if (auto err = read_strings(obj, "task_types", f.task_types))
    return std::move(*err);
  if (auto err = read_strings(obj, "agent_ids", f.agent_ids))
    return std::move(*err);
  if (auto err = read_strings(obj, "priorities", priorities))
    return std::move(*err);
  for (const auto& name : types) {
    actors::event_type t = actors::event_type::task_created;
    if (!actors::from_string(name, t))
      return make_error(errc::invalid_field, "event_types has an unknown event '" + name + "'",
                        "event_types");
    f.event_types |= 1u << static_cast<unsigned>(t);
  }
  for (const auto& name : priorities) {
    priority p = priority::low;
    if (!from_string(name, p))
      return make_error(errc::invalid_field,
                        "priorities must hold low, medium, high or critical", "priorities");
    f.priorities |= 1u << static_cast<unsigned>(p);
  }
  return f;
}

} // namespace

bool matches(const ws_filter& f, const ws_event_key& key) noexcept {
  if (f.muted)
    return false;
  if (f.event_types != 0 && (f.event_types & (1u << static_cast<unsigned>(key.type))) == 0)
    return false;
  if (!f.task_types.empty()
      && (key.task_type == nullptr
          || std::find(f.task_types.begin(), f.task_types.end(), *key.task_type)
               == f.task_types.end()))
    return false;
  if (!f.agent_ids.empty()
      && (key.agent_id == nullptr
          || std::find(f.agent_ids.begin(), f.agent_ids.end(), *key.agent_id)
               == f.agent_ids.end()))
    return false;
  if (f.priorities != 0
      && (!key.task_priority
          || (f.priorities & (1u << static_cast<unsigned>(*key.task_priority))) == 0))
    return false;
  return true;
}

ws_session::ws_session(asio::ip::tcp::socket&& socket, std::shared_ptr<ws_hub> hub)
  : hub_(std::move(hub)), ws_(std::move(socket)), filter_(std::make_shared<ws_filter>()) {
  counted_ = true; // the slot was reserved by start_websocket
}

ws_session::~ws_session() {
  if (counted_)
    hub_->internals().release();
}

void ws_session::start(http::request<http::string_body> req) {
  auto& opts = hub_->internals().opts;
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = std::chrono::seconds(opts.idle_timeout_secs);
  timeouts.keep_alive_pings = true; // a ping at half the idle timeout; no pong: closed
  ws_.set_option(timeouts);
  ws_.read_message_max(opts.max_message_bytes);
  ws_.set_option(websocket::stream_base::decorator(
    [](websocket::response_type& res) { res.set(http::field::server, "hive"); }));
  auto self = shared_from_this();
  asio::dispatch(ws_.get_executor(), [self, req = std::move(req)]() mutable {
    self->ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, self));
  });
}

void ws_session::on_accept(beast::error_code ec) {
  if (ec)
    return close();
  hub_->internals().add(shared_from_this());
  // First message: where the hive stands.
  auto self = shared_from_this();
  hub_->internals().core->status([self](result<actors::hive_status> res) {
    if (!res)
      return;
    auto data = std::make_shared<std::string>(encode_status(*res));
    asio::post(self->ws_.get_executor(),
               [self, data] { self->push("hive_status", *data, true); });
  });
  read_next();
}

bool ws_session::wants(const ws_event_key& key) const {
  auto f = std::atomic_load(&filter_);
  return matches(*f, key);
}

void ws_session::offer(std::string_view type, std::shared_ptr<const std::string> data) {
  bool first = false;
  {
    std::lock_guard<std::mutex> guard{inbox_mtx_};
    if (inbox_.size() >= hub_->internals().opts.send_queue_max) {
      ++inbox_missed_; // the strand is far behind: as good as a full send queue
      return;
    }
    inbox_.push_back(offered{type, std::move(data)});
    first = inbox_.size() == 1;
  }
  // One post per burst: the drain takes whatever piled up meanwhile.
  if (first)
    asio::post(ws_.get_executor(), [self = shared_from_this()] { self->drain_inbox(); });
}

void ws_session::drain_inbox() {
  uint64_t missed = 0;
  {
    std::lock_guard<std::mutex> guard{inbox_mtx_};
    draining_.swap(inbox_);
    missed = std::exchange(inbox_missed_, 0);
  }
  for (auto& ev : draining_)
    push(ev.type, *ev.data, false);
  draining_.clear();
  if (missed > 0)
    count_missed(missed);
}

void ws_session::count_missed(uint64_t n) {
  if (closed_)
    return;
  auto& hub = hub_->internals();
  missed_ += n;
  missed_total_ += n;
  hub.dropped.fetch_add(n, std::memory_order_relaxed);
  if (missed_ > hub.opts.drop_after_missed) {
    hub.clients_dropped.fetch_add(1, std::memory_order_relaxed);
    close(true);
    return;
  }
  if (!writing_ && queue_.empty())
    write_next(); // nothing queued: the lagged notice goes out now
}

std::string ws_session::envelope(std::string_view type, const std::string& data,
                                 const std::string& correlation_id) {
  std::string msg;
  msg.reserve(type.size() + data.size() + correlation_id.size() + 64);
  msg += R"({"type":")";
  msg += type;
  msg += R"(","seq":)";
  msg += std::to_string(++seq_);
  msg += R"(,"ts":)";
  msg += std::to_string(runtime::system_clock::instance().now());
  if (!correlation_id.empty()) {
    msg += R"(,"correlation_id":)";
    msg += correlation_id; // already JSON
  }
  msg += R"(,"data":)";
  msg += data.empty() ? std::string{"null"} : data;
  msg += '}';
  return msg;
}

void ws_session::push(std::string_view type, const std::string& data, bool control,
                      const std::string& correlation_id) {
  if (closed_ || !ws_.is_open())
    return;
  auto& hub = hub_->internals();
  if (!control && queue_.size() >= hub.opts.send_queue_max) {
    // The client cannot keep up: drop, count, and give up on it if it stays behind.
    count_missed(1);
    return;
  }
  queue_.push_back(envelope(type, data, correlation_id));
  if (!control)
    hub.sent.fetch_add(1, std::memory_order_relaxed);
  if (!writing_)
    write_next();
}

void ws_session::push_error(const error& err, const std::string& correlation_id) {
  std::string data = R"({"error":{"code":)" + json_string(to_string(err.code))
                     + R"(,"message":)" + json_string(err.message) + R"(,"field":)"
                     + json_string(err.field) + "}}";
  push("error", data, true, correlation_id);
}

bool ws_session::backlogged() {
  return queue_.size() >= hub_->internals().opts.send_queue_max
         || ws_.next_layer().pending_bytes() >= 4 * coalescing_stream::high_water;
}

void ws_session::write_next() {
  // After a close frame (either side's) no data frame may follow it.
  if (closed_ || !ws_.is_open())
    return;
  auto& out = ws_.next_layer();
  if (out.failed())
    return close();
  for (;;) {
    if (queue_.empty() && missed_ > 0) {
      // Caught up: tell the client how much it missed.
      auto missed = std::exchange(missed_, 0);
      queue_.push_back(envelope("lagged", R"({"missed":)" + std::to_string(missed) + "}", {}));
    }
    if (queue_.empty() || out.pending_bytes() >= coalescing_stream::high_water)
      break;
    out.append_text_frame(queue_.front());
    queue_.pop_front();
  }
  out.flush();
  if (read_paused_ && !backlogged()) {
    // The client reads again: so do we.
    read_paused_ = false;
    read_next();
  }
  if (queue_.empty() && !read_paused_)
    return;
  // The socket is behind: wait until the stream has room again.
  writing_ = true;
  out.async_wait_below(coalescing_stream::high_water / 2,
                       beast::bind_front_handler(&ws_session::on_writable, shared_from_this()));
}

void ws_session::on_writable(beast::error_code ec) {
  writing_ = false;
  if (closed_)
    return;
  if (ec)
    return close();
  write_next();
}

void ws_session::read_next() {
  rbuf_.consume(rbuf_.size());
  ws_.async_read(rbuf_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
}

void ws_session::on_read(beast::error_code ec, std::size_t) {
  if (ec == websocket::error::message_too_big) {
    push_error(make_error(errc::payload_too_large,
                          "frame larger than "
                            + std::to_string(hub_->internals().opts.max_message_bytes)
                            + " bytes"),
               {});
    return close();
  }
  if (ec)
    return close();
  handle_action(beast::buffers_to_string(rbuf_.data()));
  // A client that sends but does not read would pile up replies (and pongs) without end:
  // stop reading it until what it was sent drains.
  if (backlogged()) {
    read_paused_ = true;
    if (!writing_)
      write_next();
    return;
  }
  read_next();
}

void ws_session::handle_action(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                                                   text.size());
  if (doc.HasParseError() || !doc.IsObject())
    return push_error(make_error(errc::malformed_json, "a frame must be a JSON object"), {});
  std::string correlation_id;
  if (auto it = doc.FindMember("correlation_id"); it != doc.MemberEnd()) {
    if (!it->value.IsString() && !it->value.IsNumber())
      return push_error(make_error(errc::invalid_field,
                                   "correlation_id must be a string or a number",
                                   "correlation_id"),
                        {});
    correlation_id = to_json_text(it->value);
  }
  auto action_it = doc.FindMember("action");
  if (action_it == doc.MemberEnd() || !action_it->value.IsString())
    return push_error(make_error(errc::invalid_field, "action is required", "action"),
                      correlation_id);
  std::string action{action_it->value.GetString(), action_it->value.GetStringLength()};
  static const rapidjson::Value empty_object{rapidjson::kObjectType};
  const rapidjson::Value* data = &empty_object;
  if (auto it = doc.FindMember("data"); it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsObject())
      return push_error(make_error(errc::invalid_field, "data must be a JSON object", "data"),
                        correlation_id);
    data = &it->value;
  }
  auto self = shared_from_this();
  auto& core = *hub_->internals().core;
  // Answers from the engine arrive on other threads: back to the strand first.
  auto reply = [self, correlation_id](std::string type, std::string payload) {
    asio::post(self->ws_.get_executor(), [self, correlation_id, type = std::move(type),
                                          payload = std::move(payload)] {
      self->push(type, payload, true, correlation_id);
    });
  };
  auto fail = [self, correlation_id](error err) {
    asio::post(self->ws_.get_executor(), [self, correlation_id, err = std::move(err)] {
      self->push_error(err, correlation_id);
    });
  };
  if (action == "ping")
    return push("pong", "{}", true, correlation_id);
  if (action == "subscribe") {
    auto f = decode_filter(*data);
    if (!f)
      return push_error(f.err(), correlation_id);
    std::atomic_store(&filter_, std::shared_ptr<const ws_filter>{
                                  std::make_shared<ws_filter>(std::move(*f))});
    return push("subscribed", to_json_text(*data), true, correlation_id);
  }
  if (action == "unsubscribe") {
    auto muted = std::make_shared<ws_filter>();
    muted->muted = true;
    std::atomic_store(&filter_, std::shared_ptr<const ws_filter>{std::move(muted)});
    return push("unsubscribed", "{}", true, correlation_id);
  }
  if (action == "get_status") {
    core.status([reply, fail](result<actors::hive_status> res) {
      if (!res)
        return fail(res.err());
      reply("hive_status", encode_status(*res));
    });
    return;
  }
  if (action == "create_task") {
    auto spec = decode_task(to_json_text(*data));
    if (!spec)
      return push_error(spec.err(), correlation_id);
    core.submit(std::move(*spec), [reply, fail](result<actors::submit_outcome> res) {
      if (!res)
        return fail(res.err());
      reply("task_accepted", encode_task(res->task));
    });
    return;
  }
  if (action == "create_agent") {
    auto spec = decode_agent(to_json_text(*data));
    if (!spec)
      return push_error(spec.err(), correlation_id);
    core.create_agent(std::move(*spec), [reply, fail](result<agent_record> res) {
      if (!res)
        return fail(res.err());
      reply("agent_accepted", encode_agent(*res));
    });
    return;
  }
  push_error(make_error(errc::invalid_field,
                        "unknown action '" + action
                          + "'; known: subscribe, unsubscribe, create_task, create_agent, "
                            "get_status, ping",
                        "action"),
             correlation_id);
}

void ws_session::close_async() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] { self->close(); });
}

void ws_session::close(bool abort) {
  if (closed_)
    return;
  closed_ = true;
  queue_.clear(); // the bytes in flight belong to the stream, which keeps them alive
  beast::error_code ec;
  if (abort) {
    // A client dropped for lagging: reset the connection, so that the kernel discards what it
    // still held for it instead of trickling it out.
    beast::get_lowest_layer(ws_).socket().set_option(asio::socket_base::linger(true, 0), ec);
  }
  beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(ws_).close();
}

void start_websocket(const std::shared_ptr<ws_hub>& hub, asio::ip::tcp::socket&& socket,
                     http::request<http::string_body>&& req) {
  auto& state = hub->internals();
  if (!state.try_reserve()) {
    // Full: refuse the upgrade with a plain HTTP answer.
    state.refused.fetch_add(1, std::memory_order_relaxed);
    auto res = std::make_shared<http::response<http::string_body>>(
      http::status::service_unavailable, req.version());
    res->set(http::field::server, "hive");
    res->set(http::field::content_type, "application/json");
    res->set(http::field::retry_after, "1");
    res->keep_alive(false);
    res->body() = R"({"error":{"code":"too_many_connections","message":"too many WebSocket connections","field":""}})";
    res->prepare_payload();
    auto sock = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
    http::async_write(*sock, *res, [sock, res](beast::error_code, std::size_t) {
      beast::error_code ec;
      sock->shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      sock->close(ec);
    });
    return;
  }
  state.accepted.fetch_add(1, std::memory_order_relaxed);
  std::make_shared<ws_session>(std::move(socket), hub)->start(std::move(req));
}

} // namespace hive::net::internal
