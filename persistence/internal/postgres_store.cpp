// The PostgreSQL store: schema and migrations, COPY-based group commit, pooled reads.
#include "persistence/internal/postgres_store.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <tuple>

#include <pqxx/pqxx>
#include <rapidjson/stringbuffer.h>

#include "persistence/internal/columns.hpp"
#include "persistence/internal/json_columns.hpp"
#include "runtime/clock.hpp"

namespace hive::persistence::internal {
namespace {

// Version 1: the same tables as SQLite's. Ids compare byte-wise (COLLATE "C") whatever the
// database's locale, so cursor paging follows creation order. The idempotency key is a
// deferred unique constraint: a batch may hand a key from one task to another, and only its
// final state must be unique (NULLs, tasks without a key, never collide).
constexpr std::string_view schema_v1 = R"sql(
CREATE TABLE agents (
  id              TEXT COLLATE "C" PRIMARY KEY,
  name            TEXT NOT NULL,
  type            TEXT NOT NULL,
  capabilities    TEXT NOT NULL,
  max_concurrency BIGINT NOT NULL,
  state           TEXT NOT NULL,
  tasks_completed BIGINT NOT NULL,
  tasks_failed    BIGINT NOT NULL,
  mean_latency_ms DOUBLE PRECISION NOT NULL,
  metadata        TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
);

CREATE TABLE tasks (
  id                    TEXT COLLATE "C" PRIMARY KEY,
  type                  TEXT NOT NULL,
  description           TEXT NOT NULL,
  payload               TEXT NOT NULL,
  priority              INTEGER NOT NULL,
  required_capabilities TEXT NOT NULL,
  depends_on            TEXT NOT NULL,
  timeout_ms            BIGINT NOT NULL,
  max_retries           BIGINT NOT NULL,
  idempotency_key       TEXT,
  status                TEXT NOT NULL,
  attempts              BIGINT NOT NULL,
  agent_id              TEXT COLLATE "C" NOT NULL,
  result                TEXT NOT NULL,
  error                 TEXT NOT NULL,
  created_at            BIGINT NOT NULL,
  updated_at            BIGINT NOT NULL,
  started_at            BIGINT NOT NULL,
  finished_at           BIGINT NOT NULL,
  CONSTRAINT tasks_idempotency_key_unique UNIQUE (idempotency_key) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX tasks_by_status ON tasks (status, id);
CREATE INDEX tasks_by_type ON tasks (type, id);
CREATE INDEX tasks_by_agent ON tasks (agent_id, id);

CREATE TABLE task_events (
  seq      BIGSERIAL PRIMARY KEY,
  task_id  TEXT COLLATE "C" NOT NULL,
  status   TEXT NOT NULL,
  at       BIGINT NOT NULL,
  attempt  BIGINT NOT NULL,
  agent_id TEXT NOT NULL,
  detail   TEXT NOT NULL
);
CREATE INDEX task_events_by_task ON task_events (task_id, seq);
)sql";

// Version 2: named documents (trained networks, datasets, the routing experience).
constexpr std::string_view schema_v2 = R"sql(
CREATE TABLE objects (
  kind       TEXT COLLATE "C" NOT NULL,
  name       TEXT COLLATE "C" NOT NULL,
  body       TEXT NOT NULL,
  meta       TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (kind, name)
);
)sql";

// Version 3: the cluster. A task belongs to the node that admitted it (owner_node, NULL
// outside cluster mode), an agent lives on one node (node_id), and each node holds a lease
// (expires_at, on the database's clock) that survivors check before taking its tasks over.
constexpr std::string_view schema_v3 = R"sql(
ALTER TABLE tasks ADD COLUMN owner_node TEXT COLLATE "C";
ALTER TABLE agents ADD COLUMN node_id TEXT COLLATE "C";
CREATE INDEX tasks_unfinished_by_owner ON tasks (owner_node, id)
  WHERE status IN ('pending', 'queued', 'running');
CREATE TABLE node_leases (
  node_id    TEXT COLLATE "C" PRIMARY KEY,
  expires_at TIMESTAMPTZ NOT NULL
);
)sql";

struct pg_migration {
  int version;
  std::string_view sql;
};

const std::vector<pg_migration>& pg_migrations() {
  static const std::vector<pg_migration> steps{{1, schema_v1}, {2, schema_v2}, {3, schema_v3}};
  return steps;
}

/// Any number that is the same in every Hive process: the advisory lock of migrations.
constexpr int64_t migration_lock_key = 0x4869766500000001;

// A batch's task rows arrive as one array per column (`ord` is the row's place in the batch);
// the last version of each task wins, as if the rows were applied in order. A new row gets
// this node as its owner ($20, empty outside cluster mode); an update keeps the owner and, in
// cluster mode, applies only to this node's own rows (a node whose tasks were taken over
// while it was cut off cannot overwrite what their new owner writes).
const std::string upsert_tasks_sql =
  "INSERT INTO tasks (" + task_columns
  + ", owner_node) SELECT DISTINCT ON (id) id, type, description, payload, priority, "
    "required_capabilities, depends_on, timeout_ms, max_retries, NULLIF(idempotency_key, ''), "
    "status, attempts, agent_id, result, error, created_at, updated_at, started_at, "
    "finished_at, NULLIF($20::text, '') FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], "
    "$6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[], $11::text[], "
    "$12::bigint[], $13::text[], $14::text[], $15::text[], $16::bigint[], $17::bigint[], "
    "$18::bigint[], $19::bigint[]) WITH ORDINALITY AS r("
  + task_columns
  + ", ord) ORDER BY id, ord DESC "
    "ON CONFLICT (id) DO UPDATE SET type = excluded.type, idempotency_key = "
    "excluded.idempotency_key, "
  + task_life_updates
  + " WHERE $20::text = '' OR tasks.owner_node IS NOT DISTINCT FROM excluded.owner_node";

const std::string upsert_agent_sql =
  "INSERT INTO agents (" + agent_columns
  + ", node_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULLIF($13, '')) "
    "ON CONFLICT (id) DO UPDATE SET node_id = excluded.node_id, "
  + agent_updates;

/// PostgreSQL text cannot hold NUL: such characters (from a JSON "\u0000") are stored as
/// U+FFFD, the replacement character.
constexpr std::string_view nul_replacement = "\xEF\xBF\xBD";

/// Builds a PostgreSQL array literal, one element at a time.
class array_literal {
public:
  void text(std::string_view v) {
    start();
    out_ += '"';
    for (char c : v) {
      if (c == '\0') {
        out_ += nul_replacement;
        continue;
      }
      if (c == '"' || c == '\\')
        out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  void number(int64_t v) {
    start();
    out_ += std::to_string(v);
  }
  std::string finish() {
    if (out_.empty())
      out_ = "{";
    out_ += '}';
    return std::move(out_);
  }

private:
  void start() { out_ += out_.empty() ? '{' : ','; }
  std::string out_;
};

/// `s` as PostgreSQL text (NUL replaced, see nul_replacement).
std::string pg_text(std::string_view s) {
  std::string out;
  if (s.find('\0') == std::string_view::npos) {
    out.assign(s.data(), s.size());
    return out;
  }
  out.reserve(s.size() + 8);
  for (char c : s) {
    if (c == '\0')
      out += nul_replacement;
    else
      out += c;
  }
  return out;
}

std::string json_text(const rapidjson::StringBuffer& buf) {
  return std::string{buf.GetString(), buf.GetSize()};
}

error bad_column(std::string_view table, const std::string& id, std::string_view column) {
  return make_error(errc::internal, std::string{table} + " row '" + id + "' has an unreadable "
                                      + std::string{column});
}

uint32_t to_u32(int64_t v) {
  if (v < 0)
    return 0;
  if (v > static_cast<int64_t>(UINT32_MAX))
    return UINT32_MAX;
  return static_cast<uint32_t>(v);
}

std::string text_of(const pqxx::field& f) {
  return f.is_null() ? std::string{} : std::string{f.c_str(), f.size()};
}

result<task_record> read_task(const pqxx::row& r) {
  task_record t;
  t.id = text_of(r[0]);
  t.type = text_of(r[1]);
  t.description = text_of(r[2]);
  t.payload_json = text_of(r[3]);
  auto prio = r[4].as<int64_t>();
  if (prio < 0 || prio >= priority_levels)
    return bad_column("tasks", t.id, "priority");
  t.priority = static_cast<priority>(prio);
  if (!read_json(text_of(r[5]), t.required_capabilities))
    return bad_column("tasks", t.id, "required_capabilities");
  if (!read_json(text_of(r[6]), t.depends_on))
    return bad_column("tasks", t.id, "depends_on");
  t.timeout_ms = to_u32(r[7].as<int64_t>());
  t.max_retries = to_u32(r[8].as<int64_t>());
  t.idempotency_key = text_of(r[9]);
  if (!from_string(text_of(r[10]), t.status))
    return bad_column("tasks", t.id, "status");
  t.attempts = to_u32(r[11].as<int64_t>());
  t.agent_id = text_of(r[12]);
  t.result_json = text_of(r[13]);
  t.error = text_of(r[14]);
  t.created_at = r[15].as<int64_t>();
  t.updated_at = r[16].as<int64_t>();
  t.started_at = r[17].as<int64_t>();
  t.finished_at = r[18].as<int64_t>();
  return t;
}

result<agent_record> read_agent(const pqxx::row& r) {
  agent_record a;
  a.id = text_of(r[0]);
  a.name = text_of(r[1]);
  if (!from_string(text_of(r[2]), a.type))
    return bad_column("agents", a.id, "type");
  if (!read_json(text_of(r[3]), a.capabilities))
    return bad_column("agents", a.id, "capabilities");
  a.max_concurrency = to_u32(r[4].as<int64_t>());
  if (!from_string(text_of(r[5]), a.state))
    return bad_column("agents", a.id, "state");
  a.tasks_completed = static_cast<uint64_t>(r[6].as<int64_t>());
  a.tasks_failed = static_cast<uint64_t>(r[7].as<int64_t>());
  a.mean_latency_ms = r[8].as<double>();
  a.metadata_json = text_of(r[9]);
  a.created_at = r[10].as<int64_t>();
  a.updated_at = r[11].as<int64_t>();
  if (r.size() > 12)
    a.node_id = text_of(r[12]);
  return a;
}

result<task_event> read_event(const pqxx::row& r) {
  task_event e;
  e.task_id = text_of(r[0]);
  if (!from_string(text_of(r[1]), e.status))
    return bad_column("task_events", e.task_id, "status");
  e.at = r[2].as<int64_t>();
  e.attempt = to_u32(r[3].as<int64_t>());
  e.agent_id = text_of(r[4]);
  e.detail = text_of(r[5]);
  return e;
}

/// The one task a query by a unique column found, if any.
result<std::optional<task_record>> first_task(const pqxx::result& rows) {
  if (rows.empty())
    return std::optional<task_record>{};
  auto t = read_task(rows[0]);
  if (!t)
    return std::move(t).err();
  return std::optional<task_record>{std::move(*t)};
}

template <class Row, class Read>
result<std::vector<Row>> collect(const pqxx::result& rows, Read read) {
  std::vector<Row> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    auto row = read(r);
    if (!row)
      return std::move(row).err();
    out.push_back(std::move(*row));
  }
  return out;
}

result<unit_t> migrate(pqxx::connection& conn) {
  pqxx::work txn{conn};
  // One process at a time: the others wait here, then find the work done.
  txn.exec("SELECT pg_advisory_xact_lock(" + std::to_string(migration_lock_key) + ")");
  txn.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
           " version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
  auto version = txn.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].as<int>();
  const auto& steps = pg_migrations();
  int known = steps.empty() ? 0 : steps.back().version;
  if (version > known)
    return make_error(errc::store_unavailable,
                      "the database has schema version " + std::to_string(version)
                        + " but this build knows only up to " + std::to_string(known));
  for (const auto& step : steps) {
    if (step.version <= version)
      continue;
    txn.exec(std::string{step.sql});
    txn.exec_params("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    step.version, runtime::system_clock::instance().now());
  }
  txn.commit();
  return unit;
}

/// Runs `fn(lease)` on a pooled connection, turning libpqxx exceptions into store errors and
/// retiring a connection that broke.
///
/// A connection found broken before anything was committed (the server restarted since it was
/// pooled, say) is retried once on a fresh connection; a failure while committing (in doubt)
/// is not, since the batch may have been stored.
template <class Fn>
auto with_connection(pg_pool& pool, std::string_view what, Fn fn) -> decltype(fn(
  std::declval<pg_lease&>())) {
  for (int attempt = 0;; ++attempt) {
    auto lease = pool.acquire();
    if (!lease)
      return std::move(lease).err();
    try {
      return fn(*lease);
    } catch (const pqxx::in_doubt_error& e) {
      bool broken = false;
      auto err = pg_failure(e, what, broken);
      lease->broken();
      return err;
    } catch (const pqxx::broken_connection& e) {
      lease->broken();
      pool.discard_idle(); // the retry gets a fresh connection, not another stale one
      if (attempt == 0)
        continue;
      bool broken = false;
      return pg_failure(e, what, broken);
    } catch (const std::exception& e) {
      bool broken = false;
      auto err = pg_failure(e, what, broken);
      if (broken)
        lease->broken();
      return err;
    }
  }
}

} // namespace

postgres_store::postgres_store(std::unique_ptr<pg_pool> pool, std::string node_id)
  : pool_(std::move(pool)), node_id_(std::move(node_id)) {}

postgres_store::~postgres_store() = default;

result<std::unique_ptr<postgres_store>> postgres_store::open(pg_pool_options opts,
                                                             std::string node_id) {
  auto pool = std::make_unique<pg_pool>(std::move(opts));
  if (auto ok = pool->warm_up(); !ok)
    return std::move(ok).err();
  auto migrated = with_connection(*pool, "cannot migrate the PostgreSQL schema",
                                  [](pg_lease& lease) { return migrate(lease.conn()); });
  if (!migrated)
    return std::move(migrated).err();
  return std::unique_ptr<postgres_store>{new postgres_store(std::move(pool), std::move(node_id))};
}

result<unit_t> postgres_store::apply(const write_batch& batch) {
  if (batch.empty())
    return unit;
  return with_connection(*pool_, "cannot store a batch in PostgreSQL",
                         [&](pg_lease& lease) -> result<unit_t> {
    auto& conn = lease.conn();
    if (!lease.session().writer_ready) {
      conn.prepare("hive_upsert_tasks", upsert_tasks_sql);
      conn.prepare("hive_upsert_agent", upsert_agent_sql);
      conn.prepare("hive_delete_agent", "DELETE FROM agents WHERE id = $1");
      lease.session().writer_ready = true;
    }
    pqxx::work txn{conn};
    if (!batch.tasks.empty()) {
      std::array<array_literal, 19> col;
      rapidjson::StringBuffer json;
      for (const auto& t : batch.tasks) {
        col[0].text(t.id);
        col[1].text(t.type);
        col[2].text(t.description);
        col[3].text(t.payload_json);
        col[4].number(static_cast<int64_t>(t.priority));
        write_json(t.required_capabilities, json);
        col[5].text({json.GetString(), json.GetSize()});
        write_json(t.depends_on, json);
        col[6].text({json.GetString(), json.GetSize()});
        col[7].number(t.timeout_ms);
        col[8].number(t.max_retries);
        col[9].text(t.idempotency_key);
        col[10].text(to_string(t.status));
        col[11].number(t.attempts);
        col[12].text(t.agent_id);
        col[13].text(t.result_json);
        col[14].text(t.error);
        col[15].number(t.created_at);
        col[16].number(t.updated_at);
        col[17].number(t.started_at);
        col[18].number(t.finished_at);
      }
      std::vector<std::string> params;
      params.reserve(col.size());
      for (auto& c : col)
        params.push_back(c.finish());
      params.push_back(node_id_);
      txn.exec_prepared("hive_upsert_tasks", pqxx::prepare::make_dynamic_params(params));
    }
    if (!batch.events.empty()) {
      pqxx::stream_to out{txn, "task_events",
                          std::vector<std::string>{"task_id", "status", "at", "attempt",
                                                   "agent_id", "detail"}};
      for (const auto& e : batch.events)
        out << std::make_tuple(pg_text(e.task_id), std::string{to_string(e.status)}, e.at,
                               int64_t{e.attempt}, pg_text(e.agent_id), pg_text(e.detail));
      out.complete();
    }
    rapidjson::StringBuffer caps;
    for (const auto& a : batch.agents) {
      write_json(a.capabilities, caps);
      txn.exec_prepared("hive_upsert_agent", pg_text(a.id), pg_text(a.name),
                        std::string{to_string(a.type)}, json_text(caps),
                        int64_t{a.max_concurrency}, std::string{to_string(a.state)},
                        static_cast<int64_t>(a.tasks_completed),
                        static_cast<int64_t>(a.tasks_failed), a.mean_latency_ms,
                        pg_text(a.metadata_json), a.created_at, a.updated_at,
                        pg_text(a.node_id));
    }
    for (const auto& id : batch.deleted_agents)
      txn.exec_prepared("hive_delete_agent", pg_text(id));
    txn.commit();
    return unit;
  });
}

result<std::optional<task_record>> postgres_store::find_task(std::string_view id) {
  return with_connection(*pool_, "cannot read a task from PostgreSQL",
                         [&](pg_lease& lease) -> result<std::optional<task_record>> {
    pqxx::nontransaction tx{lease.conn()};
    return first_task(
      tx.exec_params("SELECT " + task_columns + " FROM tasks WHERE id = $1", pg_text(id)));
  });
}

result<std::optional<task_record>> postgres_store::find_task_by_key(std::string_view key) {
  if (key.empty())
    return std::optional<task_record>{};
  return with_connection(*pool_, "cannot read a task from PostgreSQL",
                         [&](pg_lease& lease) -> result<std::optional<task_record>> {
    pqxx::nontransaction tx{lease.conn()};
    return first_task(tx.exec_params(
      "SELECT " + task_columns + " FROM tasks WHERE idempotency_key = $1", pg_text(key)));
  });
}

result<std::vector<task_record>> postgres_store::list_tasks(const task_filter& filter) {
  // Only the filters present go into the statement (so each can use its index); every
  // parameter is text and cast where needed.
  std::vector<std::string> params{pg_text(filter.after_id)};
  std::string sql = "SELECT " + task_columns + " FROM tasks WHERE id > $1";
  auto add = [&](std::string condition, std::string value) {
    params.push_back(std::move(value));
    auto n = "$" + std::to_string(params.size());
    auto at = condition.find('?');
    condition.replace(at, 1, n);
    sql += " AND " + condition;
  };
  if (filter.status)
    add("status = ?", std::string{to_string(*filter.status)});
  if (filter.type)
    add("type = ?", pg_text(*filter.type));
  if (filter.agent_id)
    add("agent_id = ?", pg_text(*filter.agent_id));
  if (filter.capability)
    add("required_capabilities::jsonb @> jsonb_build_array(jsonb_build_object('name', "
        "?::text))",
        pg_text(*filter.capability));
  params.push_back(std::to_string(std::min<size_t>(filter.limit, INT64_MAX)));
  sql += " ORDER BY id LIMIT $" + std::to_string(params.size()) + "::bigint";
  return with_connection(*pool_, "cannot list tasks in PostgreSQL",
                         [&](pg_lease& lease) -> result<std::vector<task_record>> {
    pqxx::nontransaction tx{lease.conn()};
    auto rows = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
    return collect<task_record>(rows, read_task);
  });
}

result<std::vector<task_event>> postgres_store::task_events(std::string_view task_id) {
  return with_connection(*pool_, "cannot read task events from PostgreSQL",
                         [&](pg_lease& lease) -> result<std::vector<task_event>> {
    pqxx::nontransaction tx{lease.conn()};
    auto rows = tx.exec_params(
      "SELECT " + event_columns + " FROM task_events WHERE task_id = $1 ORDER BY seq",
      pg_text(task_id));
    return collect<task_event>(rows, read_event);
  });
}

result<std::vector<task_record>> postgres_store::unfinished_tasks() {
  return with_connection(*pool_, "cannot read unfinished tasks from PostgreSQL",
                         [&](pg_lease& lease) -> result<std::vector<task_record>> {
    pqxx::nontransaction tx{lease.conn()};
    if (node_id_.empty()) {
      auto rows = tx.exec("SELECT " + task_columns
                          + " FROM tasks WHERE status IN ('pending', 'queued', 'running')"
                            " ORDER BY id");
      return collect<task_record>(rows, read_task);
    }
    // This node's own, and those no node owns yet (stored before cluster mode): one
    // statement, so two nodes starting at once never both take one.
    auto rows = tx.exec_params("UPDATE tasks SET owner_node = $1"
                               " WHERE status IN ('pending', 'queued', 'running')"
                               " AND (owner_node = $1 OR owner_node IS NULL) RETURNING "
                                 + task_columns,
                               node_id_);
    auto tasks = collect<task_record>(rows, read_task);
    if (tasks)
      std::sort(tasks->begin(), tasks->end(),
                [](const task_record& a, const task_record& b) { return a.id < b.id; });
    return tasks;
  });
}

result<std::vector<std::pair<std::string, std::string>>> postgres_store::idempotency_keys() {
  using key_row = std::pair<std::string, std::string>;
  return with_connection(*pool_, "cannot read idempotency keys from PostgreSQL",
                         [&](pg_lease& lease) -> result<std::vector<key_row>> {
    pqxx::nontransaction tx{lease.conn()};
    auto rows = tx.exec("SELECT id, idempotency_key FROM tasks"
                        " WHERE idempotency_key IS NOT NULL ORDER BY id");
    std::vector<key_row> out;
    out.reserve(rows.size());
    for (const auto& r : rows)
      out.emplace_back(text_of(r[0]), text_of(r[1]));
    return out;
  });
}

result<task_counts> postgres_store::count_tasks() {
  return with_connection(*pool_, "cannot count tasks in PostgreSQL",
                         [&](pg_lease& lease) -> result<task_counts> {
    pqxx::nontransaction tx{lease.conn()};
    auto rows = tx.exec("SELECT status, count(*) FROM tasks GROUP BY status");
    task_counts counts{};
    for (const auto& r : rows) {
      task_status status;
      auto name = text_of(r[0]);
      if (!from_string(name, status))
        return make_error(errc::internal, "tasks has an unknown status '" + name + "'");
      counts[static_cast<size_t>(status)] = r[1].as<uint64_t>();
    }
    return counts;
  });
}

result<std::vector<agent_record>> postgres_store::load_agents() {
  return with_connection(*pool_, "cannot read agents from PostgreSQL",
                         [&](pg_lease& lease) -> result<std::vector<agent_record>> {
    pqxx::nontransaction tx{lease.conn()};
    if (node_id_.empty()) {
      auto rows = tx.exec("SELECT " + agent_columns + ", node_id FROM agents ORDER BY id");
      return collect<agent_record>(rows, read_agent);
    }
    // The agents that live on this node (those stored before cluster mode come here).
    tx.exec_params("UPDATE agents SET node_id = $1 WHERE node_id IS NULL", node_id_);
    auto rows = tx.exec_params("SELECT " + agent_columns
                                 + ", node_id FROM agents WHERE node_id = $1 ORDER BY id",
                               node_id_);
    return collect<agent_record>(rows, read_agent);
  });
}

result<unit_t> postgres_store::ping() {
  return with_connection(*pool_, "PostgreSQL does not answer",
                         [&](pg_lease& lease) -> result<unit_t> {
    pqxx::nontransaction tx{lease.conn()};
    tx.exec("SELECT 1 FROM schema_migrations LIMIT 1");
    return unit;
  });
}

result<bool> postgres_store::renew_lease(uint32_t ttl_ms) {
  if (node_id_.empty())
    return store::renew_lease(ttl_ms);
  return with_connection(*pool_, "cannot renew this node's lease in PostgreSQL",
                         [&](pg_lease& lease) -> result<bool> {
    pqxx::work tx{lease.conn()};
    auto held = tx.exec_params("SELECT expires_at > clock_timestamp() FROM node_leases"
                               " WHERE node_id = $1 FOR UPDATE",
                               node_id_);
    tx.exec_params("INSERT INTO node_leases (node_id, expires_at)"
                   " VALUES ($1, clock_timestamp() + $2 * interval '1 millisecond')"
                   " ON CONFLICT (node_id) DO UPDATE SET expires_at = excluded.expires_at",
                   node_id_, static_cast<int64_t>(ttl_ms));
    tx.commit();
    return !held.empty() && held[0][0].as<bool>();
  });
}

result<bool> postgres_store::take_finished_task(std::string_view id) {
  if (node_id_.empty())
    return true;
  return with_connection(*pool_, "cannot take a task over in PostgreSQL",
                         [&](pg_lease& lease) -> result<bool> {
    pqxx::work tx{lease.conn()};
    // Queued at once, so that a second node retrying it meanwhile finds it unfinished.
    auto rows = tx.exec_params("UPDATE tasks SET owner_node = $1, status = 'queued'"
                               " WHERE id = $2 AND status IN ('failed', 'dead', 'cancelled')"
                               " RETURNING id",
                               node_id_, pg_text(id));
    tx.commit();
    return !rows.empty();
  });
}

result<orphan_claim> postgres_store::claim_orphans(const std::vector<std::string>& alive) {
  if (node_id_.empty())
    return store::claim_orphans(alive);
  return with_connection(*pool_, "cannot take over the tasks of lost nodes in PostgreSQL",
                         [&](pg_lease& lease) -> result<orphan_claim> {
    pqxx::work tx{lease.conn()};
    // Lock the expired leases: a node renewing its lease meanwhile waits for this transaction
    // (and then finds its tasks gone), and another survivor skips them.
    array_literal keep;
    keep.text(node_id_);
    for (const auto& n : alive)
      keep.text(n);
    auto lost = tx.exec_params("SELECT node_id FROM node_leases"
                               " WHERE node_id <> ALL($1::text[])"
                               " AND expires_at < clock_timestamp() FOR UPDATE SKIP LOCKED",
                               keep.finish());
    orphan_claim out;
    for (const auto& r : lost)
      out.from_nodes.push_back(text_of(r[0]));
    if (out.from_nodes.empty())
      return out;
    array_literal nodes;
    for (const auto& n : out.from_nodes)
      nodes.text(n);
    auto rows = tx.exec_params("UPDATE tasks SET owner_node = $1"
                               " WHERE owner_node = ANY($2::text[])"
                               " AND status IN ('pending', 'queued', 'running') RETURNING "
                                 + task_columns,
                               node_id_, nodes.finish());
    auto tasks = collect<task_record>(rows, read_task);
    if (!tasks)
      return std::move(tasks).err();
    tx.commit();
    out.tasks = std::move(*tasks);
    std::sort(out.tasks.begin(), out.tasks.end(),
              [](const task_record& a, const task_record& b) { return a.id < b.id; });
    return out;
  });
}

size_t postgres_store::concurrent_writers() const noexcept {
  return std::clamp<size_t>(pool_->options().max_connections / 8, 1, 4);
}

result<unit_t> postgres_store::put_object(const stored_object& object) {
  return with_connection(*pool_, "cannot store " + object.kind + " '" + object.name
                                   + "' in PostgreSQL",
                         [&](pg_lease& lease) -> result<unit_t> {
    pqxx::work tx{lease.conn()};
    tx.exec_params("INSERT INTO objects (kind, name, body, meta, updated_at)"
                   " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, name) DO UPDATE"
                   " SET body = excluded.body, meta = excluded.meta,"
                   " updated_at = excluded.updated_at",
                   pg_text(object.kind), pg_text(object.name), pg_text(object.body),
                   pg_text(object.meta), object.updated_at);
    tx.commit();
    return unit;
  });
}

result<bool> postgres_store::delete_object(std::string_view kind, std::string_view name) {
  return with_connection(*pool_, "cannot delete an object in PostgreSQL",
                         [&](pg_lease& lease) -> result<bool> {
    pqxx::work tx{lease.conn()};
    auto gone = tx.exec_params("DELETE FROM objects WHERE kind = $1 AND name = $2",
                               pg_text(kind), pg_text(name));
    tx.commit();
    return gone.affected_rows() > 0;
  });
}

result<std::optional<stored_object>> postgres_store::find_object(std::string_view kind,
                                                                 std::string_view name) {
  return with_connection(*pool_, "cannot read an object from PostgreSQL",
                         [&](pg_lease& lease) -> result<std::optional<stored_object>> {
    pqxx::nontransaction tx{lease.conn()};
    auto rows = tx.exec_params("SELECT kind, name, body, meta, updated_at FROM objects"
                               " WHERE kind = $1 AND name = $2",
                               pg_text(kind), pg_text(name));
    if (rows.empty())
      return std::optional<stored_object>{};
    const auto& r = rows[0];
    return std::optional<stored_object>{stored_object{
      r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
      r[3].as<std::string>(), r[4].as<int64_t>()}};
  });
}

result<std::vector<stored_object>> postgres_store::list_objects(std::string_view kind) {
  return with_connection(*pool_, "cannot list objects in PostgreSQL",
                         [&](pg_lease& lease) -> result<std::vector<stored_object>> {
    pqxx::nontransaction tx{lease.conn()};
    std::vector<stored_object> out;
    for (const auto& r : tx.exec_params("SELECT kind, name, meta, updated_at FROM objects"
                                        " WHERE kind = $1 ORDER BY name",
                                        pg_text(kind)))
      out.push_back(stored_object{r[0].as<std::string>(), r[1].as<std::string>(), {},
                                  r[2].as<std::string>(), r[3].as<int64_t>()});
    return out;
  });
}

result<int> postgres_store::schema_version() {
  return with_connection(*pool_, "cannot read the schema version",
                         [&](pg_lease& lease) -> result<int> {
    pqxx::nontransaction tx{lease.conn()};
    return tx.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].as<int>();
  });
}

result<unit_t> postgres_store::truncate_all() {
  return with_connection(*pool_, "cannot empty the tables", [&](pg_lease& lease) -> result<unit_t> {
    pqxx::work tx{lease.conn()};
    tx.exec("TRUNCATE tasks, task_events, agents, objects RESTART IDENTITY");
    tx.commit();
    return unit;
  });
}

} // namespace hive::persistence::internal
