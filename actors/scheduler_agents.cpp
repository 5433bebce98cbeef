// Scheduler: the agent directory's changes and the supervision of agent actors.
#include <caf/all.hpp>

#include "actors/agent_actor.hpp"
#include "actors/internal/scheduler_state.hpp"
#include "runtime/ids.hpp"
#include "runtime/log.hpp"

namespace hive::actors::internal {

void spawn_agent(scheduler_actor* self, agent_entry& entry) {
  entry.handle = spawn_agent_actor(self, self->state.ctx);
  self->monitor(entry.handle);
  note_agent_change(self->state, entry.record.id); // other nodes need the new handle
  if (entry.suspended)
    self->state.agents.set_suspended(entry, false);
}

void release_agent(scheduler_state& st, const std::string& agent_id, bool frees_slot, bool success,
                   double latency_ms, bool counted) {
  if (st.running > 0)
    --st.running;
  if (auto* agent = st.agents.find(agent_id)) {
    auto before = agent->record.state;
    st.agents.release(*agent, success, latency_ms, counted, st.ctx->now(), frees_slot);
    if (agent->record.state != before)
      st.ctx->publish(event_type::agent_updated, agent->record);
    st.dirty_agents.insert(agent_id);
  }
}

void flush_agents(scheduler_state& st) {
  if (st.dirty_agents.empty())
    return;
  persistence::write_batch batch;
  for (const auto& id : st.dirty_agents)
    if (auto* agent = st.agents.find(id); agent != nullptr && !agent->remote)
      batch.agents.push_back(agent->record); // other nodes' agents are theirs to store
  st.dirty_agents.clear();
  if (!batch.empty())
    st.ctx->writer->enqueue_durable(std::move(batch));
}

void on_agent_create(scheduler_actor* self, agent_create_msg& msg) {
  auto& st = self->state;
  if (place_elsewhere(self, msg))
    return; // another node creates it (or the placement was refused)
  if (st.agents.size() >= st.ctx->settings.max_agents) {
    msg.reply(make_error(errc::capacity_exceeded,
                         "the hive already has the maximum of "
                           + std::to_string(st.ctx->settings.max_agents)
                           + " agents (HIVE_PERFORMANCE__MAX_AGENTS)"));
    return;
  }
  if (msg.spec.type == agent_type::script) {
    auto script = agent_directory::script_of(msg.spec);
    if (script.empty() || !st.ctx->executors->has_script(script)) {
      msg.reply(make_error(errc::invalid_field,
                           script.empty()
                             ? "an agent of type script names its script in metadata.script"
                             : "metadata.script: no script named '" + script + "'",
                           "metadata.script"));
      return;
    }
  }
  auto now = st.ctx->now();
  auto rec = std::move(msg.spec);
  rec.id = runtime::new_id(now);
  rec.created_at = now;
  rec.updated_at = now;
  rec.tasks_completed = 0;
  rec.tasks_failed = 0;
  rec.mean_latency_ms = 0;
  if (rec.state != agent_state::paused)
    rec.state = agent_state::idle;
  spawn_agent(self, st.agents.add(rec));
  note_agent_change(st, rec.id);
  st.ctx->publish(event_type::agent_created, rec);
  persistence::write_batch batch;
  batch.agents.push_back(rec);
  auto me = caf::actor_cast<caf::actor>(self);
  auto reply = std::move(msg.reply);
  st.ctx->writer->enqueue(std::move(batch), [me, reply, rec](const result<unit_t>& res) {
    if (res) {
      reply(rec);
      return;
    }
    caf::anon_send(me, agent_delete_msg{rec.id, [](result<unit_t>) {}});
    reply(make_error(errc::store_unavailable, "the agent could not be stored: "
                                                + res.err().message));
  });
  dispatch(self);
}

void on_agent_update(scheduler_actor* self, agent_update_msg& msg) {
  auto& st = self->state;
  auto* entry = st.agents.find(msg.id);
  if (entry == nullptr) {
    msg.reply(make_error(errc::not_found, "no agent with id " + msg.id, "id"));
    return;
  }
  if (forward_to_home(self, msg))
    return;
  st.agents.apply(*entry, msg.patch, st.ctx->now());
  if (entry->suspended && entry->handle && msg.patch.state == agent_state::idle)
    st.agents.set_suspended(*entry, false); // an operator vouches for it
  if (!entry->handle && entry->record.state != agent_state::failed) {
    // Revived after it was marked failed.
    entry->crash_streak = 0;
    spawn_agent(self, *entry);
  }
  st.dirty_agents.erase(msg.id);
  note_agent_change(st, msg.id);
  st.ctx->publish(event_type::agent_updated, entry->record);
  persistence::write_batch batch;
  batch.agents.push_back(entry->record);
  auto reply = std::move(msg.reply);
  auto rec = entry->record;
  st.ctx->writer->enqueue(std::move(batch), [reply, rec](const result<unit_t>& res) {
    if (res)
      reply(rec);
    else
      reply(make_error(errc::store_unavailable, "the change could not be stored: "
                                                  + res.err().message));
  });
  dispatch(self);
}

void on_agent_delete(scheduler_actor* self, agent_delete_msg& msg) {
  auto& st = self->state;
  auto* entry = st.agents.find(msg.id);
  if (entry == nullptr) {
    msg.reply(make_error(errc::not_found, "no agent with id " + msg.id, "id"));
    return;
  }
  if (forward_to_home(self, msg))
    return;
  if (entry->handle) {
    self->demonitor(entry->handle);
    // Its running tasks see the actor go down and are retried elsewhere.
    self->send_exit(entry->handle, caf::exit_reason::user_shutdown);
  }
  if (st.ctx->events.has_subscribers()) {
    hive_event ev;
    ev.type = event_type::agent_removed;
    ev.at = st.ctx->now();
    ev.agent_id = msg.id;
    st.ctx->events.publish(ev);
  }
  st.agents.remove(msg.id);
  st.dirty_agents.erase(msg.id);
  note_agent_change(st, msg.id, true);
  persistence::write_batch batch;
  batch.deleted_agents.push_back(msg.id);
  auto reply = std::move(msg.reply);
  st.ctx->writer->enqueue(std::move(batch), [reply](const result<unit_t>& res) {
    if (res)
      reply(unit);
    else
      reply(make_error(errc::store_unavailable, "the deletion could not be stored: "
                                                  + res.err().message));
  });
}

void on_agent_list(scheduler_actor* self, agent_list_msg& msg) {
  const auto& entries = self->state.agents.entries();
  const auto& q = msg.query;
  std::vector<agent_record> out;
  auto it = q.after_id.empty() ? entries.begin() : entries.upper_bound(q.after_id);
  for (; it != entries.end() && out.size() < q.limit; ++it) {
    const auto& rec = it->second.record;
    if (q.state && rec.state != *q.state)
      continue;
    if (q.type && rec.type != *q.type)
      continue;
    if (q.capability && !rec.proficiency(*q.capability))
      continue;
    out.push_back(rec);
  }
  msg.reply(std::move(out));
}

/// Consecutive crashes after which an agent is no longer restarted.
constexpr uint32_t max_crash_streak = 3;

void on_agent_down(scheduler_actor* self, caf::down_msg& dm) {
  auto& st = self->state;
  // Crashes are rare: a scan beats keeping an address index per agent.
  agent_entry* crashed = nullptr;
  for (auto& kv : st.agents.entries())
    if (!kv.second.remote && kv.second.handle && kv.second.handle.address() == dm.source)
      crashed = st.agents.find(kv.first);
  if (crashed == nullptr)
    return;
  // Supervision: restart the agent from its record; the task actors whose attempt was on the
  // crashed actor see it go down and run again. An agent that keeps crashing without finishing
  // anything is marked `failed` instead (PATCH state=idle revives it).
  crashed->handle = nullptr;
  // Runs it was doing for other nodes died with it (their owners see that themselves).
  for (; crashed->remote_runs > 0; --crashed->remote_runs)
    st.agents.release(*crashed, false, 0, false, st.ctx->now());
  st.dirty_agents.insert(crashed->record.id);
  auto why = self->system().render(dm.reason);
  if (++crashed->crash_streak >= max_crash_streak) {
    runtime::log_error("scheduler", "agent " + crashed->record.id + " crashed "
                                      + std::to_string(crashed->crash_streak)
                                      + " times in a row (" + why + "); marking it failed");
    st.agents.set_state(*crashed, agent_state::failed, st.ctx->now());
    st.ctx->publish(event_type::agent_updated, crashed->record);
    st.dirty_agents.insert(crashed->record.id);
    return;
  }
  ++st.agent_restarts;
  runtime::log_warn("scheduler", "agent " + crashed->record.id + " crashed (" + why
                                   + "); restarting it");
  spawn_agent(self, *crashed);
  // Tasks re-queued while it was suspended (their release came before this down message)
  // wait for it: offer them the restarted agent now.
  dispatch(self);
}

} // namespace hive::actors::internal
