// JSON codecs: what the API accepts, what it refuses (naming the field) and what it writes.
#include "net/json_codec.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "net/error_mapping.hpp"

using namespace hive;
using namespace hive::net;

TEST(JsonCodec, DecodesAFullTask) {
  auto t = decode_task(R"({"type":"nlp.analyze","description":"d","payload":{"text":"hi"},
    "priority":"HIGH","required_capabilities":[{"name":"nlp","min_proficiency":0.5},"vision"],
    "depends_on":["01a21dff-e84b-7000-b9cb-07fa78f68b04"],"timeout_ms":500,"max_retries":2,
    "idempotency_key":"k1"})");
  ASSERT_TRUE(t.ok()) << t.err().message;
  EXPECT_EQ(t->type, "nlp.analyze");
  EXPECT_EQ(t->priority, priority::high);
  ASSERT_EQ(t->required_capabilities.size(), 2u);
  EXPECT_DOUBLE_EQ(t->required_capabilities[0].min_proficiency, 0.5);
  EXPECT_EQ(t->required_capabilities[1].name, "vision");
  EXPECT_EQ(t->payload_json, R"({"text":"hi"})");
  EXPECT_EQ(t->timeout_ms, 500u);
  EXPECT_EQ(t->max_retries, 2u);
  EXPECT_EQ(t->idempotency_key, "k1");
}

TEST(JsonCodec, AcceptsThePredecessorsBody) {
  auto t = decode_task(R"({"description":"Load test task","type":"test","priority":"low"})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->priority, priority::low);
  EXPECT_EQ(t->payload_json, "{}");
  auto numeric = decode_task(R"({"type":"echo","priority":2})");
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->priority, priority::high);
}

TEST(JsonCodec, RefusesBadTasksNamingTheField) {
  struct expect {
    const char* body;
    errc code;
    const char* field;
  };
  for (const auto& e : std::vector<expect>{
         {"", errc::malformed_json, ""},
         {"{", errc::malformed_json, ""},
         {"[1]", errc::malformed_json, ""},
         {R"({})", errc::invalid_field, "type"},
         {R"({"type":7})", errc::invalid_field, "type"},
         {R"({"type":"echo","priority":"urgent"})", errc::invalid_field, "priority"},
         {R"({"type":"echo","priority":9})", errc::invalid_field, "priority"},
         {R"({"type":"echo","payload":"x"})", errc::invalid_field, "payload"},
         {R"({"type":"echo","timeout_ms":0})", errc::invalid_field, "timeout_ms"},
         {R"({"type":"echo","timeout_ms":-5})", errc::invalid_field, "timeout_ms"},
         {R"({"type":"echo","max_retries":1000})", errc::invalid_field, "max_retries"},
         {R"({"type":"echo","depends_on":"x"})", errc::invalid_field, "depends_on"},
         {R"({"type":"echo","required_capabilities":[{"min_proficiency":0.5}]})",
          errc::invalid_field, "required_capabilities[0].name"},
         {R"({"type":"echo","required_capabilities":[{"name":"a","min_proficiency":2}]})",
          errc::invalid_field, "required_capabilities[0].min_proficiency"},
       }) {
    auto t = decode_task(e.body);
    ASSERT_FALSE(t.ok()) << e.body;
    EXPECT_EQ(t.err().code, e.code) << e.body;
    EXPECT_EQ(t.err().field, e.field) << e.body;
  }
}

TEST(JsonCodec, IdempotencyKeyFromHeaderOrBody) {
  auto t = decode_task(R"({"type":"echo"})", "hdr");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->idempotency_key, "hdr");
  auto clash = decode_task(R"({"type":"echo","idempotency_key":"body"})", "hdr");
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.err().field, "idempotency_key");
}

TEST(JsonCodec, BatchNamesTheFailingItem) {
  auto ok = decode_task_batch(R"({"tasks":[{"type":"echo"},{"type":"sleep"}]})", 10);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
  auto bad = decode_task_batch(R"([{"type":"echo"},{"priority":"low"}])", 10);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.err().field, "tasks[1].type");
  auto big = decode_task_batch(R"([{"type":"echo"},{"type":"echo"},{"type":"echo"}])", 2);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.err().field, "tasks");
}

TEST(JsonCodec, DecodesAgentsWithAliasesAndDefaults) {
  auto a = decode_agent(R"({"name":"w","agent_type":"Specialist","capabilities":["nlp",
    {"name":"vision","proficiency":0.8,"learning_rate":0.2}],"max_concurrency":3,
    "metadata":{"zone":"eu"}})");
  ASSERT_TRUE(a.ok()) << a.err().message;
  EXPECT_EQ(a->type, agent_type::specialist);
  ASSERT_EQ(a->capabilities.size(), 2u);
  EXPECT_DOUBLE_EQ(a->capabilities[0].proficiency, 0.5);
  EXPECT_DOUBLE_EQ(a->capabilities[1].learning_rate, 0.2);
  EXPECT_EQ(a->max_concurrency, 3u);
  EXPECT_EQ(a->metadata_json, R"({"zone":"eu"})");
  EXPECT_FALSE(decode_agent(R"({"name":""})").ok());
  EXPECT_EQ(decode_agent(R"({"name":"x","capabilities":["a","a"]})").err().field,
            "capabilities[1].name");
  EXPECT_EQ(decode_agent(R"({"name":"x","max_concurrency":0})").err().field, "max_concurrency");
  EXPECT_EQ(decode_agent(R"({"name":"x","state":"working"})").err().field, "state");
}

TEST(JsonCodec, AgentPatchRefusesImmutableFields) {
  auto p = decode_agent_patch(R"({"state":"paused","max_concurrency":2})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->state, agent_state::paused);
  EXPECT_FALSE(p->name.has_value());
  EXPECT_EQ(decode_agent_patch(R"({"type":"learner"})").err().field, "type");
  EXPECT_EQ(decode_agent_patch(R"({"state":"offline"})").err().field, "state");
}

TEST(JsonCodec, EncodesTasksAsValidJson) {
  task_record t;
  t.id = "01a21dff-e84b-7000-b9cb-07fa78f68b04";
  t.type = "echo";
  t.description = "quote \" and newline \n";
  t.payload_json = R"({"a":1})";
  t.result_json = R"({"a":1})";
  t.status = task_status::completed;
  t.created_at = 1'700'000'000'123;
  rapidjson::Document d;
  d.Parse(encode_task(t).c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["description"].GetString(), "quote \" and newline \n");
  EXPECT_EQ(d["payload"]["a"].GetInt(), 1);
  EXPECT_EQ(d["result"]["a"].GetInt(), 1);
  EXPECT_STREQ(d["status"].GetString(), "completed");
  EXPECT_STREQ(d["created_at"].GetString(), "2023-11-14T22:13:20.123Z");
  EXPECT_TRUE(d["finished_at"].IsNull());
  EXPECT_TRUE(d["idempotency_key"].IsNull());
}

TEST(ErrorMapping, StatusesAndBody) {
  EXPECT_EQ(http_status(errc::malformed_json), 400u);
  EXPECT_EQ(http_status(errc::invalid_field), 422u);
  EXPECT_EQ(http_status(errc::unknown_task_type), 422u);
  EXPECT_EQ(http_status(errc::illegal_state), 409u);
  EXPECT_EQ(http_status(errc::queue_full), 503u);
  auto res = error_response(make_error(errc::queue_full, "full"), "req-1");
  EXPECT_EQ(res.status, 503u);
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0].first, "Retry-After");
  rapidjson::Document d;
  d.Parse(res.body.c_str());
  EXPECT_STREQ(d["error"]["code"].GetString(), "queue_full");
  EXPECT_STREQ(d["error"]["request_id"].GetString(), "req-1");
}

TEST(JsonCodec, DeepNestingIsRefusedWithoutExhaustingTheStack) {
  std::string deep(500000, '[');
  deep += std::string(500000, ']');
  auto bare = decode_task(deep);
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.err().code, errc::malformed_json);

  std::string payload;
  for (int i = 0; i < 100000; ++i)
    payload += R"({"a":)";
  payload += "1";
  payload += std::string(100000, '}');
  auto t = decode_task(R"({"type":"echo","payload":)" + payload + "}");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.err().field, "payload");
  EXPECT_NE(t.err().message.find("deeper than 64"), std::string::npos);

  std::string ok_payload;
  for (int i = 0; i < 60; ++i)
    ok_payload += R"({"a":)";
  ok_payload += "1" + std::string(60, '}');
  EXPECT_TRUE(decode_task(R"({"type":"echo","payload":)" + ok_payload + "}").ok());
  auto meta = decode_agent(R"({"name":"x","metadata":)" + payload + "}");
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.err().field, "metadata");
}

TEST(JsonCodec, RefusesInvalidUtf8AndControlCharactersInNames) {
  // Raw bytes that are not UTF-8 (a lone continuation byte) never reach the store.
  std::string bad_bytes = "{\"type\":\"echo\",\"description\":\"caf\x80\"}";
  auto a = decode_task(bad_bytes);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.err().code, errc::malformed_json);
  // A lone surrogate escape is not a character either.
  EXPECT_FALSE(decode_task(R"({"type":"echo","description":"\udc00"})"));
  // Valid non-ASCII text passes.
  EXPECT_TRUE(decode_task("{\"type\":\"echo\",\"description\":\"caf\xc3\xa9 \xe2\x9c\x93\"}"));
  // Capability names are identifiers.
  auto b = decode_task(R"({"type":"echo","required_capabilities":[{"name":"a\u0000"}]})");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.err().field, "required_capabilities[0].name");
  auto c = decode_agent(R"({"name":"w","capabilities":[{"name":"x\ny"}]})");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.err().field, "capabilities[0].name");
}
