// Wiring of one Hive server, in the order the layers stack up.
#include "app/server.hpp"

#include <atomic>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/engine.hpp"
#include "actors/event_bus.hpp"
#include "actors/executor.hpp"
#include "actors/neural_library.hpp"
#include "actors/scripting/script_dir.hpp"
#include "actors/scripting/scripts.hpp"
#include "build_config.hpp"
#include "actors/store_metrics.hpp"
#include "actors/task_metrics.hpp"
#include "cluster/node.hpp"
#include "net/api.hpp"
#include "net/http_server.hpp"
#include "net/ws_hub.hpp"
#include "net/ws_metrics.hpp"
#include "persistence/store.hpp"
#include "runtime/actor_system_setup.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace hive::app {

struct server::impl {
  runtime::config cfg;
  // Metrics come first: the bus sinks and the commit observer that use them run until the
  // actor system and the store writer are gone, which are declared (and reset) after them.
  std::unique_ptr<runtime::metrics_registry> metrics; ///< null when metrics are off
  std::unique_ptr<actors::task_metrics> task_metrics;
  std::unique_ptr<actors::store_metrics> store_metrics;
  std::unique_ptr<net::ws_metrics> ws_metrics;
  std::unique_ptr<persistence::store> db;
  actors::executor_registry executors;
#if HIVE_ENABLE_LUA
  std::unique_ptr<actors::scripting::script_catalog> scripts;
  /// Declared after scripts, so it (and its thread) goes first.
  std::unique_ptr<actors::scripting::script_directory> script_dir;
#endif
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<actors::engine> core;
  std::unique_ptr<cluster::node> cluster; ///< cluster mode only; leaves once the engine drained
  std::shared_ptr<net::ws_hub> ws;
  std::unique_ptr<net::http_server> http;
  bool stopped = false;
};

result<std::unique_ptr<server>>
server::start(const runtime::config& cfg, void (*extra_executors)(actors::executor_registry&)) {
  auto ptr = std::make_unique<impl>();
  ptr->cfg = cfg;
  // L1: the store (runs migrations).
  persistence::store_options store_opts;
  store_opts.url = cfg.database.url;
  store_opts.synchronous = cfg.database.synchronous;
  store_opts.cache_kib = size_t{cfg.performance.cache_size_mb} * 1024;
  store_opts.max_connections = cfg.database.max_connections;
  store_opts.min_connections = cfg.database.min_connections;
  store_opts.connection_timeout_secs = cfg.database.connection_timeout_secs;
  store_opts.statement_timeout_secs = cfg.database.statement_timeout_secs;
  store_opts.pool_recycle_secs = cfg.database.pool_recycle_secs;
  if (cfg.cluster.enabled)
    store_opts.node_id = cfg.cluster.node_id; // tasks and agents of this node
  auto db = persistence::open_store(store_opts);
  if (!db)
    return std::move(db).err();
  ptr->db = std::move(*db);
  if (cfg.cluster.enabled) {
    // Hold the lease before reading this node's tasks back: a survivor taking them over
    // meanwhile would run them twice.
    if (auto held = ptr->db->renew_lease(cluster::lease_ttl_ms(cfg.cluster)); !held)
      return std::move(held).err();
  }
  // L2: executors, the actor system and the engine (recovers agents and tasks).
  actors::register_builtin_executors(ptr->executors);
  actors::register_neural_executors(ptr->executors, *ptr->db,
                                    actors::gpu_enabled(cfg.neural.mode),
                                    cfg.neural.gpu_batch_min);
  if (extra_executors != nullptr)
    extra_executors(ptr->executors);
#if HIVE_ENABLE_LUA
  // Script task types join the built-in ones (and may not shadow them).
  actors::scripting::sandbox_limits lua_limits;
  lua_limits.max_memory_bytes = size_t{cfg.scripting.max_memory_mb} << 20;
  lua_limits.max_instructions = cfg.scripting.max_instructions;
  ptr->scripts = std::make_unique<actors::scripting::script_catalog>(*ptr->db, ptr->executors,
                                                                      lua_limits);
  auto scripts_loaded = ptr->scripts->load_all();
  if (!scripts_loaded)
    return std::move(scripts_loaded).err();
  runtime::log_info("server", std::to_string(*scripts_loaded) + " Lua scripts loaded");
  if (!cfg.scripting.dir.empty()) {
    ptr->script_dir =
      std::make_unique<actors::scripting::script_directory>(cfg.scripting.dir, *ptr->scripts);
    ptr->script_dir->scan();
    ptr->script_dir->start(std::chrono::milliseconds{cfg.scripting.watch_interval_ms});
  }
  ptr->executors.set_dynamic(ptr->scripts.get());
#endif
  ptr->sys_cfg = std::make_unique<caf::actor_system_config>();
  runtime::configure_actor_system(*ptr->sys_cfg, cfg);
  if (cfg.cluster.enabled)
    cluster::configure(*ptr->sys_cfg, cfg.cluster); // io middleman, TLS, the messages between nodes
  ptr->sys = std::make_unique<caf::actor_system>(*ptr->sys_cfg);
  auto core = actors::engine::start(*ptr->sys, cfg, *ptr->db, ptr->executors);
  if (!core)
    return std::move(core).err();
  if (cfg.cluster.enabled) {
    // Recovery may have taken a while: renew before the node actor takes over renewing. A
    // lease that ran out meanwhile may have let other nodes take over what was just resumed.
    auto held = ptr->db->renew_lease(cluster::lease_ttl_ms(cfg.cluster));
    if (!held)
      return std::move(held).err();
    if (!*held)
      return make_error(errc::internal,
                        "cluster mode: reading this node's tasks back took longer than its lease"
                        " (2 x HIVE_CLUSTER__FAILURE_TIMEOUT_MS); start it again, or raise the"
                        " failure timeout",
                        "cluster.failure_timeout_ms");
  }
  ptr->core = std::move(*core);
  // Metrics: each module's struct registers in one registry; net/ renders it at GET /metrics.
  net::api_options api_opts;
  if (cfg.metrics.enabled) {
    ptr->metrics = std::make_unique<runtime::metrics_registry>();
    ptr->task_metrics = std::make_unique<actors::task_metrics>(ptr->metrics->registry());
    ptr->task_metrics->subscribe(ptr->core->events());
    ptr->store_metrics = std::make_unique<actors::store_metrics>(ptr->metrics->registry());
    ptr->core->set_commit_observer(ptr->store_metrics->observer());
    api_opts.metrics = ptr->metrics.get();
    ptr->ws_metrics = std::make_unique<net::ws_metrics>(ptr->metrics->registry());
    auto* engine = ptr->core.get();
    auto* tasks = ptr->task_metrics.get();
    auto* ws = ptr->ws_metrics.get();
    auto* store = ptr->store_metrics.get();
    auto* hub = &ptr->ws; // set below, before the server accepts its first scrape
    // The gauges come from the scheduler's status; a failed status (shutting down) still
    // renders the rest.
    api_opts.refresh_metrics = [engine, tasks, ws, store, hub](std::function<void()> render) {
      if (*hub)
        ws->update((*hub)->stats());
      auto writer = engine->writer_stats();
      store->update(writer.held, writer.dropped, engine->write_lanes());
      engine->status([tasks, render](result<actors::hive_status> st) {
        if (st)
          tasks->update(*st);
        render();
      });
    };
  }
  // L3: the HTTP frontend.
  api_opts.max_batch = cfg.tasks.max_batch;
  api_opts.cluster_members = [slot = &ptr->cluster]()
    -> std::optional<std::vector<runtime::cluster_member>> {
    if (!*slot)
      return std::nullopt;
    return (*slot)->members();
  };
#if HIVE_ENABLE_LUA
  api_opts.scripts = ptr->scripts.get();
#endif
  net::http_server_options http_opts;
  http_opts.host = cfg.server.host;
  http_opts.port = cfg.server.port;
  http_opts.max_connections = cfg.server.max_connections;
  http_opts.keep_alive_timeout_secs = cfg.server.keep_alive_timeout_secs;
  http_opts.request_timeout_secs = cfg.server.request_timeout_secs;
  http_opts.max_body_bytes = cfg.server.max_body_bytes;
  http_opts.io_threads = cfg.server.io_threads;
  using access_log = net::http_server_options::access_log;
  http_opts.access = cfg.log.access == "all"    ? access_log::all
                     : cfg.log.access == "off" ? access_log::off
                                               : access_log::errors;
  // GET /ws: the live event stream.
  net::ws_options ws_opts;
  ws_opts.max_connections = cfg.websocket.max_connections;
  ws_opts.max_message_bytes = cfg.websocket.max_message_bytes;
  ws_opts.send_queue_max = cfg.websocket.send_queue_max;
  ws_opts.drop_after_missed = cfg.websocket.drop_after_missed;
  ws_opts.idle_timeout_secs = cfg.websocket.idle_timeout_secs;
  ptr->ws = net::ws_hub::create(*ptr->core, ws_opts);
  http_opts.websocket = ptr->ws;
  auto http = net::http_server::start(http_opts, net::make_api_handler(*ptr->core, api_opts));
  if (!http) {
    ptr->ws->stop();
    ptr->core->shutdown(std::chrono::milliseconds{0});
    return std::move(http).err();
  }
  ptr->http = std::move(*http);
  // L3: cluster membership, once the HTTP port is known (the other nodes are told it).
  if (cfg.cluster.enabled) {
    struct load_counts {
      std::atomic<uint64_t> agents{0};
      std::atomic<uint64_t> running{0};
    };
    auto counts = std::make_shared<load_counts>();
    auto* engine = ptr->core.get();
    std::weak_ptr<net::ws_hub> hub = ptr->ws;
    // The last status the engine answered (asked again at each heartbeat, never waited for).
    auto probe = [engine, counts, hub] {
      engine->status([counts](result<actors::hive_status> st) {
        if (st) {
          counts->agents = st->agents_here;
          counts->running = st->running_tasks;
        }
      });
      cluster::node_load load;
      load.agents = counts->agents.load();
      load.running = counts->running.load();
      if (auto h = hub.lock())
        load.websocket_clients = h->stats().connections_open;
      return load;
    };
    // Events cross nodes for the WebSocket clients: local ones go out, remote ones come in.
    cluster::node_links links;
    links.scheduler = &engine->scheduler();
    links.store = ptr->db.get();
    links.load = probe;
    links.remote_events = [hub](const runtime::cluster_event& ev) {
      if (auto h = hub.lock())
        h->deliver_remote(ev);
    };
#if HIVE_ENABLE_LUA
    // Lua scripts live in the shared database: a change on one node is read again on the
    // others (off the node actor: the store is read on the engine's pool).
    auto* scripts = ptr->scripts.get();
    links.script_changed = [engine, scripts](const std::string& name) {
      engine->run_blocking([scripts, name] {
        if (auto ok = scripts->reload(name); !ok)
          runtime::log_warn("script", "cannot read script '" + name + "' again: "
                                        + ok.err().message);
      });
    };
#endif
    auto node = cluster::node::start(*ptr->sys, cfg.cluster, ptr->http->port(), std::move(links));
    if (!node) {
      ptr->http->stop();
      ptr->ws->stop();
      ptr->core->shutdown(std::chrono::milliseconds{0});
      return std::move(node).err();
    }
    ptr->cluster = std::move(*node);
    ptr->ws->set_forwarder(ptr->cluster->forwarder(), ptr->cluster->listened());
#if HIVE_ENABLE_LUA
    ptr->scripts->set_change_observer(ptr->cluster->script_notifier());
#endif
  }
  return std::unique_ptr<server>{new server(std::move(ptr))};
}

server::server(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {}

server::~server() {
  stop();
}

uint16_t server::port() const noexcept {
  return impl_->http->port();
}

actors::engine& server::engine() noexcept {
  return *impl_->core;
}

void server::stop() {
  auto& s = *impl_;
  if (s.stopped)
    return;
  s.stopped = true;
  s.http->stop_accepting();
  runtime::log_debug("server", "stopped accepting");
  s.core->shutdown(std::chrono::seconds{s.cfg.server.shutdown_grace_secs});
  runtime::log_debug("server", "engine drained");
  s.ws->stop(); // WebSocket clients saw the drain; now their connections close
  s.http->stop();
  s.core.reset();
  // Only now does the node leave: its lease was renewed while the engine drained (the others
  // must not take over tasks still finishing here), and every change is written, so they may
  // take over what is left unfinished right away.
  s.cluster.reset();
  if (s.cfg.cluster.enabled) {
    if (auto released = s.db->release_lease(); !released)
      runtime::log_warn("server", "could not end this node's lease: " + released.err().message);
  }
  s.sys.reset(); // waits for the remaining actors
  runtime::log_debug("server", "actor system stopped");
#if HIVE_ENABLE_LUA
  s.script_dir.reset(); // its thread writes through the catalog to the store
#endif
  s.db.reset();
  runtime::log_debug("server", "store closed");
}

} // namespace hive::app
