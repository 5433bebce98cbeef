// The core's actor protocol: every message the scheduler, task and agent actors exchange.
//
// All of these are local messages (they carry callbacks and shared pointers), allowed through
// CAF_ALLOW_UNSAFE_MESSAGE_TYPE. Messages that cross nodes are in wire.hpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "actors/engine.hpp"
#include "actors/executor.hpp"
#include "actors/wire.hpp" // execution_result crosses nodes: its inspect() must be seen here

namespace hive::actors {

/// A task's record, owned by its task actor. The spec fields (type, priority, requirements,
/// payload) never change after admission, so the scheduler may read them through this
/// pointer; the life fields are written only by the task actor.
using task_ptr = std::shared_ptr<task_record>;

// -- engine -> scheduler ------------------------------------------------------

struct submit_msg {
  std::vector<task_record> specs;
  bool batch = false; ///< name fields as tasks[i].x in errors
  callback<std::vector<submit_outcome>> reply;
  /// Cluster mode: the stored tasks that hold some of the specs' keys (admitted by other
  /// nodes, or by this one in a commit that was in doubt): these submissions are replays.
  std::vector<task_record> stored_keys;
};
struct cancel_msg {
  std::string id;
  callback<task_record> reply;
};
/// `stored` is the task's record as the engine read it from the store.
struct retry_msg {
  std::string id;
  task_record stored;
  callback<task_record> reply;
};
struct agent_create_msg {
  agent_record spec;
  callback<agent_record> reply;
};
struct agent_get_msg {
  std::string id;
  callback<agent_record> reply;
};
struct agent_list_msg {
  agent_query query;
  callback<std::vector<agent_record>> reply;
};
struct agent_update_msg {
  std::string id;
  agent_patch patch;
  callback<agent_record> reply;
};
struct agent_delete_msg {
  std::string id;
  callback<unit_t> reply;
};
struct status_msg {
  callback<hive_status> reply;
};
/// Stop dispatching; `reply` once nothing runs or `deadline` passed.
struct drain_msg {
  timestamp_ms deadline;
  callback<unit_t> reply;
};

// -- write-behind -> scheduler --------------------------------------------------

/// The transaction holding newly admitted tasks finished (ok or not). `outcomes` are the
/// answers prepared at submission (copies), `fresh` the tasks to start once committed.
struct admitted_msg {
  std::vector<submit_outcome> outcomes;
  std::vector<task_ptr> fresh;
  result<unit_t> commit = unit;
  callback<std::vector<submit_outcome>> reply;
  /// A failed single-task commit whose idempotency key the store already holds: the task of
  /// an earlier submission whose commit was in doubt (it committed as the connection dropped).
  /// The scheduler adopts it and answers with it.
  std::optional<task_record> stored_original;
};

// -- task actor <-> scheduler ---------------------------------------------------

/// The task needs an agent (first attempt or a retry).
struct ready_msg {
  task_ptr task;
  caf::actor handle;
};
/// The scheduler picked `agent` for the task.
struct assign_msg {
  std::string agent_id;
  caf::actor agent;
  execution_context_ptr context; ///< handed to the executor with the run
};
/// The attempt on `agent_id` is over. `counted`: it says something about the agent (not a
/// cancellation).
struct release_msg {
  std::string task_id;
  std::string agent_id;
  bool success;
  double latency_ms;
  bool counted;
  caf::actor lost_agent; ///< set when the agent's actor died under the attempt
};
/// The task reached a terminal state; its actor is gone.
struct finished_msg {
  std::string task_id;
  task_status status;
};
/// The status of a finished dependency, read from the store on the read pool.
/// Asked by an agent for a script that awaits a task: answered with the task's final record
/// once it is terminal (at once if it already is).
struct watch_task_msg {
  std::string task_id;
  callback<task_record> reply;
};
/// A resumable run paused for the first time: its agent's slot is free for other work.
struct lend_slot_msg {
  std::string agent_id;
  std::string task_id;
};
/// The answer to a resumable run's request, back on its agent (see executor.hpp).
struct resume_msg {
  uint64_t ticket;
  result<task_record> answer;
};
struct dep_status_msg {
  std::string task_id;
  task_status status;
};
/// Asked by a pending task for one dependency; answered (with a task_status) once that task
/// is terminal.
using await_dep_atom = caf::atom_constant<caf::atom("await_dep")>;

// -- cluster node -> scheduler (cluster mode) ------------------------------------------

/// A node joined or came back: the handle of its scheduler, which gets this node's agents.
struct peer_up_msg {
  std::string node_id;
  caf::actor scheduler;
};
/// A node was lost: its agents are offline here until it is back.
struct peer_down_msg {
  std::string node_id;
};
/// Unfinished tasks this node took over from lost nodes (store::claim_orphans).
struct adopt_msg {
  std::vector<task_record> tasks;
};

// -- agent actor -> its scheduler -------------------------------------------------------

/// A run asked by another node started (or ended) on one of this node's agents: the agent's
/// load counts it, so every node sees how busy the agent is.
struct remote_load_msg {
  std::string agent_id;
  bool started = true;
  bool success = false;
  double latency_ms = 0;
};

// -- scheduler -> task actor ----------------------------------------------------

/// Cancel the task; `reply` with its record afterwards.
struct task_cancel_msg {
  callback<task_record> reply;
};

// -- task actor -> agent actor --------------------------------------------------

/// Request: run the task, answer an execution_result.
using run_atom = caf::atom_constant<caf::atom("run")>;
/// Scheduler -> task actor: the node of the agent running this attempt is lost (the agent's
/// id follows); treat the agent as gone even if no down message comes (a silent partition).
using agent_lost_atom = caf::atom_constant<caf::atom("agentlost")>;
/// Task actor -> agent: drop the pending run of this task id (cancelled or timed out).
using cancel_run_atom = caf::atom_constant<caf::atom("cancel_run")>;
/// Internal: a blocking run finished (agent), a held-back result is due (task).
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
/// Internal to the task: the retry backoff elapsed.
using retry_atom = caf::atom_constant<caf::atom("retry")>;
/// Engine -> scheduler: stop every agent and task actor, then quit.
using stop_atom = caf::atom_constant<caf::atom("stop")>;
/// Internal to the scheduler: a dependency of another node is not finished; read it again.
using dep_recheck_atom = caf::atom_constant<caf::atom("deprechk")>;
/// Internal to the scheduler: time to write changed agents / check the drain.
using tick_atom = caf::atom_constant<caf::atom("tick")>;

} // namespace hive::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::task_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::execution_context_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::submit_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::cancel_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::retry_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::agent_create_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::agent_get_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::agent_list_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::agent_update_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::agent_delete_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::status_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::drain_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::admitted_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::ready_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::assign_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::release_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::finished_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::task_cancel_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::dep_status_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::watch_task_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::resume_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::lend_slot_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::peer_up_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::peer_down_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::adopt_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::remote_load_msg)
