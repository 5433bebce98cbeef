// Scheduler, cluster mode: the agents of other nodes (mirrored in the directory, routed to
// through their actors' handles), placement of new agents, and tasks taken over from lost
// nodes. Outside cluster mode nothing here runs (there are no peers).
#include <caf/all.hpp>

#include "actors/internal/scheduler_state.hpp"

namespace hive::actors::internal {
namespace {

/// This node's agent as the others see it.
remote_agent describe(const agent_entry& entry) {
  return remote_agent{entry.record, entry.handle, entry.load};
}

/// Every local agent, for a node that just joined or came back.
std::vector<remote_agent> all_local(const scheduler_state& st) {
  std::vector<remote_agent> out;
  for (const auto& [id, entry] : st.agents.entries())
    if (!entry.remote)
      out.push_back(describe(entry));
  return out;
}

/// (tasks running, agents) of each node, from the directory: what "least_loaded" compares.
std::map<std::string, std::pair<uint64_t, uint64_t>> load_by_node(const scheduler_state& st) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> out;
  out[st.ctx->settings.node_id];
  for (const auto& [id, p] : st.peers)
    if (p.online)
      out[id];
  for (const auto& [id, entry] : st.agents.entries()) {
    auto i = out.find(entry.remote ? entry.record.node_id : st.ctx->settings.node_id);
    if (i == out.end())
      continue; // a node that is offline
    i->second.first += entry.remote ? entry.reported_load : entry.load;
    i->second.second += 1;
  }
  return out;
}

/// Asks the scheduler of `node` (where an agent lives) to carry out a request about it; its
/// remote_reply goes to `done`.
template <class... Ts>
void ask_node(scheduler_actor* self, const std::string& node,
              std::function<void(result<agent_record>)> done, Ts&&... xs) {
  auto& st = self->state;
  auto i = st.peers.find(node);
  if (i == st.peers.end() || !i->second.online) {
    done(make_error(errc::store_unavailable,
                    "node " + node + " is offline; the agent can be changed once it is back"));
    return;
  }
  self->request(i->second.scheduler, std::chrono::seconds{10}, std::forward<Ts>(xs)...)
    .then([done](remote_reply& r) { done(std::move(r).to_result()); },
          [done, node, self](caf::error& err) {
            done(make_error(errc::store_unavailable,
                            "node " + node + " did not answer: " + self->system().render(err)));
          });
}

/// The callback that answers a request of another node (`rp`) with an agent or a task; it
/// may run on any thread (a store commit's): the answer goes out from the scheduler.
template <class T>
std::function<void(result<T>)> reply_to(scheduler_actor* self, caf::response_promise rp) {
  auto me = caf::actor_cast<caf::actor>(self);
  return [me, rp](result<T> res) {
    caf::anon_send(me, deliver_reply_msg{rp, remote_reply::from(std::move(res))});
  };
}

} // namespace

void note_agent_change(scheduler_state& st, const std::string& agent_id, bool removed) {
  if (st.peers.empty())
    return;
  if (removed) {
    st.sync_changed.erase(agent_id);
    st.sync_removed.push_back(agent_id);
  } else {
    st.sync_changed.insert(agent_id);
  }
}

void sync_agents(scheduler_actor* self) {
  auto& st = self->state;
  if (st.peers.empty() || st.draining) // a draining node told the others it is leaving
    return;
  // Counters and load changes are in dirty_agents (written to the store at the same tick).
  for (const auto& id : st.dirty_agents)
    st.sync_changed.insert(id);
  if (st.sync_changed.empty() && st.sync_removed.empty())
    return;
  std::vector<remote_agent> changed;
  for (const auto& id : st.sync_changed)
    if (auto* entry = st.agents.find(id); entry != nullptr && !entry->remote)
      changed.push_back(describe(*entry));
  st.sync_changed.clear();
  auto removed = std::move(st.sync_removed);
  st.sync_removed.clear();
  if (changed.empty() && removed.empty())
    return;
  for (const auto& [id, p] : st.peers)
    if (p.online)
      self->send(p.scheduler, agents_sync_atom::value, st.ctx->settings.node_id, changed,
                 removed, false, false);
}

void on_peer_up(scheduler_actor* self, peer_up_msg& msg) {
  auto& st = self->state;
  auto& p = st.peers[msg.node_id];
  bool news = !p.online || p.scheduler != msg.scheduler;
  p.scheduler = msg.scheduler;
  p.online = true;
  if (!news)
    return;
  // Its agents held back when it was lost (suspended by the tasks that lost them) get work
  // again: their actors may be the very same after a network blip.
  for (const auto& [id, entry] : st.agents.entries())
    if (entry.remote && entry.suspended && entry.record.node_id == msg.node_id)
      st.agents.set_suspended(*st.agents.find(id), false);
  // It may be a restart: tell it everything, and ask for its whole list too (it may not have
  // noticed that this node lost sight of it). A draining node tells it it has no agents.
  self->send(p.scheduler, agents_sync_atom::value, st.ctx->settings.node_id,
             st.draining ? std::vector<remote_agent>{} : all_local(st),
             std::vector<std::string>{}, true, true);
}

void leave_peers(scheduler_actor* self) {
  auto& st = self->state;
  std::vector<std::string> mine;
  for (const auto& [id, entry] : st.agents.entries())
    if (!entry.remote)
      mine.push_back(id);
  for (const auto& [id, p] : st.peers)
    if (p.online)
      self->send(p.scheduler, agents_sync_atom::value, st.ctx->settings.node_id,
                 std::vector<remote_agent>{}, mine, false, false);
}

void on_peer_down(scheduler_actor* self, peer_down_msg& msg) {
  auto& st = self->state;
  auto i = st.peers.find(msg.node_id);
  if (i == st.peers.end() || !i->second.online)
    return;
  i->second.online = false;
  // Its agents take no work until it is back. Tasks running on them are queued again here:
  // their actors see the agents' proxies go down with a dropped connection, and are told
  // here too (a node lost by its heartbeats alone drops nothing).
  st.agents.set_node_offline(msg.node_id, st.ctx->now());
  for (const auto& [id, lt] : st.live) {
    if (lt.assigned_agent.empty() || !lt.handle)
      continue;
    if (auto* agent = st.agents.find(lt.assigned_agent);
        agent != nullptr && agent->remote && agent->record.node_id == msg.node_id)
      self->send(lt.handle, agent_lost_atom::value, lt.assigned_agent);
  }
}

void on_agents_sync(scheduler_actor* self, const std::string& node_id,
                    std::vector<remote_agent>& changed, const std::vector<std::string>& removed,
                    bool full, bool answer) {
  auto& st = self->state;
  if (node_id == st.ctx->settings.node_id)
    return;
  if (answer)
    if (auto p = st.peers.find(node_id); p != st.peers.end() && p->second.scheduler)
      self->send(p->second.scheduler, agents_sync_atom::value, st.ctx->settings.node_id,
                 st.draining ? std::vector<remote_agent>{} : all_local(st),
                 std::vector<std::string>{}, true, false);
  std::unordered_set<std::string> listed;
  for (auto& ra : changed) {
    auto* existing = st.agents.find(ra.record.id);
    if (existing != nullptr && !existing->remote)
      continue; // ours (never expected: ids are unique across the cluster)
    if (full)
      listed.insert(ra.record.id);
    ra.record.node_id = node_id;
    st.agents.upsert_remote(std::move(ra.record), std::move(ra.handle), ra.load);
  }
  for (const auto& id : removed)
    if (auto* entry = st.agents.find(id); entry != nullptr && entry->remote)
      st.agents.remove(id);
  if (full) {
    std::vector<std::string> gone;
    for (const auto& [id, entry] : st.agents.entries())
      if (entry.remote && entry.record.node_id == node_id && listed.count(id) == 0)
        gone.push_back(id);
    for (const auto& id : gone)
      st.agents.remove(id);
  }
  dispatch(self); // new capacity
}

void on_adopt(scheduler_actor* self, adopt_msg& msg) {
  auto& st = self->state;
  for (auto& t : msg.tasks) {
    if (!t.idempotency_key.empty())
      st.keys.emplace(t.idempotency_key, t.id);
    resume_stored_task(self, std::move(t), "taken over from a lost node");
  }
  drain_backlog(self);
  dispatch(self);
}

void on_remote_load(scheduler_actor* self, remote_load_msg& msg) {
  auto& st = self->state;
  auto* entry = st.agents.find(msg.agent_id);
  if (entry == nullptr || entry->remote)
    return;
  auto now = st.ctx->now();
  if (msg.started) {
    ++entry->remote_runs;
    st.agents.reserve(*entry, now);
  } else if (entry->remote_runs > 0) { // else counted off when its actor died
    --entry->remote_runs;
    st.agents.release(*entry, msg.success, msg.latency_ms, true, now);
  }
  st.dirty_agents.insert(msg.agent_id);
}

bool place_elsewhere(scheduler_actor* self, agent_create_msg& msg) {
  auto& st = self->state;
  const auto& me = st.ctx->settings.node_id;
  auto& want = msg.spec.node_id;
  if (me.empty()) {
    if (want.empty() || want == "least_loaded") {
      want.clear(); // outside cluster mode agents carry no node
      return false;
    }
    msg.reply(make_error(errc::invalid_field,
                         "placement '" + want + "' names a node, but cluster mode is off",
                         "placement"));
    return true;
  }
  std::string target = want.empty() ? me : want;
  if (want == "least_loaded") {
    auto loads = load_by_node(st);
    target = me;
    for (const auto& [node, load] : loads)
      if (load < loads[target])
        target = node;
  }
  if (target == me) {
    want = me;
    return false;
  }
  auto i = st.peers.find(target);
  if (i == st.peers.end() || !i->second.online) {
    msg.reply(make_error(errc::invalid_field,
                         "placement: no online node '" + target
                           + "' (see GET /api/cluster/nodes)",
                         "placement"));
    return true;
  }
  want = target;
  ask_node(self, target, std::move(msg.reply), remote_create_atom::value, msg.spec);
  return true;
}

caf::result<remote_reply> on_remote_create(scheduler_actor* self, agent_record& spec) {
  if (self->state.draining)
    return remote_reply::from(result<agent_record>{make_error(
      errc::shutting_down, "node " + self->state.ctx->settings.node_id + " is stopping")});
  auto rp = self->make_response_promise();
  spec.node_id = self->state.ctx->settings.node_id;
  agent_create_msg create{std::move(spec), reply_to<agent_record>(self, rp)};
  on_agent_create(self, create);
  return rp;
}

caf::result<remote_reply> on_remote_update(scheduler_actor* self, std::string& id,
                                           wire_patch& patch) {
  auto rp = self->make_response_promise();
  agent_update_msg update{std::move(id), std::move(patch).to_patch(),
                          reply_to<agent_record>(self, rp)};
  on_agent_update(self, update);
  return rp;
}

caf::result<remote_reply> on_remote_delete(scheduler_actor* self, std::string& id) {
  auto rp = self->make_response_promise();
  auto done = reply_to<agent_record>(self, rp);
  agent_delete_msg del{std::move(id), [done](result<unit_t> res) {
                         if (!res)
                           return done(std::move(res).err());
                         done(agent_record{});
                       }};
  on_agent_delete(self, del);
  return rp;
}

bool ask_peers_to_cancel(scheduler_actor* self, cancel_msg& msg) {
  auto& st = self->state;
  std::vector<caf::actor> asked;
  for (const auto& [id, p] : st.peers)
    if (p.online)
      asked.push_back(p.scheduler);
  if (asked.empty())
    return false;
  // One answer counts: the first node that had the task, or not_found once all said no.
  struct pending {
    callback<task_record> reply;
    size_t left;
    bool done = false;
    bool unanswered = false; ///< some node did not answer: it may be the owner
  };
  auto state = std::make_shared<pending>(pending{std::move(msg.reply), asked.size()});
  auto id = msg.id;
  auto settle = [state, id](remote_reply* r) {
    if (state->done)
      return;
    if (r != nullptr && (r->ok || r->code != static_cast<uint16_t>(errc::not_found))) {
      state->done = true;
      state->reply(std::move(*r).to_task_result());
      return;
    }
    state->unanswered = state->unanswered || r == nullptr;
    if (--state->left == 0) {
      state->done = true;
      if (state->unanswered)
        state->reply(make_error(errc::store_unavailable,
                                "task " + id + " may run on a node that did not answer; retry"));
      else
        state->reply(make_error(errc::not_found, "no unfinished task with id " + id, "id"));
    }
  };
  for (auto& peer : asked)
    self->request(peer, std::chrono::seconds{10}, remote_cancel_atom::value, id)
      .then([settle](remote_reply& r) { settle(&r); },
            [settle](caf::error&) { settle(nullptr); });
  return true;
}

caf::result<remote_reply> on_remote_cancel(scheduler_actor* self, std::string& id) {
  if (self->state.live.count(id) == 0) // not here: say so without asking the others again
    return remote_reply::from(
      result<task_record>{make_error(errc::not_found, "no unfinished task with id " + id, "id")});
  auto rp = self->make_response_promise();
  cancel_msg cancel{id, reply_to<task_record>(self, rp)};
  on_cancel(self, cancel);
  return rp;
}

bool forward_to_home(scheduler_actor* self, agent_update_msg& msg) {
  auto* entry = self->state.agents.find(msg.id);
  if (entry == nullptr || !entry->remote)
    return false;
  ask_node(self, entry->record.node_id, std::move(msg.reply), remote_update_atom::value, msg.id,
           wire_patch::from(msg.patch));
  return true;
}

bool forward_to_home(scheduler_actor* self, agent_delete_msg& msg) {
  auto* entry = self->state.agents.find(msg.id);
  if (entry == nullptr || !entry->remote)
    return false;
  auto reply = std::move(msg.reply);
  ask_node(
    self, entry->record.node_id,
    [reply](result<agent_record> res) {
      if (!res)
        return reply(std::move(res).err());
      reply(unit);
    },
    remote_delete_atom::value, msg.id);
  return true;
}

} // namespace hive::actors::internal
