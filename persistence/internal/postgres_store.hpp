// The PostgreSQL store: pooled connections for reads, group commit through COPY for writes.
#pragma once

#include <memory>
#include <string>

#include "persistence/internal/pg_pool.hpp"
#include "persistence/store.hpp"

namespace hive::persistence::internal {

/// The store behind `postgresql://...`. `apply` copies a batch's tasks into a temporary table
/// and upserts the last version of each task from it in one statement, copies the events
/// straight into task_events, and upserts agents, all in one transaction. Reads run on pooled
/// connections, concurrently with each other and with `apply`. A connection that breaks is
/// replaced on the next call, so the store reconnects by itself after an outage.
class postgres_store final : public store {
public:
  /// Connects (min_connections of the pool) and applies pending migrations under an advisory
  /// lock, so that several nodes starting at once migrate once.
  /// With a `node_id` (cluster mode) the store keeps task owners and node leases (see
  /// store::renew_lease).
  static result<std::unique_ptr<postgres_store>> open(pg_pool_options opts,
                                                      std::string node_id = {});

  ~postgres_store() override;

  std::string_view name() const noexcept override { return "postgres"; }
  result<unit_t> apply(const write_batch& batch) override;
  result<std::optional<task_record>> find_task(std::string_view id) override;
  result<std::optional<task_record>> find_task_by_key(std::string_view idempotency_key) override;
  result<std::vector<task_record>> list_tasks(const task_filter& filter) override;
  result<std::vector<task_event>> task_events(std::string_view task_id) override;
  result<std::vector<task_record>> unfinished_tasks() override;
  result<std::vector<std::pair<std::string, std::string>>> idempotency_keys() override;
  result<task_counts> count_tasks() override;
  result<std::vector<agent_record>> load_agents() override;
  result<unit_t> ping() override;
  result<bool> renew_lease(uint32_t ttl_ms) override;
  result<orphan_claim> claim_orphans(const std::vector<std::string>& alive) override;
  result<bool> take_finished_task(std::string_view id) override;
  result<unit_t> put_object(const stored_object& object) override;
  result<bool> delete_object(std::string_view kind, std::string_view name) override;
  result<std::optional<stored_object>> find_object(std::string_view kind,
                                                   std::string_view name) override;
  result<std::vector<stored_object>> list_objects(std::string_view kind) override;
  /// An eighth of the pool (1 to 4; 2 with the default 20): each lane holds a connection while
  /// it commits. More lanes pay off when PostgreSQL is across a network (each commit waits a
  /// round trip); on a machine shared with the database, one or two do as well as more.
  size_t concurrent_writers() const noexcept override;

  /// The schema version in the database (tests and diagnostics).
  result<int> schema_version();
  pg_pool& pool() noexcept { return *pool_; }

  /// Deletes every row (tests of the PostgreSQL store share one database).
  result<unit_t> truncate_all();

private:
  postgres_store(std::unique_ptr<pg_pool> pool, std::string node_id);

  std::unique_ptr<pg_pool> pool_;
  std::string node_id_; ///< empty outside cluster mode
};

} // namespace hive::persistence::internal
