// Agent actor: executes tasks and answers each run request with its execution_result.
#include "actors/agent_actor.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace hive::actors {
namespace {

/// Kept small: a hive may hold 100,000 idle agents.
/// A run whose answer is not delivered yet (waiting for a delay or the blocking pool).
struct deferred_run {
  caf::response_promise rp;
  execution_result res;
  std::string task_id;
};

struct agent_actor_state {
  using deferred_map = std::unordered_map<uint64_t, deferred_run>;
  context_ptr ctx;
  uint64_t next_ticket = 0;
  /// Answers waiting for a delay or the blocking pool, by ticket (made on first use).
  std::unique_ptr<deferred_map> deferred;

  deferred_map& pending() {
    if (!deferred)
      deferred = std::make_unique<deferred_map>();
    return *deferred;
  }

  static inline const char* name = "hive.agent";
};

using agent_actor = caf::stateful_actor<agent_actor_state>;

/// Delivers `res` now, or after its ready_after_ms delay.
void answer(agent_actor* self, caf::response_promise rp, execution_result res,
            const std::string& task_id) {
  if (res.ready_after_ms == 0) {
    rp.deliver(std::move(res));
    return;
  }
  auto ticket = self->state.next_ticket++;
  auto delay = std::chrono::milliseconds{res.ready_after_ms};
  self->state.pending().emplace(ticket, deferred_run{std::move(rp), std::move(res), task_id});
  self->delayed_send(self, delay, deliver_atom::value, ticket);
}

caf::behavior agent_behavior(agent_actor* self, context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  return {
    [=](run_atom, task_ptr task) {
      auto rp = self->make_response_promise();
      const auto* exec = self->state.ctx->executors->find(task->type);
      if (exec == nullptr) {
        rp.deliver(execution_result::failure("no executor for task type '" + task->type + "'",
                                             false));
        return;
      }
      if (exec->mode(*task) == execution_mode::inline_call) {
        answer(self, std::move(rp), exec->run(*task), task->id);
        return;
      }
      // Blocking work: run on the pool, come back to this actor with the result.
      auto ticket = self->state.next_ticket++;
      self->state.pending().emplace(ticket, deferred_run{std::move(rp), {}, task->id});
      caf::actor me = caf::actor_cast<caf::actor>(self);
      bool posted = self->state.ctx->blocking->post([me, exec, task, ticket] {
        execution_result res;
        try {
          res = exec->run(*task);
        } catch (const std::exception& e) {
          res = execution_result::failure(std::string{"executor threw: "} + e.what(), true);
        }
        caf::anon_send(me, deliver_atom::value, ticket, std::move(res));
      });
      if (!posted) {
        auto node = self->state.pending().extract(ticket);
        node.mapped().rp.deliver(execution_result::failure("server is stopping", true));
      }
    },
    [=](deliver_atom, uint64_t ticket, execution_result& res) {
      // A blocking run finished: deliver now or after its delay.
      auto& pending = self->state.pending();
      auto i = pending.find(ticket);
      if (i == pending.end())
        return;
      auto run = std::move(i->second);
      pending.erase(i);
      answer(self, std::move(run.rp), std::move(res), run.task_id);
    },
    [=](deliver_atom, uint64_t ticket) {
      // A delay elapsed.
      auto& pending = self->state.pending();
      auto i = pending.find(ticket);
      if (i == pending.end())
        return;
      auto run = std::move(i->second);
      pending.erase(i);
      run.res.ready_after_ms = 0;
      run.rp.deliver(std::move(run.res));
    },
    [=](cancel_run_atom, const std::string& task_id) {
      // The task was cancelled or timed out: stop waiting for its result. (Work already on the
      // blocking pool runs to its end; its result is dropped.)
      auto& pending = self->state.pending();
      for (auto i = pending.begin(); i != pending.end(); ++i) {
        if (i->second.task_id == task_id) {
          i->second.rp.deliver(execution_result::failure("cancelled", false));
          pending.erase(i);
          return;
        }
      }
    },
  };
}

} // namespace

caf::actor spawn_agent_actor(caf::local_actor* parent, context_ptr ctx) {
  return parent->spawn(agent_behavior, std::move(ctx));
}

} // namespace hive::actors
