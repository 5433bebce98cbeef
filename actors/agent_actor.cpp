// Agent actor: executes tasks and answers each run request with its execution_result.
#include "actors/agent_actor.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace hive::actors {
namespace {

/// A run on the blocking pool whose answer is not delivered yet.
struct pool_run {
  caf::response_promise rp;
  std::string task_id;
};

/// Kept small: a hive may hold 100,000 idle agents. The agent never sends itself delayed
/// messages (a pending one would keep the actor alive), so an idle agent ends as soon as the
/// scheduler drops its handle.
struct agent_actor_state {
  using pool_map = std::unordered_map<uint64_t, pool_run>;
  context_ptr ctx;
  uint64_t next_ticket = 0;
  /// Runs on the blocking pool, by ticket (made on first use).
  std::unique_ptr<pool_map> on_pool;

  pool_map& pool_runs() {
    if (!on_pool)
      on_pool = std::make_unique<pool_map>();
    return *on_pool;
  }

  static inline const char* name = "hive.agent";
};

using agent_actor = caf::stateful_actor<agent_actor_state>;

caf::behavior agent_behavior(agent_actor* self, context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  return {
    [=](run_atom, task_ptr task, execution_context_ptr on) -> caf::result<execution_result> {
      auto exec = self->state.ctx->executors->find(task->type);
      if (exec == nullptr)
        return execution_result::failure("no executor for task type '" + task->type + "'",
                                         false);
      // Cheap work runs right here (an exception escaping it crashes this actor on purpose:
      // the supervisor restarts it). A result with ready_after_ms is held back by the task.
      static const auto nobody = std::make_shared<const execution_context>();
      if (!on)
        on = nobody;
      if (exec->mode(*task) == execution_mode::inline_call)
        return exec->run(*task, *on);
      // Blocking work: run on the pool, come back to this actor with the result.
      auto ticket = self->state.next_ticket++;
      auto rp = self->make_response_promise();
      self->state.pool_runs().emplace(ticket, pool_run{rp, task->id});
      caf::actor me = caf::actor_cast<caf::actor>(self);
      bool posted = self->state.ctx->blocking->post([me, exec, task, on, ticket] {
        execution_result res;
        try {
          res = exec->run(*task, *on);
        } catch (const std::exception& e) {
          res = execution_result::failure(std::string{"executor threw: "} + e.what(), true);
        }
        caf::anon_send(me, deliver_atom::value, ticket, std::move(res));
      });
      if (!posted) {
        self->state.pool_runs().erase(ticket);
        return execution_result::failure("server is stopping", true);
      }
      return rp;
    },
    [=](deliver_atom, uint64_t ticket, execution_result& res) {
      auto& runs = self->state.pool_runs();
      auto i = runs.find(ticket);
      if (i == runs.end())
        return; // cancelled meanwhile
      auto rp = std::move(i->second.rp);
      runs.erase(i);
      rp.deliver(std::move(res));
    },
    [=](cancel_run_atom, const std::string& task_id) {
      // The task was cancelled or timed out: answer now. (Work already on the pool runs to its
      // end; its result is dropped.)
      auto& runs = self->state.pool_runs();
      for (auto i = runs.begin(); i != runs.end(); ++i) {
        if (i->second.task_id == task_id) {
          i->second.rp.deliver(execution_result::failure("cancelled", false));
          runs.erase(i);
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
