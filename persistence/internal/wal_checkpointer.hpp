// Background WAL checkpoints for the SQLite store, so that commits do not pay for them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "persistence/internal/sqlite_connection.hpp"

namespace hive::persistence::internal {

/// WAL size, in pages, after which a commit asks for a checkpoint (SQLite's own default).
inline constexpr int wal_checkpoint_pages = 1000;

/// Replaces SQLite's automatic checkpoint, which runs inside the COMMIT of the writer, with a
/// passive checkpoint on a thread and connection of its own. Readers and the writer go on
/// while it copies; a checkpoint that cannot finish (readers on old pages) is retried after
/// the next large commit.
class wal_checkpointer {
public:
  /// Opens its connection to `path` and hooks the commits of `writer`, which must outlive
  /// this object and must not be in use during start or destruction.
  static result<std::unique_ptr<wal_checkpointer>> start(const std::string& path,
                                                         sqlite_connection& writer);

  /// Unhooks the writer and joins the thread. The writer's close checkpoints what is left.
  ~wal_checkpointer();

  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  /// Checkpoints run so far (thread-safe; for tests and metrics).
  uint64_t completed() const noexcept { return completed_.load(); }

private:
  wal_checkpointer(std::unique_ptr<sqlite_connection> conn, sqlite_connection& writer);

  /// sqlite3_wal_hook callback: runs on the writer's thread after each commit.
  static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
  void run();

  std::unique_ptr<sqlite_connection> conn_; ///< used by the thread only
  sqlite_connection& writer_;
  std::mutex mtx_;
  std::condition_variable wake_;
  bool due_ = false;      ///< guarded by mtx_
  bool stopping_ = false; ///< guarded by mtx_
  std::atomic<uint64_t> completed_{0};
  std::thread thread_;
};

} // namespace hive::persistence::internal
