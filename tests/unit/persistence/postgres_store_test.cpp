// What only the PostgreSQL store promises: the pool's limits, session settings, recycling,
// concurrent migration, and finding its feet again after the server restarts.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "persistence/internal/postgres_store.hpp"
#include "tests/support/pg_schema.hpp"

namespace hive::persistence {
namespace {

using internal::pg_pool_options;
using internal::postgres_store;

class PostgresStoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    schema_ = hive::test::pg_schema::create(why);
    if (!schema_) {
      if (std::getenv("HIVE_TEST_REQUIRE_POSTGRES") != nullptr)
        FAIL() << why;
      GTEST_SKIP() << why;
    }
  }

  pg_pool_options options() const {
    pg_pool_options o;
    o.url = schema_->url();
    o.min_connections = 1;
    o.max_connections = 4;
    o.connection_timeout_secs = 2;
    return o;
  }

  std::unique_ptr<postgres_store> open(pg_pool_options o) {
    auto db = postgres_store::open(std::move(o));
    EXPECT_TRUE(db) << db.err().message;
    return db ? std::move(*db) : nullptr;
  }

  std::unique_ptr<hive::test::pg_schema> schema_;
};

task_record make_task(std::string id) {
  task_record t;
  t.id = std::move(id);
  t.type = "echo";
  t.created_at = 1000;
  t.updated_at = 1000;
  return t;
}

TEST_F(PostgresStoreTest, SeveralNodesStartingAtOnceMigrateOnce) {
  std::vector<std::future<bool>> opening;
  for (int i = 0; i < 4; ++i)
    opening.push_back(std::async(std::launch::async, [this] {
      auto db = postgres_store::open(options());
      return db && (*db)->schema_version() && *(*db)->schema_version() == 3;
    }));
  for (auto& f : opening)
    EXPECT_TRUE(f.get());
  pqxx::connection conn{schema_->url()};
  pqxx::nontransaction tx{conn};
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>(), 3);
}

TEST_F(PostgresStoreTest, NodesSeeOnlyTheirOwnTasksAndAgents) {
  auto a = postgres_store::open(options(), "a");
  auto b = postgres_store::open(options(), "b");
  ASSERT_TRUE(a && b);
  write_batch batch;
  batch.tasks = {make_task("t1"), make_task("t2")};
  agent_record agent;
  agent.id = "ag1";
  agent.name = "x";
  agent.node_id = "a";
  batch.agents.push_back(agent);
  ASSERT_TRUE((*a)->apply(batch));
  auto mine = (*a)->unfinished_tasks();
  auto theirs = (*b)->unfinished_tasks();
  ASSERT_TRUE(mine && theirs);
  EXPECT_EQ(mine->size(), 2u);
  EXPECT_TRUE(theirs->empty()) << "b does not run a's tasks";
  auto agents_a = (*a)->load_agents();
  auto agents_b = (*b)->load_agents();
  ASSERT_TRUE(agents_a && agents_b);
  ASSERT_EQ(agents_a->size(), 1u);
  EXPECT_EQ(agents_a->front().node_id, "a");
  EXPECT_TRUE(agents_b->empty());
  // A later update (a state change) keeps the owner.
  auto t1 = make_task("t1");
  t1.status = task_status::running;
  write_batch update;
  update.tasks.push_back(t1);
  ASSERT_TRUE((*a)->apply(update));
  EXPECT_TRUE((*b)->unfinished_tasks()->empty());
}

TEST_F(PostgresStoreTest, ALostNodesTasksAreTakenOverOnceItsLeaseExpired) {
  auto a = postgres_store::open(options(), "a");
  auto b = postgres_store::open(options(), "b");
  auto c = postgres_store::open(options(), "c");
  ASSERT_TRUE(a && b && c);
  auto first_lease = (*a)->renew_lease(300);
  ASSERT_TRUE(first_lease);
  EXPECT_FALSE(*first_lease) << "a had no lease before";
  EXPECT_TRUE(*(*a)->renew_lease(300)) << "now it holds one";
  write_batch batch;
  batch.tasks = {make_task("t1"), make_task("t2"), make_task("t3")};
  batch.tasks[2].status = task_status::failed; // finished: stays where it is
  ASSERT_TRUE((*a)->apply(batch));

  // While a's lease holds, nobody takes its tasks.
  auto early = (*b)->claim_orphans({});
  ASSERT_TRUE(early) << early.err().message;
  EXPECT_TRUE(early->tasks.empty());

  // Once it expired, the first survivor to look takes them all, the next one nothing.
  std::this_thread::sleep_for(std::chrono::milliseconds{400});
  auto first = (*b)->claim_orphans({});
  auto second = (*c)->claim_orphans({});
  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->tasks.size(), 2u);
  EXPECT_EQ(first->tasks[0].id, "t1");
  EXPECT_EQ(first->from_nodes, std::vector<std::string>{"a"});
  EXPECT_TRUE(second->tasks.empty());
  EXPECT_EQ((*b)->unfinished_tasks()->size(), 2u) << "they are b's now, also after a restart";

  // a comes back: renewing its lease, it finds nothing of its own left to run. What it still
  // writes about those tasks (it was cut off, not dead) does not overwrite their new owner's.
  auto late_renewal = (*a)->renew_lease(300);
  ASSERT_TRUE(late_renewal);
  EXPECT_FALSE(*late_renewal) << "a learns that its lease had run out";
  EXPECT_TRUE((*a)->unfinished_tasks()->empty());
  auto stale = make_task("t1");
  stale.status = task_status::completed;
  write_batch late;
  late.tasks.push_back(stale);
  ASSERT_TRUE((*a)->apply(late));
  EXPECT_EQ((*(*b)->find_task("t1"))->status, task_status::pending) << "b's row stands";

  // A finished task retried on another node becomes that node's.
  EXPECT_FALSE(*(*c)->take_finished_task("t1")) << "t1 is not finished";
  EXPECT_TRUE(*(*c)->take_finished_task("t3"));
  EXPECT_FALSE(*(*b)->take_finished_task("t3")) << "already being retried by c";
  auto t3 = make_task("t3");
  t3.status = task_status::queued;
  write_batch retry;
  retry.tasks.push_back(t3);
  ASSERT_TRUE((*c)->apply(retry));
  EXPECT_EQ((*(*c)->find_task("t3"))->status, task_status::queued);
}

TEST_F(PostgresStoreTest, WithClusterModeOffAgainEveryTaskIsWritable) {
  auto a = postgres_store::open(options(), "a");
  ASSERT_TRUE(a);
  write_batch batch;
  batch.tasks = {make_task("t1")};
  ASSERT_TRUE((*a)->apply(batch));
  a->reset();
  auto plain = postgres_store::open(options());
  ASSERT_TRUE(plain);
  auto t1 = make_task("t1");
  t1.status = task_status::completed;
  write_batch update;
  update.tasks.push_back(t1);
  ASSERT_TRUE((*plain)->apply(update));
  EXPECT_EQ((*(*plain)->find_task("t1"))->status, task_status::completed);
}

TEST_F(PostgresStoreTest, NodesStillHeardFromAreNotTakenOverAfterAnOutage) {
  auto a = postgres_store::open(options(), "a");
  auto b = postgres_store::open(options(), "b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE((*a)->renew_lease(1));
  write_batch batch;
  batch.tasks = {make_task("t1")};
  ASSERT_TRUE((*a)->apply(batch));
  std::this_thread::sleep_for(std::chrono::milliseconds{20});
  // a's lease expired (as every lease does in a long database outage), but b hears from a.
  auto kept = (*b)->claim_orphans({"a"});
  ASSERT_TRUE(kept);
  EXPECT_TRUE(kept->tasks.empty());
  EXPECT_EQ((*b)->claim_orphans({})->tasks.size(), 1u);
}

TEST_F(PostgresStoreTest, TwoSurvivorsRacingForALostNodeTakeEachTaskOnce) {
  auto a = postgres_store::open(options(), "a");
  ASSERT_TRUE(a);
  ASSERT_TRUE((*a)->renew_lease(1));
  write_batch batch;
  for (int i = 0; i < 200; ++i)
    batch.tasks.push_back(make_task("t" + std::to_string(1000 + i)));
  ASSERT_TRUE((*a)->apply(batch));
  std::this_thread::sleep_for(std::chrono::milliseconds{20});
  std::vector<std::future<size_t>> racers;
  for (const char* id : {"b", "c", "d", "e"})
    racers.push_back(std::async(std::launch::async, [this, id] {
      auto db = postgres_store::open(options(), id);
      size_t taken = 0;
      for (int round = 0; round < 5 && db; ++round)
        if (auto got = (*db)->claim_orphans({}))
          taken += got->tasks.size();
      return taken;
    }));
  size_t total = 0;
  for (auto& r : racers)
    total += r.get();
  EXPECT_EQ(total, 200u);
}

TEST_F(PostgresStoreTest, PoolWaitsThenGivesUpAtItsLimit) {
  auto o = options();
  o.max_connections = 2;
  o.connection_timeout_secs = 1;
  auto db = open(o);
  ASSERT_TRUE(db);
  auto a = db->pool().acquire();
  auto b = db->pool().acquire();
  ASSERT_TRUE(a && b);
  auto started = std::chrono::steady_clock::now();
  auto c = db->pool().acquire();
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(c);
  EXPECT_EQ(c.err().code, errc::store_unavailable);
  EXPECT_NE(c.err().message.find("no PostgreSQL connection free"), std::string::npos);
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  // A store call at the limit fails the same way, and works once a connection comes back.
  EXPECT_FALSE(db->ping());
  { auto released = std::move(*a); }
  EXPECT_TRUE(db->ping());
  EXPECT_LE(db->pool().counts().open, 2u);
}

TEST_F(PostgresStoreTest, SessionsCarryTheStatementTimeout) {
  auto o = options();
  o.statement_timeout_secs = 7;
  auto db = open(o);
  ASSERT_TRUE(db);
  auto lease = db->pool().acquire();
  ASSERT_TRUE(lease);
  pqxx::nontransaction tx{lease->conn()};
  EXPECT_EQ(tx.exec1("SHOW statement_timeout")[0].as<std::string>(), "7s");
  // And it is enforced: a statement running longer is cancelled.
  o.statement_timeout_secs = 1;
  auto strict = open(o);
  ASSERT_TRUE(strict);
  auto l2 = strict->pool().acquire();
  ASSERT_TRUE(l2);
  pqxx::nontransaction slow{l2->conn()};
  EXPECT_THROW(slow.exec("SELECT pg_sleep(3)"), pqxx::sql_error);
}

TEST_F(PostgresStoreTest, OldConnectionsAreRecycled) {
  auto o = options();
  o.recycle_secs = 1;
  auto db = open(o);
  ASSERT_TRUE(db);
  int backend = 0;
  {
    auto lease = db->pool().acquire();
    ASSERT_TRUE(lease);
    backend = lease->conn().backendpid();
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  } // returned too old: closed
  auto lease = db->pool().acquire();
  ASSERT_TRUE(lease);
  EXPECT_NE(lease->conn().backendpid(), backend);
}

// On a cluster of its own: restarting the shared one would cut the other tests' connections.
TEST_F(PostgresStoreTest, ReconnectsAfterTheServerRestarts) {
  std::string why;
  auto cluster = hive::test::pg_cluster::start(why);
  ASSERT_TRUE(cluster) << why;
  auto o = options();
  o.url = cluster->url();
  auto db = open(o);
  ASSERT_TRUE(db);
  write_batch batch;
  batch.tasks = {make_task("before")};
  ASSERT_TRUE(db->apply(batch));
  ASSERT_TRUE(cluster->restart());
  // The pooled connection died with the old server; the store replaces it on its own.
  batch.tasks = {make_task("after")};
  auto ok = db->apply(batch);
  EXPECT_TRUE(ok) << ok.err().message;
  auto found = db->find_task("before");
  ASSERT_TRUE(found) << found.err().message;
  EXPECT_TRUE(found->has_value());
  // While the server is down, calls fail with store_unavailable (after the connect timeout);
  // once it is back they succeed again.
  ASSERT_TRUE(cluster->halt());
  auto down = db->apply(batch);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.err().code, errc::store_unavailable);
  EXPECT_FALSE(db->ping());
  ASSERT_TRUE(cluster->resume());
  EXPECT_TRUE(db->ping());
  EXPECT_TRUE(db->apply(batch));
}

} // namespace
} // namespace hive::persistence
