// The store interface: durable agents, tasks and task events behind one API (SQLite,
// PostgreSQL, memory).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.hpp"
#include "runtime/model.hpp"

namespace hive::persistence {

/// Everything one transaction applies. Task and agent rows are upserts (insert or replace by id).
struct write_batch {
  std::vector<task_record> tasks;
  std::vector<task_event> events;
  std::vector<agent_record> agents;
  std::vector<std::string> deleted_agents;

  bool empty() const noexcept {
    return tasks.empty() && events.empty() && agents.empty() && deleted_agents.empty();
  }
  size_t size() const noexcept {
    return tasks.size() + events.size() + agents.size() + deleted_agents.size();
  }
};

/// Filters of GET /api/tasks. Results are ordered by id (= creation order), oldest first.
struct task_filter {
  std::optional<task_status> status;
  std::optional<std::string> type;
  std::optional<std::string> agent_id;
  std::optional<std::string> capability; ///< tasks that require this capability
  std::string after_id;                  ///< cursor: only ids greater than this
  size_t limit = 100;
};

using task_counts = std::array<uint64_t, task_status_count>;

/// Unfinished tasks a node took over from nodes whose lease ran out (cluster mode).
struct orphan_claim {
  std::vector<task_record> tasks;      ///< now owned by this node, oldest first
  std::vector<std::string> from_nodes; ///< the nodes whose leases had expired
};

/// A named document the store keeps for other parts of Hive: trained networks, datasets, the
/// routing model's experience. `kind` groups them ("model", "dataset", ...); (kind, name) is
/// the key.
struct stored_object {
  std::string kind;
  std::string name;
  std::string body;   ///< the document itself (text: JSON, or a network's own format)
  std::string meta;   ///< a small JSON object about it, returned by listings
  int64_t updated_at = 0; ///< ms since the epoch
};

/// A durable store. `apply` is called by at most `concurrent_writers()` threads at a time;
/// every read is thread-safe and may run concurrently with `apply`. Every function reports failure as an error value with
/// code `store_unavailable` (the database went away, the disk is full) or `internal`.
class store {
public:
  virtual ~store() = default;

  /// The implementation's registry name ("sqlite", "postgres", "memory").
  virtual std::string_view name() const noexcept = 0;

  /// Applies the whole batch in one transaction: all of it is durable afterwards, or none.
  virtual result<unit_t> apply(const write_batch& batch) = 0;

  virtual result<std::optional<task_record>> find_task(std::string_view id) = 0;
  virtual result<std::optional<task_record>> find_task_by_key(std::string_view idempotency_key) = 0;
  virtual result<std::vector<task_record>> list_tasks(const task_filter& filter) = 0;
  /// Every event of one task, oldest first.
  virtual result<std::vector<task_event>> task_events(std::string_view task_id) = 0;
  /// Tasks in status pending, queued or running (restart recovery), oldest first.
  virtual result<std::vector<task_record>> unfinished_tasks() = 0;
  /// (id, idempotency_key) of every task that has a key, to rebuild the key index at start.
  virtual result<std::vector<std::pair<std::string, std::string>>> idempotency_keys() = 0;
  virtual result<task_counts> count_tasks() = 0;
  virtual result<std::vector<agent_record>> load_agents() = 0;

  /// Inserts or replaces one object, in a transaction of its own. Objects are written rarely
  /// and may be large: they bypass group commit, and these calls block (call them from the
  /// blocking pool or a start-up path, never from an actor).
  virtual result<unit_t> put_object(const stored_object& object) = 0;
  /// Whether there was such an object to delete.
  virtual result<bool> delete_object(std::string_view kind, std::string_view name) = 0;
  virtual result<std::optional<stored_object>> find_object(std::string_view kind,
                                                           std::string_view name) = 0;
  /// Every object of a kind, ordered by name, without bodies.
  virtual result<std::vector<stored_object>> list_objects(std::string_view kind) = 0;

  /// Cheap liveness check for /ready.
  virtual result<unit_t> ping() = 0;

  // -- cluster mode (PostgreSQL opened with a node id; other stores refuse) ----------------
  //
  // Every task row belongs to the node that admitted it (its owner runs the task's actor and
  // is the only writer of its state: another node's writes to it are ignored); unfinished_tasks() and load_agents() then answer only
  // this node's tasks and agents. Each node holds a lease it renews; once a node's lease has
  // expired, claim_orphans() moves its unfinished tasks to the caller in one transaction, so
  // each is taken over by exactly one node.

  /// Extends this node's lease to `ttl_ms` from now (the database's clock); answers whether
  /// the lease was still valid (false: it had run out, or this node had none yet). Blocks.
  virtual result<bool> renew_lease(uint32_t ttl_ms);
  /// Ends this node's lease now (a clean stop: the others need not wait for it). Blocks.
  virtual result<bool> release_lease() { return renew_lease(0); }
  /// Takes over the unfinished tasks of every node whose lease expired, but those in `alive`
  /// (nodes the caller still hears from: after a database outage every lease has expired, yet
  /// their nodes still run their tasks). Blocks.
  virtual result<orphan_claim> claim_orphans(const std::vector<std::string>& alive);
  /// Makes this node the owner of a finished (failed, dead or cancelled) task before it is
  /// retried here; false when the task is not finished (any more). Other stores: true. Blocks.
  virtual result<bool> take_finished_task(std::string_view id);

  /// How many transactions `apply` may usefully run at once (one group-commit lane each);
  /// `apply` must then be safe to call from that many threads.
  virtual size_t concurrent_writers() const noexcept { return 1; }
};

/// How to open a store; the defaults are those of the settings table.
struct store_options {
  std::string url;                    ///< sqlite://PATH, postgresql://..., memory://
  std::string synchronous = "normal"; ///< SQLite: normal or full
  size_t cache_kib = 4096;            ///< SQLite: the writer's page cache
  // PostgreSQL: the connection pool.
  uint32_t max_connections = 20;
  uint32_t min_connections = 5;
  uint32_t connection_timeout_secs = 30;
  uint32_t statement_timeout_secs = 60;
  uint32_t pool_recycle_secs = 3600;
  /// Cluster mode: this node's id (PostgreSQL only; see store::renew_lease).
  std::string node_id;
};

/// Opens the store named by the database URL (`sqlite://PATH`, `postgresql://...`,
/// `memory://`), creating the SQLite file and running migrations as needed. Called once at
/// start. A PostgreSQL server that cannot be reached is an error (store_unavailable).
result<std::unique_ptr<store>> open_store(const store_options& opts);

/// The same with the defaults but for URL and synchronous mode (tests).
result<std::unique_ptr<store>> open_store(std::string_view url, std::string_view synchronous,
                                          size_t cache_kib = 4096);

} // namespace hive::persistence
