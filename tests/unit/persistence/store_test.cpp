// Behaviour every store implementation shares, plus what only the SQLite file store promises.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "build_config.hpp"
#include "persistence/internal/migrations.hpp"
#include "persistence/internal/sqlite_store.hpp"
#include "persistence/store.hpp"
#include "temp_dir.hpp"
#if HIVE_ENABLE_POSTGRES
#include "tests/support/pg_schema.hpp"
#endif

namespace hive::persistence {
namespace {

// -- records used by the tests --------------------------------------------------------------

task_record make_task(std::string id) {
  task_record t;
  t.id = std::move(id);
  t.type = "echo";
  t.created_at = 1000;
  t.updated_at = 1000;
  return t;
}

// Every field differs from its default, strings carry quotes, escapes and non-ASCII text.
task_record full_task() {
  task_record t;
  t.id = "task-0001";
  t.type = "nlp.analyze";
  t.description = "say \"hi\" \\ to ünïcödé ✓\nsecond line";
  t.payload_json = R"({"text":"hello","n":[1,2,3]})";
  t.priority = priority::critical;
  t.required_capabilities = {{"nlp", 0.1}, {"vision \"hd\"", 0.7300000000000001}};
  t.depends_on = {"task-0000", "task-\"q\""};
  t.timeout_ms = 4294967295u;
  t.max_retries = 7;
  t.idempotency_key = "key-1";
  t.status = task_status::running;
  t.attempts = 3;
  t.agent_id = "agent-9";
  t.result_json = R"({"ok":true})";
  t.error = "timed out";
  t.created_at = 1700000000001;
  t.updated_at = 1700000000002;
  t.started_at = 1700000000003;
  t.finished_at = 1700000000004;
  return t;
}

agent_record full_agent() {
  agent_record a;
  a.id = "agent-0001";
  a.name = "Ada \"the\" ✓";
  a.type = agent_type::learner;
  a.capabilities = {{"nlp", 0.9, 0.05}, {"math", 1.0 / 3.0, 0.2}};
  a.max_concurrency = 12;
  a.state = agent_state::paused;
  a.tasks_completed = 1234567890123;
  a.tasks_failed = 42;
  a.mean_latency_ms = 12.345678901234;
  a.metadata_json = R"({"zone":"eu","tags":["a"]})";
  a.created_at = 1700000000005;
  a.updated_at = 1700000000006;
  return a;
}

task_event make_event(std::string task_id, task_status status, timestamp_ms at) {
  task_event e;
  e.task_id = std::move(task_id);
  e.status = status;
  e.at = at;
  e.attempt = 2;
  e.agent_id = "agent-1";
  e.detail = "detail " + std::to_string(at);
  return e;
}

void expect_same(const task_record& a, const task_record& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.payload_json, b.payload_json);
  EXPECT_EQ(a.priority, b.priority);
  ASSERT_EQ(a.required_capabilities.size(), b.required_capabilities.size());
  for (size_t i = 0; i < a.required_capabilities.size(); ++i) {
    EXPECT_EQ(a.required_capabilities[i].name, b.required_capabilities[i].name);
    EXPECT_EQ(a.required_capabilities[i].min_proficiency,
              b.required_capabilities[i].min_proficiency);
  }
  EXPECT_EQ(a.depends_on, b.depends_on);
  EXPECT_EQ(a.timeout_ms, b.timeout_ms);
  EXPECT_EQ(a.max_retries, b.max_retries);
  EXPECT_EQ(a.idempotency_key, b.idempotency_key);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.agent_id, b.agent_id);
  EXPECT_EQ(a.result_json, b.result_json);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
}

void expect_same(const agent_record& a, const agent_record& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.type, b.type);
  ASSERT_EQ(a.capabilities.size(), b.capabilities.size());
  for (size_t i = 0; i < a.capabilities.size(); ++i) {
    EXPECT_EQ(a.capabilities[i].name, b.capabilities[i].name);
    EXPECT_EQ(a.capabilities[i].proficiency, b.capabilities[i].proficiency);
    EXPECT_EQ(a.capabilities[i].learning_rate, b.capabilities[i].learning_rate);
  }
  EXPECT_EQ(a.max_concurrency, b.max_concurrency);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.tasks_completed, b.tasks_completed);
  EXPECT_EQ(a.tasks_failed, b.tasks_failed);
  EXPECT_EQ(a.mean_latency_ms, b.mean_latency_ms);
  EXPECT_EQ(a.metadata_json, b.metadata_json);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

size_t task_count_of(store& db) {
  auto counts = db.count_tasks();
  size_t total = 0;
  if (counts)
    for (auto n : *counts)
      total += n;
  return total;
}

std::vector<std::string> ids_of(const std::vector<task_record>& tasks) {
  std::vector<std::string> ids;
  for (const auto& t : tasks)
    ids.push_back(t.id);
  return ids;
}

// -- every implementation -------------------------------------------------------------------

// The URL under test for an implementation name: a file in the test's directory, memory, or
// a private schema in the PostgreSQL test cluster (empty when there is none).
std::string url_for(const std::string& kind, const test::temp_dir& dir) {
  if (kind == "sqlite")
    return "sqlite://" + (dir / "hive.db").string();
  return "memory://";
}

class StoreTest : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    std::string url = url_for(GetParam(), dir_);
#if HIVE_ENABLE_POSTGRES
    if (GetParam() == "postgres") {
      std::string why;
      schema_ = hive::test::pg_schema::create(why);
      if (!schema_) {
        // scripts/test always provides a cluster: there, a missing one is a failure.
        if (std::getenv("HIVE_TEST_REQUIRE_POSTGRES") != nullptr)
          FAIL() << why;
        GTEST_SKIP() << why;
      }
      url = schema_->url();
    }
#endif
    auto db = open_store(url, "normal");
    ASSERT_TRUE(db) << db.err().message;
    db_ = std::move(*db);
  }

  void TearDown() override {
    db_.reset(); // closes the connections before the schema is dropped
  }

  void apply_ok(const write_batch& batch) {
    auto ok = db_->apply(batch);
    ASSERT_TRUE(ok) << ok.err().message;
  }

  void add_tasks(std::vector<task_record> tasks) {
    write_batch batch;
    batch.tasks = std::move(tasks);
    apply_ok(batch);
  }

  std::vector<std::string> list_ids(const task_filter& filter) {
    auto rows = db_->list_tasks(filter);
    EXPECT_TRUE(rows) << rows.err().message;
    return rows ? ids_of(*rows) : std::vector<std::string>{};
  }

  // Six tasks that differ in status, type, agent and required capabilities.
  void add_filter_fixture() {
    auto t = [](std::string id, task_status s, std::string type, std::string agent,
                std::vector<std::string> caps) {
      auto task = make_task(std::move(id));
      task.status = s;
      task.type = std::move(type);
      task.agent_id = std::move(agent);
      for (auto& c : caps)
        task.required_capabilities.push_back({std::move(c), 0.5});
      return task;
    };
    add_tasks({t("t1", task_status::queued, "echo", "", {"nlp"}),
               t("t2", task_status::running, "echo", "a1", {"nlp", "math"}),
               t("t3", task_status::completed, "sleep", "a1", {}),
               t("t4", task_status::queued, "sleep", "a2", {"math"}),
               t("t5", task_status::failed, "echo", "a2", {"nlpx"}),
               t("t6", task_status::queued, "echo", "a1", {"math", "nlp"})});
  }

  test::temp_dir dir_;
#if HIVE_ENABLE_POSTGRES
  std::unique_ptr<hive::test::pg_schema> schema_;
#endif
  std::unique_ptr<store> db_;
};

TEST_P(StoreTest, NameMatchesTheImplementation) {
  EXPECT_EQ(db_->name(), GetParam());
}

TEST_P(StoreTest, TaskRoundTripKeepsEveryField) {
  auto task = full_task();
  add_tasks({task});
  auto found = db_->find_task(task.id);
  ASSERT_TRUE(found) << found.err().message;
  ASSERT_TRUE(found->has_value());
  expect_same(**found, task);

  auto by_key = db_->find_task_by_key("key-1");
  ASSERT_TRUE(by_key) << by_key.err().message;
  ASSERT_TRUE(by_key->has_value());
  expect_same(**by_key, task);
}

TEST_P(StoreTest, TaskWithDefaultsRoundTrips) {
  auto task = make_task("plain");
  add_tasks({task});
  auto found = db_->find_task("plain");
  ASSERT_TRUE(found && found->has_value());
  expect_same(**found, task);
}

TEST_P(StoreTest, AgentRoundTripKeepsEveryField) {
  write_batch batch;
  batch.agents = {full_agent()};
  apply_ok(batch);
  auto agents = db_->load_agents();
  ASSERT_TRUE(agents) << agents.err().message;
  ASSERT_EQ(agents->size(), 1u);
  expect_same(agents->front(), full_agent());
}

TEST_P(StoreTest, MissingTaskIsNotAnError) {
  auto found = db_->find_task("nope");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
  auto by_key = db_->find_task_by_key("nope");
  ASSERT_TRUE(by_key);
  EXPECT_FALSE(by_key->has_value());
  auto by_empty_key = db_->find_task_by_key("");
  ASSERT_TRUE(by_empty_key);
  EXPECT_FALSE(by_empty_key->has_value());
}

TEST_P(StoreTest, EmptyBatchSucceeds) {
  apply_ok(write_batch{});
  auto counts = db_->count_tasks();
  ASSERT_TRUE(counts);
  EXPECT_EQ(std::count(counts->begin(), counts->end(), 0u), task_status_count);
}

TEST_P(StoreTest, UpsertReplacesTask) {
  auto first = full_task();
  add_tasks({first});
  auto second = first;
  second.status = task_status::completed;
  second.result_json = "42";
  second.idempotency_key = "";
  second.required_capabilities = {};
  second.finished_at = 1800000000000;
  add_tasks({second});

  auto found = db_->find_task(first.id);
  ASSERT_TRUE(found && found->has_value());
  expect_same(**found, second);
  EXPECT_EQ(list_ids({}).size(), 1u);
  // The dropped key is free again.
  auto by_key = db_->find_task_by_key("key-1");
  ASSERT_TRUE(by_key);
  EXPECT_FALSE(by_key->has_value());
  auto other = make_task("other");
  other.idempotency_key = "key-1";
  add_tasks({other});
}

TEST_P(StoreTest, LastVersionOfATaskInOneBatchWins) {
  auto v1 = make_task("t");
  v1.status = task_status::queued;
  auto v2 = v1;
  v2.status = task_status::running;
  auto v3 = v1;
  v3.status = task_status::completed;
  v3.result_json = "\"done\"";
  add_tasks({v1, v2, v3});
  auto found = db_->find_task("t");
  ASSERT_TRUE(found && found->has_value());
  expect_same(**found, v3);
}

TEST_P(StoreTest, UpsertReplacesAgent) {
  auto agent = full_agent();
  write_batch batch;
  batch.agents = {agent};
  apply_ok(batch);
  agent.state = agent_state::working;
  agent.capabilities = {{"only", 0.25, 0.5}};
  batch.agents = {agent};
  apply_ok(batch);
  auto agents = db_->load_agents();
  ASSERT_TRUE(agents);
  ASSERT_EQ(agents->size(), 1u);
  expect_same(agents->front(), agent);
}

TEST_P(StoreTest, EventsComeBackInOrder) {
  write_batch first;
  first.events = {make_event("a", task_status::pending, 1),
                  make_event("b", task_status::pending, 2),
                  make_event("a", task_status::queued, 3)};
  apply_ok(first);
  write_batch second;
  second.events = {make_event("a", task_status::running, 4),
                   make_event("b", task_status::queued, 5),
                   make_event("a", task_status::completed, 6)};
  apply_ok(second);

  auto events = db_->task_events("a");
  ASSERT_TRUE(events) << events.err().message;
  ASSERT_EQ(events->size(), 4u);
  std::vector<task_status> want{task_status::pending, task_status::queued, task_status::running,
                                task_status::completed};
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& e = (*events)[i];
    EXPECT_EQ(e.task_id, "a");
    EXPECT_EQ(e.status, want[i]);
    EXPECT_EQ(e.attempt, 2u);
    EXPECT_EQ(e.agent_id, "agent-1");
    EXPECT_EQ(e.detail, "detail " + std::to_string(e.at));
  }
  EXPECT_EQ((*events)[0].at, 1);
  EXPECT_EQ((*events)[3].at, 6);
  auto none = db_->task_events("zzz");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreTest, ListWithoutFiltersGivesAllInIdOrder) {
  add_tasks({make_task("c"), make_task("a"), make_task("b")});
  EXPECT_EQ(list_ids({}), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_P(StoreTest, EachListFilterSelectsItsTasks) {
  add_filter_fixture();
  task_filter by_status;
  by_status.status = task_status::queued;
  EXPECT_EQ(list_ids(by_status), (std::vector<std::string>{"t1", "t4", "t6"}));

  task_filter by_type;
  by_type.type = "sleep";
  EXPECT_EQ(list_ids(by_type), (std::vector<std::string>{"t3", "t4"}));

  task_filter by_agent;
  by_agent.agent_id = "a1";
  EXPECT_EQ(list_ids(by_agent), (std::vector<std::string>{"t2", "t3", "t6"}));

  task_filter unassigned;
  unassigned.agent_id = "";
  EXPECT_EQ(list_ids(unassigned), (std::vector<std::string>{"t1"}));

  // An exact name: "nlpx" does not match "nlp".
  task_filter by_capability;
  by_capability.capability = "nlp";
  EXPECT_EQ(list_ids(by_capability), (std::vector<std::string>{"t1", "t2", "t6"}));

  task_filter nothing;
  nothing.type = "unknown";
  EXPECT_TRUE(list_ids(nothing).empty());
}

TEST_P(StoreTest, ListFiltersCombine) {
  add_filter_fixture();
  task_filter f;
  f.status = task_status::queued;
  f.type = "echo";
  EXPECT_EQ(list_ids(f), (std::vector<std::string>{"t1", "t6"}));
  f.agent_id = "a1";
  EXPECT_EQ(list_ids(f), (std::vector<std::string>{"t6"}));
  f.capability = "math";
  EXPECT_EQ(list_ids(f), (std::vector<std::string>{"t6"}));
  f.capability = "vision";
  EXPECT_TRUE(list_ids(f).empty());

  task_filter g;
  g.capability = "math";
  g.agent_id = "a2";
  EXPECT_EQ(list_ids(g), (std::vector<std::string>{"t4"}));
  g.after_id = "t4";
  EXPECT_TRUE(list_ids(g).empty());
}

TEST_P(StoreTest, LimitCapsThePage) {
  add_filter_fixture();
  task_filter f;
  f.limit = 2;
  EXPECT_EQ(list_ids(f), (std::vector<std::string>{"t1", "t2"}));
  f.limit = 0;
  EXPECT_TRUE(list_ids(f).empty());
}

TEST_P(StoreTest, CursorPagingVisitsEveryTaskOnce) {
  std::vector<task_record> tasks;
  std::vector<std::string> all;
  std::vector<std::string> queued;
  for (int i = 0; i < 250; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "task-%04d", (i * 7919) % 250); // inserted out of order
    auto t = make_task(id);
    t.status = i % 3 == 0 ? task_status::queued : task_status::completed;
    if (t.status == task_status::queued)
      queued.push_back(t.id);
    all.push_back(t.id);
    tasks.push_back(std::move(t));
  }
  add_tasks(tasks);
  std::sort(all.begin(), all.end());
  std::sort(queued.begin(), queued.end());

  auto page_through = [&](task_filter f) {
    std::vector<std::string> seen;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = list_ids(f);
      if (page.empty())
        break;
      EXPECT_LE(page.size(), f.limit);
      seen.insert(seen.end(), page.begin(), page.end());
      f.after_id = page.back();
    }
    return seen;
  };
  task_filter f;
  f.limit = 7;
  EXPECT_EQ(page_through(f), all);
  f.status = task_status::queued;
  EXPECT_EQ(page_through(f), queued);
}

TEST_P(StoreTest, UnfinishedTasksArePendingQueuedOrRunning) {
  std::vector<task_record> tasks;
  for (int s = task_status_count - 1; s >= 0; --s) {
    auto t = make_task("t" + std::to_string(s));
    t.status = static_cast<task_status>(s);
    tasks.push_back(t);
  }
  add_tasks(tasks);
  auto unfinished = db_->unfinished_tasks();
  ASSERT_TRUE(unfinished) << unfinished.err().message;
  // t0 pending, t1 queued, t2 running (the enum order), oldest id first.
  EXPECT_EQ(ids_of(*unfinished), (std::vector<std::string>{"t0", "t1", "t2"}));
}

TEST_P(StoreTest, CountTasksByStatus) {
  add_filter_fixture();
  auto counts = db_->count_tasks();
  ASSERT_TRUE(counts) << counts.err().message;
  task_counts want{};
  want[static_cast<size_t>(task_status::queued)] = 3;
  want[static_cast<size_t>(task_status::running)] = 1;
  want[static_cast<size_t>(task_status::completed)] = 1;
  want[static_cast<size_t>(task_status::failed)] = 1;
  EXPECT_EQ(*counts, want);
}

TEST_P(StoreTest, IdempotencyKeysListsOnlyTasksWithAKey) {
  auto a = make_task("a");
  a.idempotency_key = "ka";
  auto b = make_task("b");
  auto c = make_task("c");
  c.idempotency_key = "kc";
  add_tasks({c, b, a});
  auto keys = db_->idempotency_keys();
  ASSERT_TRUE(keys) << keys.err().message;
  using kv = std::pair<std::string, std::string>;
  EXPECT_EQ(*keys, (std::vector<kv>{{"a", "ka"}, {"c", "kc"}}));
}

TEST_P(StoreTest, TasksWithoutKeysDoNotCollide) {
  add_tasks({make_task("a"), make_task("b")});
  add_tasks({make_task("c")});
  EXPECT_EQ(list_ids({}).size(), 3u);
}

TEST_P(StoreTest, ReusedIdempotencyKeyFailsTheWholeBatch) {
  auto owner = make_task("owner");
  owner.idempotency_key = "k";
  add_tasks({owner});

  auto fresh = make_task("fresh");
  auto thief = make_task("thief");
  thief.idempotency_key = "k";
  write_batch batch;
  batch.tasks = {fresh, thief};
  batch.events = {make_event("fresh", task_status::pending, 1)};
  batch.agents = {full_agent()};
  auto ok = db_->apply(batch);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.err().code, errc::store_unavailable);
  EXPECT_FALSE(ok.err().message.empty());

  // Nothing of the failed batch is visible; the owner keeps its key.
  EXPECT_EQ(list_ids({}), (std::vector<std::string>{"owner"}));
  auto events = db_->task_events("fresh");
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
  auto agents = db_->load_agents();
  ASSERT_TRUE(agents);
  EXPECT_TRUE(agents->empty());
  auto by_key = db_->find_task_by_key("k");
  ASSERT_TRUE(by_key && by_key->has_value());
  EXPECT_EQ((*by_key)->id, "owner");

  // The store still works after the failure.
  add_tasks({fresh});
}

TEST_P(StoreTest, FailedBatchUndoesUpdatesOfExistingTasks) {
  auto a = make_task("a");
  a.idempotency_key = "ka";
  auto b = make_task("b");
  b.idempotency_key = "kb";
  add_tasks({a, b});

  auto a2 = a;
  a2.status = task_status::running;
  a2.idempotency_key = "ka2";
  auto c = make_task("c");
  c.idempotency_key = "kb"; // taken by b
  write_batch batch;
  batch.tasks = {a2, c};
  ASSERT_FALSE(db_->apply(batch));

  auto found = db_->find_task("a");
  ASSERT_TRUE(found && found->has_value());
  expect_same(**found, a);
  auto by_old_key = db_->find_task_by_key("ka");
  ASSERT_TRUE(by_old_key && by_old_key->has_value());
  auto by_new_key = db_->find_task_by_key("ka2");
  ASSERT_TRUE(by_new_key);
  EXPECT_FALSE(by_new_key->has_value());
}

TEST_P(StoreTest, SameKeyTwiceInOneBatchFails) {
  auto a = make_task("a");
  a.idempotency_key = "k";
  auto b = make_task("b");
  b.idempotency_key = "k";
  write_batch batch;
  batch.tasks = {a, b};
  auto ok = db_->apply(batch);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.err().code, errc::store_unavailable);
  EXPECT_TRUE(list_ids({}).empty());
}

TEST_P(StoreTest, TaskKeepsItsOwnKeyOnUpdate) {
  auto a = make_task("a");
  a.idempotency_key = "k";
  add_tasks({a});
  a.status = task_status::completed;
  add_tasks({a});
  auto by_key = db_->find_task_by_key("k");
  ASSERT_TRUE(by_key && by_key->has_value());
  EXPECT_EQ((*by_key)->status, task_status::completed);
}

TEST_P(StoreTest, DeletedAgentIsGone) {
  auto a = full_agent();
  auto b = full_agent();
  b.id = "agent-0002";
  write_batch add;
  add.agents = {a, b};
  apply_ok(add);

  write_batch remove;
  remove.deleted_agents = {a.id, "never-existed"};
  apply_ok(remove);
  auto agents = db_->load_agents();
  ASSERT_TRUE(agents);
  ASSERT_EQ(agents->size(), 1u);
  EXPECT_EQ(agents->front().id, b.id);

  // Within one batch, deletes come after upserts.
  write_batch both;
  both.agents = {a};
  both.deleted_agents = {a.id};
  apply_ok(both);
  agents = db_->load_agents();
  ASSERT_TRUE(agents);
  EXPECT_EQ(agents->size(), 1u);
}

TEST_P(StoreTest, ObjectsRoundTripReplaceListAndDelete) {
  // A body with newlines, quotes and non-ASCII text, larger than a page.
  std::string body = "layers 3\n\"w\": 0.5 \xc3\xa9\n" + std::string(20000, 'x');
  ASSERT_TRUE(db_->put_object({"model", "router", body, R"({"inputs":3})", 1000}));
  ASSERT_TRUE(db_->put_object({"model", "alpha", "a", "{}", 1001}));
  ASSERT_TRUE(db_->put_object({"dataset", "router", "d", "{}", 1002}));

  auto found = db_->find_object("model", "router");
  ASSERT_TRUE(found) << found.err().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->body, body);
  EXPECT_EQ((*found)->meta, R"({"inputs":3})");
  EXPECT_EQ((*found)->updated_at, 1000);

  // Replacing keeps one object under the name.
  ASSERT_TRUE(db_->put_object({"model", "router", "v2", R"({"inputs":4})", 2000}));
  auto listed = db_->list_objects("model");
  ASSERT_TRUE(listed) << listed.err().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "alpha"); // by name
  EXPECT_EQ((*listed)[1].name, "router");
  EXPECT_EQ((*listed)[1].meta, R"({"inputs":4})");
  EXPECT_EQ((*listed)[1].updated_at, 2000);
  EXPECT_TRUE((*listed)[1].body.empty()); // listings leave bodies out

  auto removed = db_->delete_object("model", "router");
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  auto again = db_->delete_object("model", "router");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  auto gone = db_->find_object("model", "router");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  // The same name of another kind is untouched.
  auto other = db_->find_object("dataset", "router");
  ASSERT_TRUE(other && other->has_value());
  EXPECT_EQ((*other)->body, "d");
  auto none = db_->list_objects("script");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// Batches larger than one multi-row statement, with repeats that cross statement borders.
TEST_P(StoreTest, LargeBatchKeepsTheLastVersionOfEachTask) {
  constexpr int ids = 45;
  std::vector<task_record> tasks;
  std::vector<task_record> want;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < ids; ++i) {
      auto t = make_task("t" + std::to_string(100 + i));
      t.status = static_cast<task_status>(round);
      t.attempts = static_cast<uint32_t>(round);
      // Some tasks change type or key between versions (the slow path of an upsert).
      if (i % 5 == 0)
        t.type = "type-" + std::to_string(round);
      if (i % 7 == 0)
        t.idempotency_key = "key-" + std::to_string(i) + "-" + std::to_string(round);
      tasks.push_back(t);
      if (round == 2)
        want.push_back(t);
    }
  }
  write_batch batch;
  batch.tasks = tasks;
  for (int i = 0; i < 150; ++i)
    batch.events.push_back(make_event("t100", task_status::queued, i));
  apply_ok(batch);

  task_filter all;
  all.limit = 1000;
  auto rows = db_->list_tasks(all);
  ASSERT_TRUE(rows) << rows.err().message;
  ASSERT_EQ(rows->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    expect_same((*rows)[i], want[i]);
  task_filter by_type;
  by_type.type = "type-2";
  EXPECT_EQ(list_ids(by_type).size(), 9u); // i = 0, 5, ..., 40
  auto old_key = db_->find_task_by_key("key-7-1");
  ASSERT_TRUE(old_key);
  EXPECT_FALSE(old_key->has_value());
  auto events = db_->task_events("t100");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 150u);
  for (size_t i = 0; i < events->size(); ++i)
    EXPECT_EQ((*events)[i].at, static_cast<timestamp_ms>(i));
}

TEST_P(StoreTest, KeyFreedEarlierInTheBatchCanBeTaken) {
  auto owner = make_task("a-owner");
  owner.idempotency_key = "k";
  add_tasks({owner});
  for (size_t filler : {0, 40}) { // one-row statements, then a multi-row one
    auto moved = owner;
    moved.idempotency_key = "k-moved-" + std::to_string(filler);
    auto taker = make_task("b-taker-" + std::to_string(filler));
    taker.idempotency_key = "k";
    std::vector<task_record> tasks{moved, taker};
    for (size_t i = 0; i < filler; ++i)
      tasks.push_back(make_task("c-filler-" + std::to_string(100 + i)));
    add_tasks(tasks);
    auto by_key = db_->find_task_by_key("k");
    ASSERT_TRUE(by_key && by_key->has_value());
    EXPECT_EQ((*by_key)->id, taker.id);
    // Give "k" back to the owner for the next round.
    write_batch undo;
    auto released = taker;
    released.idempotency_key = "";
    undo.tasks = {released, owner};
    apply_ok(undo);
  }
}

TEST_P(StoreTest, KeyClashInALargeBatchLeavesNothing) {
  auto owner = make_task("owner");
  owner.idempotency_key = "k";
  add_tasks({owner});
  write_batch batch;
  for (int i = 0; i < 100; ++i) {
    auto t = make_task("n" + std::to_string(100 + i));
    if (i == 70)
      t.idempotency_key = "k";
    batch.tasks.push_back(t);
    batch.events.push_back(make_event(t.id, task_status::pending, i));
  }
  ASSERT_FALSE(db_->apply(batch));
  EXPECT_EQ(list_ids({}), (std::vector<std::string>{"owner"}));
  auto events = db_->task_events("n100");
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
}

TEST_P(StoreTest, PingSucceeds) {
  EXPECT_TRUE(db_->ping());
}

TEST_P(StoreTest, ReadsRunWhileBatchesAreApplied) {
  constexpr int batches = 20;
  constexpr int per_batch = 50;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto reader = [&] {
    size_t last = 0;
    while (!done.load()) {
      task_filter all;
      all.limit = batches * per_batch;
      auto rows = db_->list_tasks(all);
      auto counts = db_->count_tasks();
      // Every batch is seen whole or not at all, and nothing disappears.
      if (!rows || !counts || rows->size() % per_batch != 0 || rows->size() < last)
        ++failures;
      else
        last = rows->size();
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i)
    readers.emplace_back(reader);
  for (int b = 0; b < batches; ++b) {
    std::vector<task_record> tasks;
    for (int i = 0; i < per_batch; ++i)
      tasks.push_back(make_task("b" + std::to_string(100 + b) + "-" + std::to_string(100 + i)));
    add_tasks(tasks);
  }
  done = true;
  for (auto& t : readers)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  task_filter all;
  all.limit = 10000;
  EXPECT_EQ(list_ids(all).size(), size_t{batches * per_batch});
}

#if HIVE_ENABLE_POSTGRES
INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const auto& info) { return info.param; });
#else
INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values("sqlite", "memory"),
                         [](const auto& info) { return info.param; });
#endif

// -- choosing the implementation ------------------------------------------------------------

TEST(OpenStoreTest, UnknownSchemeNamesTheSetting) {
  auto db = open_store("mysql://hive:secret@db/hive", "normal");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.err().code, errc::invalid_field);
  EXPECT_EQ(db.err().field, "database.url");
  EXPECT_EQ(db.err().message.find("secret"), std::string::npos) << db.err().message;

  auto no_scheme = open_store("hive.db", "normal");
  ASSERT_FALSE(no_scheme);
  EXPECT_EQ(no_scheme.err().field, "database.url");
}

#if HIVE_ENABLE_POSTGRES
TEST(OpenStoreTest, UnreachablePostgresIsUnavailableAndKeepsThePasswordSecret) {
  store_options opts;
  opts.url = "postgresql://hive:secret@127.0.0.1:1/hive";
  opts.connection_timeout_secs = 2;
  auto db = open_store(opts);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.err().code, errc::store_unavailable);
  EXPECT_NE(db.err().message.find("127.0.0.1:1"), std::string::npos) << db.err().message;
  EXPECT_EQ(db.err().message.find("secret"), std::string::npos) << db.err().message;
}
#endif

TEST(OpenStoreTest, SqliteNeedsAPath) {
  auto db = open_store("sqlite://", "normal");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.err().code, errc::invalid_field);
  EXPECT_EQ(db.err().field, "database.url");
}

TEST(OpenStoreTest, UnknownSynchronousModeNamesTheSetting) {
  auto db = open_store("memory://", "sometimes");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.err().code, errc::invalid_field);
  EXPECT_EQ(db.err().field, "database.synchronous");
}

TEST(OpenStoreTest, FullSynchronousOpens) {
  test::temp_dir dir;
  auto db = open_store("sqlite://" + (dir / "full.db").string(), "FULL");
  ASSERT_TRUE(db) << db.err().message;
  EXPECT_EQ((*db)->name(), "sqlite");
}

// -- the SQLite file ------------------------------------------------------------------------

class SqliteStoreTest : public ::testing::Test {
protected:
  std::string path() const { return (dir_ / "hive.db").string(); }

  std::unique_ptr<store> open_ok(const std::string& url) {
    auto db = open_store(url, "normal");
    EXPECT_TRUE(db) << db.err().message;
    return db ? std::move(*db) : nullptr;
  }

  test::temp_dir dir_;
};

TEST_F(SqliteStoreTest, DataSurvivesReopening) {
  {
    auto db = open_ok("sqlite://" + path());
    ASSERT_TRUE(db);
    write_batch batch;
    batch.tasks = {full_task()};
    batch.events = {make_event(full_task().id, task_status::running, 9)};
    batch.agents = {full_agent()};
    ASSERT_TRUE(db->apply(batch));
  }
  auto db = open_ok("sqlite://" + path());
  ASSERT_TRUE(db);
  auto task = db->find_task(full_task().id);
  ASSERT_TRUE(task && task->has_value());
  expect_same(**task, full_task());
  auto events = db->task_events(full_task().id);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->size(), 1u);
  auto agents = db->load_agents();
  ASSERT_TRUE(agents);
  ASSERT_EQ(agents->size(), 1u);
  expect_same(agents->front(), full_agent());
}

TEST_F(SqliteStoreTest, MigrationsAreNotReappliedOnReopen) {
  std::vector<internal::applied_migration> first;
  {
    auto db = internal::sqlite_store::open(path(), false);
    ASSERT_TRUE(db) << db.err().message;
    auto applied = (*db)->applied_migrations();
    ASSERT_TRUE(applied) << applied.err().message;
    first = *applied;
  }
  ASSERT_EQ(first.size(), internal::sqlite_migrations().size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].version, internal::sqlite_migrations()[i].version);
    EXPECT_GT(first[i].applied_at, 0);
  }
  auto db = internal::sqlite_store::open(path(), false);
  ASSERT_TRUE(db) << db.err().message;
  auto again = (*db)->applied_migrations();
  ASSERT_TRUE(again);
  ASSERT_EQ(again->size(), first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ((*again)[i].version, first[i].version);
    EXPECT_EQ((*again)[i].applied_at, first[i].applied_at);
  }
}

TEST_F(SqliteStoreTest, MissingDirectoriesAreCreated) {
  auto nested = dir_ / "a" / "b" / "c" / "hive.db";
  auto db = open_ok("sqlite://" + nested.string());
  ASSERT_TRUE(db);
  EXPECT_TRUE(std::filesystem::exists(nested));
}

TEST_F(SqliteStoreTest, RelativePathIsRelativeToTheWorkingDirectory) {
  auto old_cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_.path());
  auto db = open_store("sqlite://data/rel.db", "normal");
  std::filesystem::current_path(old_cwd);
  ASSERT_TRUE(db) << db.err().message;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "data" / "rel.db"));
}

TEST_F(SqliteStoreTest, UnwritablePathGivesStoreUnavailable) {
  // A regular file where a directory should be: no permission bits involved, so this also
  // holds when the tests run as root.
  std::ofstream{dir_ / "blocker"} << "x";
  auto under_file = (dir_ / "blocker" / "sub" / "hive.db").string();
  auto db = open_store("sqlite://" + under_file, "normal");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.err().code, errc::store_unavailable);
  EXPECT_NE(db.err().message.find(under_file), std::string::npos) << db.err().message;

  // A directory where the file should be: SQLite itself refuses.
  auto dir_as_file = dir_.path().string();
  auto db2 = open_store("sqlite://" + dir_as_file, "normal");
  ASSERT_FALSE(db2);
  EXPECT_EQ(db2.err().code, errc::store_unavailable);
  EXPECT_NE(db2.err().message.find(dir_as_file), std::string::npos) << db2.err().message;
}

TEST_F(SqliteStoreTest, FailedBatchCarriesSqlitesMessage) {
  auto db = open_ok("sqlite://" + path());
  ASSERT_TRUE(db);
  auto a = make_task("a");
  a.idempotency_key = "k";
  auto b = make_task("b");
  b.idempotency_key = "k";
  write_batch batch;
  batch.tasks = {a, b};
  auto ok = db->apply(batch);
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.err().message.find("UNIQUE constraint failed"), std::string::npos)
    << ok.err().message;
  EXPECT_NE(ok.err().message.find("'b'"), std::string::npos) << ok.err().message;
}

TEST_F(SqliteStoreTest, WalIsCheckpointedInTheBackground) {
  auto db = internal::sqlite_store::open(path(), false);
  ASSERT_TRUE(db) << db.err().message;
  // About 6 MB of rows: more WAL pages than a commit may leave before asking for a checkpoint.
  write_batch batch;
  for (int i = 0; i < 6000; ++i) {
    auto t = make_task("t" + std::to_string(100000 + i));
    t.description.assign(1000, 'x');
    batch.tasks.push_back(t);
  }
  ASSERT_TRUE((*db)->apply(batch));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((*db)->wal_checkpoints() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_GT((*db)->wal_checkpoints(), 0u);
  EXPECT_EQ(task_count_of(**db), 6000u);
}

TEST_F(SqliteStoreTest, CorruptJsonColumnIsAnInternalError) {
  auto db = open_ok("sqlite://" + path());
  ASSERT_TRUE(db);
  write_batch batch;
  batch.tasks = {full_task()};
  ASSERT_TRUE(db->apply(batch));
  {
    auto conn = internal::sqlite_connection::open(path(), SQLITE_OPEN_READWRITE, 1000);
    ASSERT_TRUE(conn);
    ASSERT_TRUE((*conn)->exec("UPDATE tasks SET required_capabilities = '{\"not\": \"a list\"}'"));
  }
  auto found = db->find_task(full_task().id);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.err().code, errc::internal);
}

// -- migrations -----------------------------------------------------------------------------

class MigrationTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto conn = internal::sqlite_connection::open((dir_ / "m.db").string(),
                                                  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                                  1000);
    ASSERT_TRUE(conn) << conn.err().message;
    conn_ = std::move(*conn);
  }

  std::vector<int> versions() {
    auto applied = internal::applied_migrations(*conn_);
    EXPECT_TRUE(applied);
    std::vector<int> out;
    if (applied)
      for (auto& row : *applied)
        out.push_back(row.version);
    return out;
  }

  test::temp_dir dir_;
  std::unique_ptr<internal::sqlite_connection> conn_;
};

TEST_F(MigrationTest, StepsApplyInOrderAndOnlyOnce) {
  std::vector<internal::migration> steps{
    {1, "CREATE TABLE a (x INTEGER)"},
    {2, "INSERT INTO a VALUES (2)"},
  };
  ASSERT_TRUE(internal::migrate(*conn_, steps));
  ASSERT_TRUE(internal::migrate(*conn_, steps)); // a rerun would fail on CREATE TABLE a
  steps.push_back({3, "INSERT INTO a VALUES (3)"});
  ASSERT_TRUE(internal::migrate(*conn_, steps));
  EXPECT_EQ(versions(), (std::vector<int>{1, 2, 3}));
  auto sum = conn_->prepare("SELECT sum(x) FROM a");
  ASSERT_TRUE(sum);
  internal::statement_scope scope{*sum};
  ASSERT_EQ(sqlite3_step(*sum), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(*sum, 0), 5); // rows 2 and 3, each inserted once
}

TEST_F(MigrationTest, FailedStepLeavesNothingBehind) {
  std::vector<internal::migration> steps{
    {1, "CREATE TABLE a (x INTEGER)"},
    {2, "CREATE TABLE b (x INTEGER); THIS IS NOT SQL"},
  };
  auto ok = internal::migrate(*conn_, steps);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.err().code, errc::store_unavailable);
  EXPECT_NE(ok.err().message.find("migration 2"), std::string::npos) << ok.err().message;
  EXPECT_EQ(versions(), (std::vector<int>{1}));
  // Table b was rolled back with its step, so a fixed step 2 can create it.
  steps[1].sql = "CREATE TABLE b (x INTEGER)";
  ASSERT_TRUE(internal::migrate(*conn_, steps));
  EXPECT_EQ(versions(), (std::vector<int>{1, 2}));
}

TEST_F(MigrationTest, NewerSchemaIsRefused) {
  std::vector<internal::migration> steps{{1, "CREATE TABLE a (x)"}, {2, "CREATE TABLE b (x)"}};
  ASSERT_TRUE(internal::migrate(*conn_, steps));
  steps.pop_back();
  auto ok = internal::migrate(*conn_, steps);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.err().code, errc::store_unavailable);
}

} // namespace
} // namespace hive::persistence
