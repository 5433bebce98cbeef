// The WebSocket hub: one event-bus subscription, fanned out to the sessions that want it.
#include "net/ws_hub.hpp"

#include <algorithm>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "net/internal/ws_hub_impl.hpp"
#include "net/internal/ws_session.hpp"
#include "net/json_codec.hpp"

namespace hive::net {

namespace {

/// The `data` of an event message: the task or agent as the API shows it, plus context.
std::string event_data(const actors::hive_event& ev) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  if (ev.task) {
    auto json = encode_task(*ev.task);
    w.Key("task");
    w.RawValue(json.c_str(), json.size(), rapidjson::kObjectType);
  } else if (ev.agent) {
    auto json = encode_agent(*ev.agent);
    w.Key("agent");
    w.RawValue(json.c_str(), json.size(), rapidjson::kObjectType);
  } else if (ev.snapshot) {
    auto json = encode_snapshot(*ev.snapshot);
    w.Key("snapshot");
    w.RawValue(json.c_str(), json.size(), rapidjson::kObjectType);
  } else if (ev.alert_info) {
    auto json = encode_alert(*ev.alert_info);
    w.Key("alert");
    w.RawValue(json.c_str(), json.size(), rapidjson::kObjectType);
  } else if (ev.learning) {
    auto json = encode_learning(*ev.learning);
    w.Key("learning");
    w.RawValue(json.c_str(), json.size(), rapidjson::kObjectType);
  } else if (ev.data_json) {
    // A script's event: {"name", "data", "task_id", "agent_id"}.
    w.Key("name");
    w.String(ev.detail.c_str(), static_cast<rapidjson::SizeType>(ev.detail.size()));
    w.Key("data");
    const auto& data = *ev.data_json;
    w.RawValue(data.c_str(), data.size(), rapidjson::kObjectType);
    w.Key("task_id");
    w.String(ev.task_id.c_str(), static_cast<rapidjson::SizeType>(ev.task_id.size()));
  }
  if (!ev.agent_id.empty()) {
    w.Key("agent_id");
    w.String(ev.agent_id.c_str(), static_cast<rapidjson::SizeType>(ev.agent_id.size()));
  }
  if (!ev.detail.empty() && !ev.data_json) {
    w.Key("detail");
    w.String(ev.detail.c_str(), static_cast<rapidjson::SizeType>(ev.detail.size()));
  }
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

} // namespace

bool ws_hub::impl::try_reserve() {
  std::lock_guard<std::mutex> guard{mtx};
  if (stopped || open.load() >= opts.max_connections)
    return false;
  ++open;
  return true;
}

void ws_hub::impl::release() noexcept {
  --open;
}

void ws_hub::impl::add(const std::shared_ptr<internal::ws_session>& session) {
  std::lock_guard<std::mutex> guard{mtx};
  // Forget sessions that ended, then remember this one.
  sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                [](const auto& w) { return w.expired(); }),
                 sessions.end());
  if (stopped) {
    session->close_async();
    return;
  }
  sessions.push_back(session);
}

void ws_hub::impl::fan_out(const actors::hive_event& ev) {
  std::vector<std::shared_ptr<internal::ws_session>> targets;
  internal::ws_event_key key{ev.type, nullptr, nullptr, std::nullopt};
  if (ev.task) {
    key.task_type = &ev.task->type;
    key.task_priority = ev.task->priority;
    if (!ev.task->agent_id.empty())
      key.agent_id = &ev.task->agent_id;
  }
  if (!ev.agent_id.empty())
    key.agent_id = &ev.agent_id;
  {
    std::lock_guard<std::mutex> guard{mtx};
    for (const auto& w : sessions)
      if (auto s = w.lock(); s && s->wants(key))
        targets.push_back(std::move(s));
  }
  auto forward = std::atomic_load(&forwarder);
  if (forward && !forward->wanted())
    forward = nullptr; // no other node has a client: nothing to encode for them
  if (targets.empty() && !forward)
    return;
  auto data = std::make_shared<const std::string>(event_data(ev));
  auto type = actors::to_string(ev.type);
  for (auto& s : targets)
    s->offer(type, data);
  if (forward) {
    runtime::cluster_event out;
    out.type = static_cast<uint8_t>(ev.type);
    if (key.task_type != nullptr)
      out.task_type = *key.task_type;
    if (key.agent_id != nullptr)
      out.agent_id = *key.agent_id;
    if (key.task_priority)
      out.priority = static_cast<int8_t>(*key.task_priority);
    out.data = *data;
    forward->send(std::move(out));
  }
}

void ws_hub::impl::offer_all(const internal::ws_event_key& key, std::string_view type,
                             const std::shared_ptr<const std::string>& data) {
  std::vector<std::shared_ptr<internal::ws_session>> targets;
  {
    std::lock_guard<std::mutex> guard{mtx};
    for (const auto& w : sessions)
      if (auto s = w.lock(); s && s->wants(key))
        targets.push_back(std::move(s));
  }
  for (auto& s : targets)
    s->offer(type, data);
}

void ws_hub::set_forwarder(std::function<void(runtime::cluster_event)> fn,
                           std::function<bool()> wanted) {
  std::atomic_store(&impl_->forwarder, std::make_shared<const impl::cluster_forwarder>(
                                         impl::cluster_forwarder{std::move(fn), std::move(wanted)}));
}

void ws_hub::deliver_remote(const runtime::cluster_event& ev) {
  if (ev.type >= actors::event_type_count)
    return;
  internal::ws_event_key key{static_cast<actors::event_type>(ev.type), nullptr, nullptr,
                             std::nullopt};
  if (!ev.task_type.empty())
    key.task_type = &ev.task_type;
  if (!ev.agent_id.empty())
    key.agent_id = &ev.agent_id;
  if (ev.priority >= 0)
    key.task_priority = static_cast<priority>(ev.priority);
  impl_->offer_all(key, actors::to_string(key.type),
                   std::make_shared<const std::string>(ev.data));
}

std::shared_ptr<ws_hub> ws_hub::create(actors::engine& core, ws_options opts) {
  std::shared_ptr<ws_hub> hub{new ws_hub()};
  hub->impl_ = std::make_unique<impl>();
  hub->impl_->core = &core;
  hub->impl_->opts = opts;
  // The sink may still run once after stop() (publishing works on a snapshot of the
  // subscribers): it holds the hub weakly.
  std::weak_ptr<ws_hub> weak = hub;
  hub->impl_->bus_token = core.events().subscribe([weak](const actors::hive_event& ev) {
    if (auto h = weak.lock())
      h->internals().fan_out(ev);
  });
  return hub;
}

ws_hub::~ws_hub() {
  stop();
}

void ws_hub::stop() {
  std::vector<std::shared_ptr<internal::ws_session>> live;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    if (impl_->stopped)
      return;
    impl_->stopped = true;
    for (const auto& w : impl_->sessions)
      if (auto s = w.lock())
        live.push_back(std::move(s));
    impl_->sessions.clear();
  }
  impl_->core->events().unsubscribe(impl_->bus_token);
  for (auto& s : live)
    s->close_async();
}

ws_stats ws_hub::stats() const {
  ws_stats out;
  out.connections_open = impl_->open.load();
  out.connections_accepted = impl_->accepted.load();
  out.connections_refused = impl_->refused.load();
  out.events_sent = impl_->sent.load();
  out.events_dropped = impl_->dropped.load();
  out.clients_dropped = impl_->clients_dropped.load();
  return out;
}

} // namespace hive::net
