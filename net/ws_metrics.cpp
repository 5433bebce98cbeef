// WebSocket metrics: counters follow the hub's own (which only grow), the gauge is set.
#include "net/ws_metrics.hpp"

#include <mutex>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "net/ws_hub.hpp"

namespace hive::net {

namespace {

prometheus::Counter& counter(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

/// Moves a counter up to `value` (the hub counts since start).
void follow(prometheus::Counter& c, uint64_t value) {
  auto now = static_cast<double>(value);
  if (now > c.Value())
    c.Increment(now - c.Value());
}

} // namespace

struct ws_metrics::impl {
  explicit impl(prometheus::Registry& r)
    : open(prometheus::BuildGauge()
             .Name("hive_websocket_connections")
             .Help("Open WebSocket connections")
             .Register(r)
             .Add({})),
      accepted(counter(r, "hive_websocket_connections_total", "WebSocket connections accepted")),
      refused(counter(r, "hive_websocket_connections_refused_total",
                      "WebSocket upgrades refused at the connection limit")),
      sent(counter(r, "hive_websocket_events_sent_total", "Events queued to WebSocket clients")),
      dropped(counter(r, "hive_websocket_events_dropped_total",
                      "Events not sent because a client lagged behind")),
      clients_dropped(counter(r, "hive_websocket_clients_dropped_total",
                              "WebSocket clients disconnected for lagging behind")) {}

  prometheus::Gauge& open;
  prometheus::Counter& accepted;
  prometheus::Counter& refused;
  prometheus::Counter& sent;
  prometheus::Counter& dropped;
  prometheus::Counter& clients_dropped;
  std::mutex mtx; ///< makes each read-then-increment one step
};

ws_metrics::ws_metrics(prometheus::Registry& registry)
  : impl_(std::make_unique<impl>(registry)) {}

ws_metrics::~ws_metrics() = default;

void ws_metrics::update(const ws_stats& s) {
  auto& m = *impl_;
  std::lock_guard<std::mutex> guard{m.mtx};
  m.open.Set(static_cast<double>(s.connections_open));
  follow(m.accepted, s.connections_accepted);
  follow(m.refused, s.connections_refused);
  follow(m.sent, s.events_sent);
  follow(m.dropped, s.events_dropped);
  follow(m.clients_dropped, s.clients_dropped);
}

} // namespace hive::net
