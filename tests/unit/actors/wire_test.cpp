// The messages that cross nodes survive CAF's serialization whole (what the io middleman does
// to them between two nodes).
#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/messages.hpp"
#include "actors/wire.hpp"

namespace hive::actors {
namespace {

class Wire : public ::testing::Test {
protected:
  static caf::actor_system_config& config() {
    static caf::actor_system_config cfg = [] {
      caf::actor_system_config c;
      register_wire_types(c);
      return c;
    }();
    return cfg;
  }

  Wire() : sys_{config()} {}

  /// `x` in a message, serialized and read back as the other node would.
  template <class T>
  T round_trip(T x) {
    auto msg = caf::make_message(std::move(x));
    std::vector<char> buf;
    caf::binary_serializer sink{sys_, buf};
    EXPECT_FALSE(sink(msg)) << "serializing failed";
    caf::message back;
    caf::binary_deserializer source{sys_, buf};
    EXPECT_FALSE(source(back)) << "deserializing failed";
    EXPECT_TRUE(back.match_elements<T>());
    return back.match_elements<T>() ? back.get_as<T>(0) : T{};
  }

  caf::actor_system sys_;
};

TEST_F(Wire, ARunsTaskAndItsResultCrossWhole) {
  task_record t;
  t.id = "t1";
  t.type = "echo";
  t.payload_json = R"({"x":1})";
  t.priority = priority::high;
  t.required_capabilities = {{"gpu", 0.7}};
  t.depends_on = {"t0"};
  t.status = task_status::running;
  t.attempts = 2;
  t.created_at = 123456789;
  auto back = round_trip(t);
  EXPECT_EQ(back.id, "t1");
  EXPECT_EQ(back.payload_json, t.payload_json);
  EXPECT_EQ(back.priority, priority::high);
  ASSERT_EQ(back.required_capabilities.size(), 1u);
  EXPECT_EQ(back.required_capabilities[0].name, "gpu");
  EXPECT_DOUBLE_EQ(back.required_capabilities[0].min_proficiency, 0.7);
  EXPECT_EQ(back.depends_on, t.depends_on);
  EXPECT_EQ(back.status, task_status::running);
  EXPECT_EQ(back.attempts, 2u);
  EXPECT_EQ(back.created_at, 123456789);

  auto res = round_trip(execution_result::failure("boom", false));
  EXPECT_FALSE(res.ok);
  EXPECT_EQ(res.error, "boom");
  EXPECT_FALSE(res.retryable);
  auto ok = round_trip(execution_result::success(R"({"y":2})", 40));
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.result_json, R"({"y":2})");
  EXPECT_EQ(ok.ready_after_ms, 40u);
}

TEST_F(Wire, AgentsPatchesAndRepliesCrossWhole) {
  remote_agent ra;
  ra.record.id = "a1";
  ra.record.name = "worker";
  ra.record.type = agent_type::specialist;
  ra.record.capabilities = {{"nlp", 0.8, 0.2}};
  ra.record.state = agent_state::working;
  ra.record.node_id = "n2";
  ra.load = 3;
  auto back = round_trip(std::vector<remote_agent>{ra});
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].record.name, "worker");
  EXPECT_EQ(back[0].record.type, agent_type::specialist);
  EXPECT_DOUBLE_EQ(back[0].record.capabilities[0].learning_rate, 0.2);
  EXPECT_EQ(back[0].record.state, agent_state::working);
  EXPECT_EQ(back[0].record.node_id, "n2");
  EXPECT_EQ(back[0].load, 3u);

  agent_patch p;
  p.name = "renamed";
  p.max_concurrency = 7;
  auto patch = round_trip(wire_patch::from(p)).to_patch();
  EXPECT_EQ(patch.name, std::optional<std::string>{"renamed"});
  EXPECT_EQ(patch.max_concurrency, std::optional<uint32_t>{7});
  EXPECT_FALSE(patch.state || patch.capabilities || patch.metadata_json);

  auto refused = round_trip(remote_reply::from(result<agent_record>{
    make_error(errc::invalid_field, "placement: no online node 'n9'", "placement")}));
  auto as_result = std::move(refused).to_result();
  ASSERT_FALSE(as_result);
  EXPECT_EQ(as_result.err().code, errc::invalid_field);
  EXPECT_EQ(as_result.err().field, "placement");

  task_record cancelled;
  cancelled.id = "t9";
  cancelled.status = task_status::cancelled;
  auto task = round_trip(remote_reply::from(result<task_record>{cancelled})).to_task_result();
  ASSERT_TRUE(task);
  EXPECT_EQ(task->status, task_status::cancelled);
}

} // namespace
} // namespace hive::actors
