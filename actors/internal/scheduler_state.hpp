// The scheduler actor's state and the handlers it is split into (scheduler*.cpp): internal.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/agent_directory.hpp"
#include "actors/dispatch_queue.hpp"
#include "actors/internal/context.hpp"
#include "actors/messages.hpp"
#include "actors/scheduler.hpp"
#include "actors/wire.hpp"

namespace hive::actors::internal {

/// A task admitted and not yet terminal.
struct live_task {
  task_ptr task;
  caf::actor handle;          ///< empty while the task is dormant (no actor yet)
  task_status status;         ///< as far as the scheduler knows
  std::string cls;            ///< requirement class (see dispatch_queue)
  bool in_ready = false;      ///< waiting in the dispatch queue
  bool in_backlog = false;    ///< pending on dependencies, waiting for an actor slot
  std::string assigned_agent; ///< assigned and not yet released
  bool slot_lent = false;     ///< its paused script gave the agent's slot back (lend_slot_msg)
  std::vector<caf::response_promise> dep_waiters;
  std::vector<callback<task_record>> watchers; ///< watch_task_msg: told the final record
};

/// A task waiting for an agent. Without a handle it is dormant: its actor is spawned only
/// when an agent is assigned (the bound on live task actors was reached when it arrived).
struct ready_entry {
  task_ptr task;
  caf::actor handle;
};

/// Carries an answer computed off the scheduler (after a store commit) back onto it, to be
/// delivered to a request from another node.
struct deliver_reply_msg {
  caf::response_promise rp;
  remote_reply reply;
};

/// Cluster mode: another node, as this scheduler knows it.
struct peer {
  caf::actor scheduler; ///< its scheduler actor (a proxy)
  bool online = false;
};

struct scheduler_state {
  context_ptr ctx;
  agent_directory agents;
  dispatch_queue<ready_entry> ready{5000};
  std::unordered_map<std::string, live_task> live;
  /// Tasks with dependencies that arrived while at the actor bound: they need an actor to wait.
  std::deque<task_ptr> backlog;
  size_t live_actors = 0;
  size_t admitting = 0; ///< submitted tasks whose commit is pending
  size_t running = 0;
  persistence::task_counts counts{}; ///< terminal counts from the store + live tracking
  std::unordered_map<std::string, std::string> keys;        ///< idempotency key -> task id
  std::unordered_map<std::string, task_record> pending_keys; ///< key -> task being committed
  /// key -> id of a task whose commit failed and may have gone through nonetheless
  std::unordered_map<std::string, std::string> in_doubt;
  std::unordered_set<std::string> dirty_agents;
  // Cluster mode: the other nodes, and this node's agents changed since the others were told.
  std::map<std::string, peer> peers;
  std::unordered_set<std::string> sync_changed;
  std::vector<std::string> sync_removed;
  /// Dependencies (not live) whose status is being read from the store, with their askers.
  std::unordered_map<std::string, std::vector<caf::response_promise>> dep_lookups;
  uint64_t agent_restarts = 0;
  uint64_t activity = 0;         ///< counts messages that changed something
  uint64_t activity_seen = 0;    ///< at the previous tick
  uint64_t activity_trimmed = 0; ///< when memory was last given back
  timestamp_ms started_at = 0;
  bool draining = false;
  timestamp_ms drain_deadline = 0;
  callback<unit_t> drain_reply;

  static inline const char* name = "hive.scheduler";
};

using scheduler_actor = caf::stateful_actor<scheduler_state>;

// -- scheduler.cpp ----------------------------------------------------------------

/// Moves a live task to another status, keeping the per-status counts.
void set_status(scheduler_state& st, live_task& lt, task_status to);
/// Reads a dependency's status from the store (read pool); answered with a dep_status_msg.
void look_up_dependency(scheduler_actor* self, const std::string& dep);
/// Answers a pending drain request once nothing runs (or its deadline passed).
void check_drain(scheduler_actor* self);

// -- scheduler_tasks.cpp: admission, routing, the end of a task ----------------------

void enqueue_ready(scheduler_actor* self, live_task& lt, caf::actor handle);
void materialize(scheduler_actor* self, task_ptr task);
void drain_backlog(scheduler_actor* self);
void dispatch(scheduler_actor* self);
void retire(scheduler_actor* self, const std::string& task_id, task_status status,
            bool had_actor);
void on_submit(scheduler_actor* self, submit_msg& msg);
void on_admitted(scheduler_actor* self, admitted_msg& msg);
void on_retry(scheduler_actor* self, retry_msg& msg);
void on_cancel(scheduler_actor* self, cancel_msg& msg);
/// A script awaits a task: tell it the task's final record once it is terminal.
void on_watch_task(scheduler_actor* self, watch_task_msg& msg);

// -- scheduler_agents.cpp: the directory and the supervision of agent actors ----------

void spawn_agent(scheduler_actor* self, agent_entry& entry);
void release_agent(scheduler_state& st, const std::string& agent_id, bool frees_slot, bool success,
                   double latency_ms, bool counted);
void flush_agents(scheduler_state& st);
void on_agent_create(scheduler_actor* self, agent_create_msg& msg);
void on_agent_update(scheduler_actor* self, agent_update_msg& msg);
void on_agent_delete(scheduler_actor* self, agent_delete_msg& msg);
void on_agent_list(scheduler_actor* self, agent_list_msg& msg);
void on_agent_down(scheduler_actor* self, caf::down_msg& dm);

// -- scheduler_cluster.cpp: other nodes' agents, placement, tasks taken over -----------------

/// Notes that a local agent changed (or went: `removed`) for the next sync with the others.
void note_agent_change(scheduler_state& st, const std::string& agent_id, bool removed = false);
/// Sends the agents changed since the last call to every online node (at each tick).
void sync_agents(scheduler_actor* self);
void on_peer_up(scheduler_actor* self, peer_up_msg& msg);
void on_peer_down(scheduler_actor* self, peer_down_msg& msg);
/// `full`: `changed` is every agent of the node; `answer`: send this node's whole list back.
void on_agents_sync(scheduler_actor* self, const std::string& node_id,
                    std::vector<remote_agent>& changed, const std::vector<std::string>& removed,
                    bool full, bool answer);
/// A clean stop begins: the others stop sending work to this node's agents.
void leave_peers(scheduler_actor* self);
void on_adopt(scheduler_actor* self, adopt_msg& msg);
void on_remote_load(scheduler_actor* self, remote_load_msg& msg);
/// Another node placed an agent here: create it, answer when it is stored.
caf::result<remote_reply> on_remote_create(scheduler_actor* self, agent_record& spec);
caf::result<remote_reply> on_remote_update(scheduler_actor* self, std::string& id,
                                           wire_patch& patch);
caf::result<remote_reply> on_remote_delete(scheduler_actor* self, std::string& id);
/// A change of an agent that lives on another node goes to that node: true when sent.
bool forward_to_home(scheduler_actor* self, agent_update_msg& msg);
bool forward_to_home(scheduler_actor* self, agent_delete_msg& msg);
/// Cancel of a task this node does not run: asks the online nodes (one of them owns it);
/// false when there are none. The first that had it answers; else not_found.
bool ask_peers_to_cancel(scheduler_actor* self, cancel_msg& msg);
/// Another node asks to cancel a task: answered with the cancelled task, or not_found.
caf::result<remote_reply> on_remote_cancel(scheduler_actor* self, std::string& id);
/// Placement of a new agent: true when `msg` was handed to another node (it answers).
bool place_elsewhere(scheduler_actor* self, agent_create_msg& msg);
/// Starts an unfinished task read from the store (recovery, a lost node's task).
void resume_stored_task(scheduler_actor* self, task_record stored, const char* why);

} // namespace hive::actors::internal

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hive::actors::internal::deliver_reply_msg)
