// The SQLite store: one file in WAL mode, a writer connection for apply and pooled readers.
#pragma once

#include <rapidjson/stringbuffer.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "persistence/internal/migrations.hpp"
#include "persistence/internal/sqlite_connection.hpp"
#include "persistence/internal/wal_checkpointer.hpp"
#include "persistence/store.hpp"

namespace hive::persistence::internal {

/// How long a connection waits for a lock held by another connection before failing.
inline constexpr int sqlite_busy_timeout_ms = 5000;

/// Most idle read connections kept open; more are closed when handed back.
inline constexpr size_t sqlite_max_idle_readers = 8;

/// Rows per multi-row statement in `apply`: each step of a statement costs about as much as
/// writing a row, so large batches go in chunks of this many rows (the rest one by one).
inline constexpr size_t sqlite_task_rows_per_statement = 32;
inline constexpr size_t sqlite_event_rows_per_statement = 64;

/// The store behind `sqlite://PATH`. `apply` uses the writer connection (serialised by a
/// mutex); each read borrows a read connection from a pool, so reads run concurrently with
/// each other and, thanks to WAL, with a transaction in progress. WAL checkpoints run on a
/// thread of their own (see wal_checkpointer).
class sqlite_store final : public store {
public:
  /// Creates the parent directories and the file as needed, switches to WAL, sets
  /// `synchronous` (FULL when `full_sync`, else NORMAL), gives the writer a page cache of
  /// `cache_kib` KiB and applies pending migrations.
  static result<std::unique_ptr<sqlite_store>> open(const std::string& path, bool full_sync,
                                                    size_t cache_kib = 4096);

  ~sqlite_store() override;

  std::string_view name() const noexcept override { return "sqlite"; }
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
  result<unit_t> put_object(const stored_object& object) override;
  result<bool> delete_object(std::string_view kind, std::string_view name) override;
  result<std::optional<stored_object>> find_object(std::string_view kind,
                                                   std::string_view name) override;
  result<std::vector<stored_object>> list_objects(std::string_view kind) override;

  /// The rows of schema_migrations (for tests and diagnostics).
  result<std::vector<applied_migration>> applied_migrations();

  /// Background WAL checkpoints completed so far (for tests and metrics).
  uint64_t wal_checkpoints() const noexcept { return checkpointer_->completed(); }

private:
  struct reader_return {
    sqlite_store* owner;
    void operator()(sqlite_connection* conn) const;
  };
  using reader = std::unique_ptr<sqlite_connection, reader_return>;

  /// The writer's statements, prepared at open; owned by the writer connection's cache.
  struct write_statements {
    sqlite3_stmt* quick_upsert_task_chunk = nullptr; ///< sqlite_task_rows_per_statement rows
    sqlite3_stmt* quick_upsert_task = nullptr;       ///< one row
    sqlite3_stmt* upsert_task_chunk = nullptr;       ///< sqlite_task_rows_per_statement rows
    sqlite3_stmt* upsert_task = nullptr;             ///< one row
    sqlite3_stmt* insert_event_chunk = nullptr; ///< sqlite_event_rows_per_statement rows
    sqlite3_stmt* insert_event = nullptr;       ///< one row
    sqlite3_stmt* upsert_agent = nullptr;
    sqlite3_stmt* delete_agent = nullptr;
  };

  sqlite_store(std::string path, std::unique_ptr<sqlite_connection> writer,
               write_statements statements, std::unique_ptr<wal_checkpointer> checkpointer);

  result<reader> acquire_reader();
  void release_reader(sqlite_connection* conn);

  result<unit_t> write_all(const write_batch& batch);
  result<unit_t> upsert_tasks(const std::vector<task_record>& tasks);
  result<unit_t> upsert_task_rows(const task_record* first, size_t rows, sqlite3_stmt* quick,
                                  sqlite3_stmt* full);
  /// Binds `rows` tasks to `stmt` and steps it once; returns SQLite's code.
  int step_task_rows(sqlite3_stmt* stmt, const task_record* first, size_t rows);
  result<unit_t> insert_events(const std::vector<task_event>& events);
  result<unit_t> upsert_agent(const agent_record& agent);
  result<unit_t> delete_agent(const std::string& id);

  std::string path_;

  std::mutex writer_mtx_;
  std::unique_ptr<sqlite_connection> writer_; ///< guarded by writer_mtx_
  write_statements write_;                    ///< guarded by writer_mtx_
  /// JSON texts of one statement's rows while it runs, guarded by writer_mtx_.
  std::vector<rapidjson::StringBuffer> json_;
  std::unique_ptr<wal_checkpointer> checkpointer_; ///< hooked to writer_

  std::mutex readers_mtx_;
  std::vector<std::unique_ptr<sqlite_connection>> idle_readers_; ///< guarded by readers_mtx_
};

} // namespace hive::persistence::internal
