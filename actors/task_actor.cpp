// Task actor: dependencies, attempts, timeouts, retries and cancellation of one task.
#include "actors/task_actor.hpp"

#include <chrono>
#include <optional>

#include <caf/all.hpp>

#include "actors/wire.hpp"
#include "runtime/log.hpp"

namespace hive::actors {
namespace {

struct task_actor_state {
  context_ptr ctx;
  caf::actor scheduler;
  task_ptr task;
  std::string agent_id;     ///< of the running attempt
  caf::actor agent;         ///< of the running attempt (monitored while it runs)
  timestamp_ms attempt_started = 0;
  size_t deps_left = 0;
  bool running = false;
  bool cancelled_while_running = false;
  uint32_t agent_losses = 0; ///< attempts cut short because the agent went away
  uint32_t timeout_ms = 0;   ///< of the running attempt
  /// A result the executor asked to hold back (ready_after_ms), while the task waits it out.
  std::optional<execution_result> held;

  /// An agent that dies under a task does not use up the task's retries, up to this many times
  /// (a task that keeps killing agents still ends).
  static constexpr uint32_t max_agent_losses = 3;

  static inline const char* name = "hive.task";
};

using task_actor = caf::stateful_actor<task_actor_state>;

/// Publishes the task's latest change on the event bus.
void publish_change(task_actor* self, const std::string& detail) {
  auto& st = self->state;
  const auto& t = *st.task;
  const auto& ctx = *st.ctx;
  switch (t.status) {
    case task_status::running:
      ctx.publish(event_type::task_started, t, {}, t.agent_id);
      break;
    case task_status::completed:
      ctx.publish(event_type::task_completed, t, {}, t.agent_id);
      break;
    case task_status::failed:
      ctx.publish(event_type::task_failed, t, detail, t.agent_id);
      break;
    case task_status::dead:
      ctx.publish(event_type::task_dead, t, detail, t.agent_id);
      break;
    case task_status::cancelled:
      ctx.publish(event_type::task_cancelled, t, detail, t.agent_id);
      break;
    case task_status::queued:
      if (t.attempts > 0) // back in the queue after a failed or lost attempt
        ctx.publish(event_type::task_retrying, t, detail, t.agent_id);
      break;
    case task_status::pending:
      break;
  }
}

/// Moves the task to `status`, stamps it and stores the change with an event.
void transition(task_actor* self, task_status status, std::string detail = {}) {
  auto& st = self->state;
  auto& t = *st.task;
  auto now = st.ctx->now();
  t.status = status;
  t.updated_at = now;
  if (is_terminal(status))
    t.finished_at = now;
  task_event ev;
  ev.task_id = t.id;
  ev.status = status;
  ev.at = now;
  ev.attempt = t.attempts;
  ev.agent_id = t.agent_id;
  ev.detail = std::move(detail);
  persistence::write_batch batch;
  batch.tasks.push_back(t);
  batch.events.push_back(std::move(ev));
  publish_change(self, batch.events.back().detail);
  st.ctx->writer->enqueue_durable(std::move(batch), [](const result<unit_t>& res) {
    if (!res)
      runtime::log_error("task", "storing a task state change failed: " + res.err().message);
  });
}

void finish(task_actor* self, task_status status, std::string detail = {}) {
  if (status != task_status::cancelled || self->state.task->status != task_status::cancelled)
    transition(self, status, std::move(detail));
  self->send(self->state.scheduler, finished_msg{self->state.task->id, status});
  self->quit();
}

void request_agent(task_actor* self) {
  self->send(self->state.scheduler, ready_msg{self->state.task, caf::actor_cast<caf::actor>(self)});
}

void release_agent(task_actor* self, bool success, bool counted, bool agent_lost = false) {
  auto& st = self->state;
  double latency = static_cast<double>(st.ctx->now() - st.attempt_started);
  self->send(st.scheduler, release_msg{st.task->id, st.agent_id, success, latency, counted,
                                       agent_lost ? st.agent : caf::actor{}});
  st.running = false;
  if (st.agent) {
    self->demonitor(st.agent);
    st.agent = nullptr;
  }
}

void on_attempt_failed(task_actor* self, const std::string& why, bool retryable) {
  auto& st = self->state;
  auto& t = *st.task;
  t.error = why;
  if (retry_policy::should_retry(retryable, t.attempts - st.agent_losses, t.max_retries)) {
    auto delay = st.ctx->retry.delay_ms(t.attempts - st.agent_losses);
    transition(self, task_status::queued,
               "attempt " + std::to_string(t.attempts) + " failed: " + why + "; retrying in "
                 + std::to_string(delay) + " ms");
    self->delayed_send(self, std::chrono::milliseconds{delay}, retry_atom::value);
    return;
  }
  finish(self, final_failure_status(retryable, t.max_retries), why);
}

void on_outcome(task_actor* self, execution_result& res) {
  auto& st = self->state;
  if (res.ready_after_ms > 0 && !st.cancelled_while_running) {
    // The executor's work is done; the result is due later (e.g. `sleep`). The task waits it
    // out itself, within its timeout, so the agent holds no timer.
    auto elapsed = static_cast<uint64_t>(st.ctx->now() - st.attempt_started);
    auto remaining = st.timeout_ms > elapsed ? st.timeout_ms - elapsed : 0;
    bool times_out = res.ready_after_ms > remaining;
    auto wait = times_out ? remaining : res.ready_after_ms;
    res.ready_after_ms = 0;
    st.held = std::move(res);
    if (st.agent) {
      self->demonitor(st.agent); // the agent's part is over
      st.agent = nullptr;
    }
    self->delayed_send(self, std::chrono::milliseconds{wait}, deliver_atom::value,
                       st.task->attempts, times_out);
    return;
  }
  if (st.cancelled_while_running) {
    release_agent(self, res.ok, false);
    finish(self, task_status::cancelled);
    return;
  }
  release_agent(self, res.ok, true);
  if (res.ok) {
    st.task->result_json = std::move(res.result_json);
    st.task->error.clear();
    finish(self, task_status::completed);
  } else {
    on_attempt_failed(self, res.error, res.retryable);
  }
}

void on_run_error(task_actor* self, const caf::error& err, uint32_t timeout_ms) {
  auto& st = self->state;
  bool cancelled = st.cancelled_while_running;
  bool timed_out = err == caf::sec::request_timeout;
  // Executors report failures as results; an error here means the agent's actor went away or
  // crashed while handling the run.
  bool lost = !timed_out;
  if (timed_out && st.agent)
    self->send(st.agent, cancel_run_atom::value, st.task->id); // free the agent's slot
  release_agent(self, false, !cancelled, lost);
  if (cancelled) {
    finish(self, task_status::cancelled);
    return;
  }
  std::string why;
  if (timed_out)
    why = "timed out after " + std::to_string(timeout_ms) + " ms";
  else if (err == caf::sec::request_receiver_down)
    why = "agent " + st.agent_id + " stopped while running the task";
  else
    why = "agent " + st.agent_id + " crashed while running the task ("
          + self->system().render(err) + ")";
  if (lost && st.agent_losses < task_actor_state::max_agent_losses) {
    // Not the task's fault: run it again elsewhere without using up a retry.
    ++st.agent_losses;
    st.task->error = why;
    transition(self, task_status::queued, why + "; re-queued");
    request_agent(self);
    return;
  }
  on_attempt_failed(self, why, true);
}

void start_attempt(task_actor* self, assign_msg& msg) {
  auto& st = self->state;
  auto& t = *st.task;
  st.agent_id = msg.agent_id;
  st.running = true;
  st.attempt_started = st.ctx->now();
  t.agent_id = msg.agent_id;
  t.attempts += 1;
  t.started_at = st.attempt_started;
  transition(self, task_status::running);
  auto timeout_ms = t.timeout_ms > 0 ? t.timeout_ms : st.ctx->settings.default_timeout_ms;
  st.timeout_ms = timeout_ms;
  st.held.reset();
  // An agent that crashes mid-run may never answer: watch it (see the down handler).
  st.agent = msg.agent;
  self->monitor(st.agent);
  auto attempt = t.attempts;
  auto current = [self, attempt] {
    return self->state.running && self->state.task->attempts == attempt;
  };
  bool remote = msg.agent.node() != self->node();
  auto sent = std::chrono::steady_clock::now();
  auto on_result = [=](execution_result& res) {
    std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - sent;
    self->state.ctx->dispatch.record(remote, took.count());
    if (current())
      on_outcome(self, res);
  };
  auto on_error = [=](caf::error& err) {
    if (current())
      on_run_error(self, err, timeout_ms);
  };
  auto timeout = std::chrono::milliseconds{timeout_ms};
  if (!remote) {
    self->request(msg.agent, timeout, run_atom::value, st.task, msg.context)
      .then(on_result, on_error);
    return;
  }
  // An agent of another node: the task and the agent's view travel by value.
  static const execution_context nobody;
  self->request(msg.agent, timeout, remote_run_atom::value, t, msg.context ? *msg.context : nobody)
    .then(on_result, on_error);
}

void wait_for_dependencies(task_actor* self) {
  auto& st = self->state;
  st.deps_left = st.task->depends_on.size();
  for (const auto& dep : st.task->depends_on) {
    self->request(st.scheduler, caf::infinite, await_dep_atom::value, dep)
      .then(
        [=](int32_t raw) {
          auto status = static_cast<task_status>(raw);
          if (is_terminal(self->state.task->status))
            return; // already failed or cancelled
          if (status != task_status::completed) {
            self->state.task->error = "dependency " + dep + " ended " + std::string{to_string(status)};
            finish(self, task_status::failed, self->state.task->error);
            return;
          }
          if (--self->state.deps_left == 0) {
            transition(self, task_status::queued, "dependencies completed");
            request_agent(self);
          }
        },
        [=](caf::error& err) {
          if (is_terminal(self->state.task->status))
            return;
          self->state.task->error = "dependency " + dep + " could not be checked";
          finish(self, task_status::failed, self->state.task->error);
        });
  }
}

caf::behavior task_behavior(task_actor* self, context_ptr ctx, caf::actor scheduler,
                            task_ptr task, std::optional<assign_msg> first) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.scheduler = std::move(scheduler);
  st.task = std::move(task);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& s = self->state;
    if (s.running && s.agent && dm.source == s.agent.address())
      on_run_error(self, caf::sec::request_receiver_down, 0);
  });
  if (first)
    start_attempt(self, *first);
  else if (st.task->status == task_status::pending && !st.task->depends_on.empty())
    wait_for_dependencies(self);
  else
    request_agent(self);
  return {
    [=](assign_msg& msg) {
      if (is_terminal(self->state.task->status))
        return; // the scheduler releases the agent when it sees finished_msg
      start_attempt(self, msg);
    },
    [=](deliver_atom, uint32_t attempt, bool timed_out) {
      // A held-back result is due (or the timeout came first).
      auto& s = self->state;
      if (!s.running || s.task->attempts != attempt || !s.held)
        return;
      auto res = std::move(*s.held);
      s.held.reset();
      if (timed_out)
        on_run_error(self, caf::sec::request_timeout, s.timeout_ms);
      else
        on_outcome(self, res);
    },
    [=](agent_lost_atom, const std::string& agent_id) {
      auto& s = self->state;
      if (s.running && s.agent && s.agent_id == agent_id)
        on_run_error(self, caf::sec::request_receiver_down, 0);
    },
    [=](retry_atom) {
      if (!is_terminal(self->state.task->status))
        request_agent(self);
    },
    [=](task_cancel_msg& msg) {
      auto& s = self->state;
      if (is_terminal(s.task->status)) {
        msg.reply(make_error(errc::illegal_state, "task is already "
                                                     + std::string{to_string(s.task->status)}));
        return;
      }
      s.task->error = "cancelled by request";
      transition(self, task_status::cancelled, "cancelled by request");
      msg.reply(*s.task);
      if (s.running && s.held) {
        // Only waiting out a held-back result: the agent is free already.
        s.held.reset();
        release_agent(self, false, false);
        finish(self, task_status::cancelled);
        return;
      }
      if (s.running) {
        // The agent drops the run and answers at once; the actor stays until that answer so
        // the agent's capacity is released exactly once.
        s.cancelled_while_running = true;
        if (s.agent)
          self->send(s.agent, cancel_run_atom::value, s.task->id);
        return;
      }
      finish(self, task_status::cancelled);
    },
  };
}

} // namespace

caf::actor spawn_task_actor(caf::local_actor* parent, context_ptr ctx, caf::actor scheduler,
                            task_ptr task, std::optional<assign_msg> first) {
  return parent->spawn(task_behavior, std::move(ctx), std::move(scheduler), std::move(task),
                       std::move(first));
}

} // namespace hive::actors
