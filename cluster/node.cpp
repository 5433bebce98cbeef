// The node actor: membership by join, gossip of newcomers, heartbeats, failure detection.
#include "cluster/node.hpp"

#include <atomic>
#include <map>
#include <mutex>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/messages.hpp"
#include "actors/wire.hpp"
#include "persistence/store.hpp"
#include "runtime/clock.hpp"
#include "runtime/log.hpp"
#include "runtime/thread_pool.hpp"

namespace hive::cluster {

/// What nodes tell each other about themselves (crosses nodes: registered in configure()).
struct node_info {
  std::string node_id;
  std::string host;
  uint16_t cluster_port = 0;
  uint16_t http_port = 0;
  uint64_t agents = 0;
  uint64_t running = 0;
  uint64_t websocket_clients = 0;
  caf::actor handle;    ///< the node actor
  caf::actor scheduler; ///< the node's scheduler (agents and tasks cross nodes through it)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(caf::meta::type_name("hive_node_info"), x.node_id, x.host, x.cluster_port,
           x.http_port, x.agents, x.running, x.websocket_clients, x.handle, x.scheduler);
}

} // namespace hive::cluster

// CAF finds inspect() beside its type (argument-dependent lookup): cluster_event is runtime's.
namespace hive::runtime {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_event& x) {
  return f(caf::meta::type_name("hive_cluster_event"), x.type, x.task_type, x.agent_id,
           x.priority, x.data, x.origin);
}

} // namespace hive::runtime

namespace hive::cluster {
namespace {

using join_atom = caf::atom_constant<caf::atom("hjoin")>;       // -> all members, or none
using member_atom = caf::atom_constant<caf::atom("hmember")>;   // a newcomer, from a seed
using heartbeat_atom = caf::atom_constant<caf::atom("hbeat")>;  // alive, with its load
using merge_atom = caf::atom_constant<caf::atom("hmerge")>;     // local: a seed's answer
using tick_atom = caf::atom_constant<caf::atom("htick")>;       // local: heartbeat timer
using forward_atom = caf::atom_constant<caf::atom("hfwd")>;     // local: an event to send on
using flush_atom = caf::atom_constant<caf::atom("hflush")>;     // local: send the batch
using events_atom = caf::atom_constant<caf::atom("hevents")>;   // a batch from another node
using script_atom = caf::atom_constant<caf::atom("hscript")>;   // a Lua script changed

constexpr size_t max_waiting_events = 10'000;
constexpr auto event_batch_delay = std::chrono::milliseconds{5};

/// The members as the API sees them, replaced by the node actor after each change.
struct snapshot {
  mutable std::mutex mtx;
  std::vector<runtime::cluster_member> members;
  std::atomic<bool> listened{false}; ///< some other online node has WebSocket clients
};

/// The store work of a node: lease renewals and take-overs, each on a thread of its own (a
/// long take-over never delays a renewal), at most one of each kind in flight.
struct lease_keeper {
  persistence::store* db = nullptr;
  uint32_t ttl_ms = 0;
  runtime::thread_pool thread{1, "hive-lease"};
  runtime::thread_pool sweeper{1, "hive-takeover"};
  std::atomic<bool> renewing{false};
  std::atomic<bool> sweeping{false};
  std::atomic<bool> renew_failed{false};
};

struct member {
  node_info info;
  bool online = true;
  timestamp_ms last_heard = 0;
  timestamp_ms last_attempt = 0; ///< when this node last tried to reconnect to it
};

struct node_state {
  runtime::cluster_config cfg;
  node_info self;
  load_probe load;
  std::shared_ptr<snapshot> view;
  std::map<std::string, member> members; ///< the other nodes, by node id
  event_sink remote_events;
  caf::io::middleman_actor connector; ///< the (TLS or plain) middleman: reconnects
  std::vector<runtime::cluster_event> outbox; ///< local events waiting for the next flush
  uint64_t events_dropped = 0;
  caf::actor scheduler; ///< this node's
  std::function<void(const std::string&)> script_changed; ///< another node changed a script
  std::shared_ptr<lease_keeper> leases;
  timestamp_ms last_sweep = 0;

  static inline const char* name = "hive.node";
};

using node_actor = caf::stateful_actor<node_state>;

timestamp_ms now_ms() {
  return runtime::system_clock::instance().now();
}

std::string address(const node_info& n) {
  return n.host + ":" + std::to_string(n.cluster_port);
}

void publish_view(node_actor* self) {
  auto& st = self->state;
  std::vector<runtime::cluster_member> out;
  auto add = [&](const node_info& n, bool online, timestamp_ms heard, bool me) {
    out.push_back({n.node_id, address(n), n.http_port, online ? "online" : "offline", n.agents,
                   n.running, n.websocket_clients, heard, me});
  };
  add(st.self, true, 0, true);
  bool listened = false;
  for (const auto& [id, m] : st.members) {
    add(m.info, m.online, m.last_heard, false);
    listened = listened || (m.online && m.info.websocket_clients > 0);
  }
  st.view->listened = listened;
  std::lock_guard<std::mutex> guard{st.view->mtx};
  st.view->members = std::move(out);
}

/// Adds or refreshes a node this one heard from; watches its actor for a lost connection.
void upsert(node_actor* self, const node_info& info) {
  auto& st = self->state;
  if (info.node_id == st.self.node_id || !info.handle)
    return;
  auto& m = st.members[info.node_id];
  bool fresh_handle = m.info.handle != info.handle;
  bool news = !m.online || m.info.node_id.empty() || fresh_handle;
  if (!m.online || m.info.node_id.empty())
    runtime::log_info("cluster", "node " + info.node_id + " (" + address(info) + ") is online");
  m.info = info;
  m.online = true;
  m.last_heard = now_ms();
  if (fresh_handle)
    self->monitor(info.handle);
  if (news && st.scheduler && info.scheduler) // its scheduler and ours exchange agents
    self->send(st.scheduler, actors::peer_up_msg{info.node_id, info.scheduler});
}

/// A node is lost: its agents are offline here until it is back.
void mark_offline(node_actor* self, const std::string& id, member& m, const std::string& why) {
  m.online = false;
  runtime::log_warn("cluster", why);
  if (self->state.scheduler)
    self->send(self->state.scheduler, actors::peer_down_msg{id});
}

/// Renews this node's lease (every heartbeat) and, every failure timeout, takes over the
/// unfinished tasks of nodes whose lease expired; both on the keeper's threads.
void keep_leases(node_actor* self, timestamp_ms now) {
  auto& st = self->state;
  auto keeper = st.leases;
  if (!keeper || keeper->db == nullptr)
    return;
  if (!keeper->renewing.exchange(true)) {
    keeper->thread.post([keeper] {
      auto ok = keeper->db->renew_lease(keeper->ttl_ms);
      if (!ok && !keeper->renew_failed.exchange(true))
        runtime::log_error("cluster", "cannot renew this node's lease: " + ok.err().message
                                        + " (after " + std::to_string(keeper->ttl_ms)
                                        + " ms, nodes that no longer hear from this one take"
                                          " its tasks over)");
      else if (ok && keeper->renew_failed.exchange(false))
        runtime::log_info("cluster", "this node's lease is renewed again");
      if (ok && !*ok)
        runtime::log_error("cluster", "this node's lease had run out before it was renewed:"
                                      " nodes that lost sight of it may have taken its tasks"
                                      " over; those tasks' records are theirs now");
      keeper->renewing = false;
    });
  }
  if (now - st.last_sweep < static_cast<timestamp_ms>(st.cfg.failure_timeout_ms))
    return;
  st.last_sweep = now;
  if (keeper->sweeping.exchange(true))
    return;
  auto scheduler = st.scheduler;
  std::vector<std::string> alive; // never take over the tasks of a node still heard from
  for (const auto& [id, m] : st.members)
    if (m.online)
      alive.push_back(id);
  keeper->sweeper.post([keeper, scheduler, alive] {
    auto claimed = keeper->db->claim_orphans(alive);
    keeper->sweeping = false;
    if (!claimed) {
      runtime::log_warn("cluster", "cannot check for the tasks of lost nodes: "
                                     + claimed.err().message);
      return;
    }
    if (claimed->tasks.empty())
      return;
    std::string nodes;
    for (const auto& n : claimed->from_nodes)
      nodes += (nodes.empty() ? "" : ", ") + n;
    runtime::log_warn("cluster", "took over " + std::to_string(claimed->tasks.size())
                                   + " unfinished tasks of lost nodes (" + nodes + ")");
    caf::anon_send(scheduler, actors::adopt_msg{std::move(claimed->tasks)});
  });
}

void refresh_self(node_actor* self) {
  auto& st = self->state;
  if (st.load) {
    auto load = st.load();
    st.self.agents = load.agents;
    st.self.running = load.running;
    st.self.websocket_clients = load.websocket_clients;
  }
}

/// Tries to reach an offline node again (its address, then a join), without blocking: a lost
/// connection (a network blip, a restart elsewhere) heals by itself.
void reconnect(node_actor* self, const node_info& target) {
  auto& st = self->state;
  auto secret = st.cfg.secret;
  self->request(st.connector, std::chrono::seconds{5}, caf::connect_atom::value, target.host,
                target.cluster_port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        if (!ptr)
          return;
        auto handle = caf::actor_cast<caf::actor>(ptr);
        self->request(handle, std::chrono::seconds{5}, join_atom::value, self->state.self, secret)
          .then([=](std::vector<node_info>& all) { self->send(self, merge_atom::value, all); },
                [](caf::error&) {});
      },
      [](caf::error&) {}); // still unreachable: the next tick tries again
}

caf::behavior node_behavior(node_actor* self, runtime::cluster_config cfg, node_info me,
                            load_probe load, std::shared_ptr<snapshot> view, event_sink sink,
                            caf::io::middleman_actor connector,
                            std::shared_ptr<lease_keeper> leases,
                            std::function<void(const std::string&)> script_changed) {
  auto& st = self->state;
  st.scheduler = me.scheduler;
  st.script_changed = std::move(script_changed);
  st.leases = std::move(leases);
  st.connector = std::move(connector);
  st.remote_events = std::move(sink);
  st.cfg = std::move(cfg);
  me.handle = caf::actor_cast<caf::actor>(self);
  st.self = std::move(me);
  st.load = std::move(load);
  st.view = std::move(view);
  publish_view(self);
  self->set_down_handler([=](caf::down_msg& dm) {
    for (auto& [id, m] : self->state.members)
      if (m.online && m.info.handle.address() == dm.source)
        mark_offline(self, id, m, "lost the connection to node " + id + ": offline");
    publish_view(self);
  });
  self->send(self, tick_atom::value);
  return {
    [=](join_atom, node_info& from, const std::string& secret) -> std::vector<node_info> {
      auto& s = self->state;
      if (secret != s.cfg.secret) {
        runtime::log_warn("cluster", "refused node " + from.node_id + " (" + address(from)
                                       + "): wrong cluster secret");
        return {};
      }
      // Tell everyone else about the newcomer, then give it the whole membership.
      for (auto& [id, m] : s.members)
        if (m.online && id != from.node_id)
          self->send(m.info.handle, member_atom::value, from);
      upsert(self, from);
      refresh_self(self);
      std::vector<node_info> all{s.self};
      for (auto& [id, m] : s.members)
        if (m.online)
          all.push_back(m.info);
      publish_view(self);
      return all;
    },
    [=](member_atom, node_info& info) {
      upsert(self, info);
      publish_view(self);
    },
    [=](heartbeat_atom, node_info& info, const std::string& secret) {
      if (secret != self->state.cfg.secret)
        return;
      upsert(self, info);
      publish_view(self);
    },
    [=](merge_atom, std::vector<node_info>& all) {
      for (auto& n : all)
        upsert(self, n);
      publish_view(self);
    },
    [=](forward_atom, runtime::cluster_event& ev) {
      auto& s = self->state;
      if (s.outbox.empty())
        self->delayed_send(self, event_batch_delay, flush_atom::value);
      if (s.outbox.size() >= max_waiting_events) {
        s.outbox.erase(s.outbox.begin());
        ++s.events_dropped;
      }
      ev.origin = s.self.node_id;
      s.outbox.push_back(std::move(ev));
    },
    [=](flush_atom) {
      auto& s = self->state;
      if (s.outbox.empty())
        return;
      std::vector<runtime::cluster_event> batch;
      batch.swap(s.outbox);
      for (auto& [id, m] : s.members)
        if (m.online && m.info.websocket_clients > 0)
          self->send(m.info.handle, events_atom::value, batch, s.cfg.secret);
    },
    [=](script_atom, const std::string& name) { // local: tell the others
      auto& s = self->state;
      for (auto& [id, m] : s.members)
        if (m.online)
          self->send(m.info.handle, script_atom::value, name, s.cfg.secret);
    },
    [=](script_atom, const std::string& name, const std::string& secret) {
      auto& s = self->state;
      if (secret == s.cfg.secret && s.script_changed)
        s.script_changed(name);
    },
    [=](events_atom, std::vector<runtime::cluster_event>& batch, const std::string& secret) {
      auto& s = self->state;
      if (secret != s.cfg.secret || !s.remote_events)
        return;
      for (const auto& ev : batch)
        s.remote_events(ev);
    },
    [=](tick_atom) {
      auto& s = self->state;
      refresh_self(self);
      auto now = now_ms();
      for (auto& [id, m] : s.members) {
        if (m.info.handle)
          self->send(m.info.handle, heartbeat_atom::value, s.self, s.cfg.secret);
        if (m.online && now - m.last_heard > static_cast<timestamp_ms>(s.cfg.failure_timeout_ms))
          mark_offline(self, id, m, "no heartbeat from node " + id + " for "
                                      + std::to_string(s.cfg.failure_timeout_ms)
                                      + " ms: offline");
        if (!m.online && now - m.last_attempt > static_cast<timestamp_ms>(s.cfg.failure_timeout_ms)) {
          m.last_attempt = now;
          reconnect(self, m.info);
        }
      }
      keep_leases(self, now);
      publish_view(self);
      self->delayed_send(self, std::chrono::milliseconds{s.cfg.heartbeat_interval_ms},
                         tick_atom::value);
    },
  };
}

/// "host:port" -> (host, port); the config checked the form.
std::pair<std::string, uint16_t> split(const std::string& seed) {
  auto colon = seed.rfind(':');
  return {seed.substr(0, colon), static_cast<uint16_t>(std::stoi(seed.substr(colon + 1)))};
}

} // namespace

struct node::impl {
  caf::actor_system* sys = nullptr;
  caf::actor actor;
  std::shared_ptr<snapshot> view;
  std::shared_ptr<lease_keeper> leases;
};

uint32_t lease_ttl_ms(const runtime::cluster_config& cfg) noexcept {
  return 2 * cfg.failure_timeout_ms;
}

node::node(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

node::~node() {
  if (impl_ && impl_->actor)
    caf::anon_send_exit(impl_->actor, caf::exit_reason::user_shutdown);
  if (impl_ && impl_->leases) { // finish a renewal or take-over in flight
    impl_->leases->thread.stop();
    impl_->leases->sweeper.stop();
  }
}

void configure(caf::actor_system_config& sys_cfg, const runtime::cluster_config& cfg) {
  sys_cfg.load<caf::io::middleman>();
  if (cfg.tls()) {
    sys_cfg.load<caf::openssl::manager>();
    sys_cfg.openssl_certificate = cfg.tls_certificate;
    sys_cfg.openssl_key = cfg.tls_key;
    sys_cfg.openssl_cafile = cfg.tls_ca_file;
  }
  sys_cfg.add_message_type<node_info>("hive_node_info");
  sys_cfg.add_message_type<std::vector<node_info>>("hive_node_info_list");
  sys_cfg.add_message_type<runtime::cluster_event>("hive_cluster_event");
  sys_cfg.add_message_type<std::vector<runtime::cluster_event>>("hive_cluster_event_list");
  actors::register_wire_types(sys_cfg); // agents and tasks between schedulers
}

result<std::unique_ptr<node>> node::start(caf::actor_system& sys,
                                          const runtime::cluster_config& cfg,
                                          uint16_t http_port, node_links links) {
  auto p = std::make_shared<impl>();
  p->sys = &sys;
  p->view = std::make_shared<snapshot>();
  p->leases = std::make_shared<lease_keeper>();
  p->leases->db = links.store;
  p->leases->ttl_ms = lease_ttl_ms(cfg);
  node_info me;
  me.node_id = cfg.node_id;
  me.host = cfg.host;
  me.cluster_port = cfg.port;
  me.http_port = http_port;
  if (links.scheduler != nullptr)
    me.scheduler = *links.scheduler;
  auto connector = cfg.tls() ? sys.openssl_manager().actor_handle()
                             : sys.middleman().actor_handle();
  p->actor = sys.spawn(node_behavior, cfg, me, std::move(links.load), p->view,
                       std::move(links.remote_events), connector, p->leases,
                       std::move(links.script_changed));
  std::unique_ptr<node> out{new node(p)};

  auto port = cfg.tls() ? caf::openssl::publish(p->actor, cfg.port, nullptr, true)
                        : sys.middleman().publish(p->actor, cfg.port, nullptr, true);
  if (!port)
    return make_error(errc::invalid_field,
                      "cluster mode: cannot listen on HIVE_CLUSTER__PORT " + std::to_string(cfg.port)
                        + ": " + sys.render(port.error()),
                      "cluster.port");
  runtime::log_info("cluster", "node " + cfg.node_id + " listening on " + cfg.host + ":"
                                 + std::to_string(*port) + (cfg.tls() ? " (TLS)" : ""));

  // Join through every seed that answers.
  bool joined = false;
  for (const auto& seed : cfg.seeds) {
    auto [host, seed_port] = split(seed);
    if (seed_port == cfg.port && (host == cfg.host || host == "127.0.0.1" || host == "localhost"))
      continue; // ourselves
    auto remote = cfg.tls() ? caf::openssl::remote_actor(sys, host, seed_port)
                            : sys.middleman().remote_actor(host, seed_port);
    if (!remote) {
      runtime::log_info("cluster", "seed " + seed + " not reachable (" + sys.render(remote.error())
                                     + ")");
      continue;
    }
    std::vector<node_info> members;
    std::string failure;
    caf::scoped_actor asker{sys};
    me.handle = p->actor;
    asker->request(*remote, std::chrono::seconds{5}, join_atom::value, me, cfg.secret)
      .receive([&](std::vector<node_info>& all) { members = std::move(all); },
               [&](caf::error& err) { failure = sys.render(err); });
    if (!failure.empty()) {
      runtime::log_warn("cluster", "seed " + seed + " did not answer the join: " + failure);
      continue;
    }
    if (members.empty())
      return make_error(errc::invalid_field,
                        "cluster mode: seed " + seed
                          + " refused this node: HIVE_CLUSTER__SECRET differs from the cluster's",
                        "cluster.secret");
    caf::anon_send(p->actor, merge_atom::value, std::move(members));
    joined = true;
  }
  runtime::log_info("cluster", joined ? "joined the cluster"
                                      : "no seed answered: this node starts the cluster");
  return out;
}

void node::forward(runtime::cluster_event ev) {
  caf::anon_send(impl_->actor, forward_atom::value, std::move(ev));
}

std::function<void(runtime::cluster_event)> node::forwarder() const {
  auto p = impl_; // keeps the actor handle; a send to a stopped actor is dropped
  return [p](runtime::cluster_event ev) {
    caf::anon_send(p->actor, forward_atom::value, std::move(ev));
  };
}

std::function<void(const std::string&)> node::script_notifier() const {
  auto p = impl_; // keeps the actor handle; a send to a stopped actor is dropped
  return [p](const std::string& name) { caf::anon_send(p->actor, script_atom::value, name); };
}

std::function<bool()> node::listened() const {
  auto view = impl_->view;
  return [view] { return view->listened.load(std::memory_order_relaxed); };
}

std::vector<runtime::cluster_member> node::members() const {
  std::lock_guard<std::mutex> guard{impl_->view->mtx};
  return impl_->view->members;
}

} // namespace hive::cluster
