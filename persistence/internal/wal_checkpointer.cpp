// The checkpoint thread of the SQLite store, woken by the writer's commit hook.
#include "persistence/internal/wal_checkpointer.hpp"

#include "runtime/log.hpp"

namespace hive::persistence::internal {

result<std::unique_ptr<wal_checkpointer>> wal_checkpointer::start(const std::string& path,
                                                                  sqlite_connection& writer) {
  auto conn = sqlite_connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, 0);
  if (!conn)
    return std::move(conn).err();
  std::unique_ptr<wal_checkpointer> self{new wal_checkpointer(std::move(*conn), writer)};
  // Replaces the hook behind wal_autocheckpoint, so SQLite no longer checkpoints in COMMIT.
  sqlite3_wal_hook(writer.handle(), &wal_checkpointer::on_commit, self.get());
  return self;
}

wal_checkpointer::wal_checkpointer(std::unique_ptr<sqlite_connection> conn,
                                   sqlite_connection& writer)
  : conn_(std::move(conn)), writer_(writer) {
  thread_ = std::thread{[this] { run(); }};
}

wal_checkpointer::~wal_checkpointer() {
  sqlite3_wal_hook(writer_.handle(), nullptr, nullptr);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

int wal_checkpointer::on_commit(void* self, sqlite3*, const char*, int pages) {
  if (pages >= wal_checkpoint_pages) {
    auto* me = static_cast<wal_checkpointer*>(self);
    {
      std::lock_guard<std::mutex> guard{me->mtx_};
      me->due_ = true;
    }
    me->wake_.notify_one();
  }
  return SQLITE_OK;
}

void wal_checkpointer::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    wake_.wait(lock, [this] { return due_ || stopping_; });
    if (stopping_)
      return;
    due_ = false;
    lock.unlock();
    int rc = sqlite3_wal_checkpoint_v2(conn_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                       nullptr, nullptr);
    // BUSY only means another checkpoint was running; the next large commit asks again.
    if (rc == SQLITE_OK)
      ++completed_;
    else if (rc != SQLITE_BUSY)
      runtime::log_warn("store", conn_->failure("WAL checkpoint failed").message);
    lock.lock();
  }
}

} // namespace hive::persistence::internal
