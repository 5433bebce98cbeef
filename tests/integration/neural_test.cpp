// neural.train / neural.predict and the model and dataset endpoints, through a real server.
#include <cmath>
#include <string>

#include "inference/batch_eval.hpp"
#include "tests/integration/support.hpp"

namespace hive::test {
namespace {

// XOR: a network with a hidden layer learns it; a single layer cannot.
const std::string xor_data =
  R"({"inputs":[[0,0],[0,1],[1,0],[1,1]],"outputs":[[0],[1],[1],[0]]})";

class NeuralApi : public server_fixture {
protected:
  http_reply put(const std::string& target, const std::string& body) {
    return client->request("PUT", target, body, {{"Content-Type", "application/json"}});
  }

  /// Runs a task to its end; returns the task's JSON.
  rapidjson::Document run(const std::string& type, const std::string& payload) {
    auto id = submit(R"({"type":")" + type + R"(","payload":)" + payload + "}");
    return wait_terminal(id, std::chrono::seconds(30));
  }
};

TEST_F(NeuralApi, TrainOnAStoredDatasetThenPredict) {
  start();
  create_agent(R"({"name":"trainer","capabilities":[{"name":"ml"}]})");
  auto created = put("/api/datasets/xor", xor_data);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(put("/api/datasets/xor", xor_data).status, 200); // replaced
  auto listed = parse_json(get("/api/datasets").body);
  ASSERT_EQ(listed["datasets"].Size(), 1u);
  EXPECT_EQ(listed["datasets"][0]["info"]["rows"].GetInt(), 4);
  auto one = parse_json(get("/api/datasets/xor").body);
  EXPECT_EQ(one["data"]["outputs"][1][0].GetDouble(), 1.0);

  auto trained = run("neural.train", R"({"model":"xor","dataset":"xor","hidden_layers":[4],)"
                                     R"("epochs":2000,"target_error":0.001,"seed":3})");
  ASSERT_EQ(str(trained, "status"), "completed") << str(trained, "error");
  const auto& result = trained["result"];
  EXPECT_TRUE(result["reached_target"].GetBool());
  EXPECT_LE(result["final_error"].GetDouble(), 0.001);
  // The curve falls: its last point is far below its first.
  const auto& curve = result["training_curve"];
  ASSERT_GE(curve.Size(), 2u);
  EXPECT_EQ(curve[0][0].GetInt(), 1);
  EXPECT_EQ(curve[curve.Size() - 1][0].GetInt(), result["epochs"].GetInt());
  EXPECT_LT(curve[curve.Size() - 1][1].GetDouble(), curve[0][1].GetDouble() / 10);

  auto predicted = run("neural.predict", R"({"model":"xor","inputs":[[0,0],[0,1],[1,0],[1,1]]})");
  ASSERT_EQ(str(predicted, "status"), "completed") << str(predicted, "error");
  const auto& out = predicted["result"]["outputs"];
  ASSERT_EQ(out.Size(), 4u);
  EXPECT_LT(out[0][0].GetDouble(), 0.2);
  EXPECT_GT(out[1][0].GetDouble(), 0.8);
  EXPECT_GT(out[2][0].GetDouble(), 0.8);
  EXPECT_LT(out[3][0].GetDouble(), 0.2);

  auto models = parse_json(get("/api/models").body);
  ASSERT_EQ(models["models"].Size(), 1u);
  EXPECT_EQ(str(models["models"][0], "name"), "xor");
  EXPECT_EQ(models["models"][0]["info"]["layers"][1].GetInt(), 4);
  EXPECT_EQ(get("/api/models/xor").status, 200);
}

TEST_F(NeuralApi, ModelsSurviveARestart) {
  start();
  create_agent(R"({"name":"trainer"})");
  auto trained = run("neural.train", R"({"model":"inline","dataset":)" + xor_data
                                       + R"(,"layers":[2,6,1],"epochs":3000,"seed":1})");
  ASSERT_EQ(str(trained, "status"), "completed") << str(trained, "error");
  auto before = run("neural.predict", R"({"model":"inline","input":[1,0]})");
  ASSERT_EQ(str(before, "status"), "completed");
  restart();
  auto after = run("neural.predict", R"({"model":"inline","input":[1,0]})");
  ASSERT_EQ(str(after, "status"), "completed") << str(after, "error");
  EXPECT_EQ(before["result"]["output"][0].GetDouble(), after["result"]["output"][0].GetDouble());
}

TEST_F(NeuralApi, BadRequestsFailWithReasons) {
  start();
  create_agent(R"({"name":"trainer"})");
  auto failed = [&](const std::string& type, const std::string& payload) {
    auto t = run(type, payload);
    EXPECT_EQ(str(t, "status"), "failed") << payload; // not retryable: failed at once
    return str(t, "error");
  };
  EXPECT_NE(failed("neural.train", R"({"model":"m","dataset":"nope"})").find("no dataset named 'nope'"),
            std::string::npos);
  EXPECT_NE(failed("neural.train", R"({"model":"hive.routing","dataset":{"inputs":[[1]],"outputs":[[1]]}})")
              .find("payload.model must not start with 'hive.'"),
            std::string::npos);
  EXPECT_NE(failed("neural.train", R"({"model":"m","dataset":{"inputs":[[1],[2]],"outputs":[[1]]}})")
              .find("rows"),
            std::string::npos);
  EXPECT_NE(failed("neural.train", R"({"model":"m","dataset":{"inputs":[[1]],"outputs":[[1]]},"layers":[3,1]})")
              .find("payload.layers must start with the data's 1 inputs"),
            std::string::npos);
  EXPECT_NE(failed("neural.predict", R"({"model":"missing","input":[1]})").find("no model named 'missing'"),
            std::string::npos);

  auto ragged = put("/api/datasets/bad", R"({"inputs":[[1,2],[3]],"outputs":[[1],[0]]})");
  EXPECT_EQ(ragged.status, 422);
  EXPECT_EQ(str(parse_json(ragged.body)["error"], "field"), "body.inputs[1]");
  EXPECT_EQ(put("/api/datasets/bad", "{not json").status, 400);
  EXPECT_EQ(put("/api/datasets/sp%20ace", xor_data).status, 422);
  EXPECT_EQ(get("/api/models/none").status, 404);
  EXPECT_EQ(del("/api/datasets/none").status, 404);
  ASSERT_EQ(put("/api/datasets/gone", xor_data).status, 201);
  EXPECT_EQ(del("/api/datasets/gone").status, 204);
  EXPECT_EQ(get("/api/datasets/gone").status, 404);
  EXPECT_EQ(del("/api/models/hive.routing").status, 409);
}

} // namespace
} // namespace hive::test

namespace hive::test {
namespace {

TEST_F(NeuralApi, StatusSaysWhichPathRoutes) {
  start(); // the default mode: auto
  auto st = parse_json(get("/api/hive/status").body);
  auto gpu = inference::probe_gpu();
  if (gpu.usable) {
    EXPECT_EQ(str(st, "routing"), "learned (FANN, GPU: " + gpu.description + ")");
    EXPECT_EQ(str(st, "accelerator"), gpu.description);
  } else {
    EXPECT_EQ(str(st, "routing"), "learned (FANN, CPU)");
    EXPECT_EQ(str(st, "accelerator"), "none (" + gpu.description + ")");
  }
}

} // namespace
} // namespace hive::test
