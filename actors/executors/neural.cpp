// neural.train and neural.predict: networks trained from inline or stored datasets, kept in
// the store by name.
#include <algorithm>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "actors/executor.hpp"
#include "actors/internal/dataset_json.hpp"
#include "actors/neural_library.hpp"
#include "inference/batch_eval.hpp"
#include "runtime/clock.hpp"

namespace hive::actors {
namespace {

constexpr unsigned default_epochs = 500;
constexpr unsigned max_epochs = 100'000;
constexpr size_t max_hidden_layers = 8;
constexpr unsigned max_layer_size = 1024;
constexpr size_t curve_points = 200; ///< training_curve entries at most
constexpr size_t max_predict_values = 10'000'000;
constexpr size_t default_max_values = 10'000'000; ///< numbers in an inline training dataset

using value = rapidjson::Value;

execution_result refuse(std::string why) {
  return execution_result::failure(std::move(why), false);
}

/// A store failure may pass (the database comes back): worth a retry.
execution_result store_failure(const error& err) {
  return execution_result::failure(err.message, err.code == errc::store_unavailable);
}

bool parse_object(const std::string& text, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return !doc.HasParseError() && doc.IsObject();
}

/// payload.model: a valid name.
result<std::string> model_name(const rapidjson::Document& doc, bool allow_reserved) {
  auto it = doc.FindMember("model");
  if (it == doc.MemberEnd() || !it->value.IsString())
    return make_error(errc::invalid_field, "payload.model must name the model", "payload.model");
  std::string name{it->value.GetString(), it->value.GetStringLength()};
  if (auto ok = check_object_name(name, "payload.model", allow_reserved); !ok)
    return std::move(ok).err();
  return name;
}

/// The training data: payload.dataset is a stored dataset's name or the data itself.
result<inference::dataset> training_data(const rapidjson::Document& doc, persistence::store& db) {
  auto it = doc.FindMember("dataset");
  if (it == doc.MemberEnd())
    return make_error(errc::invalid_field,
                      "payload.dataset must name a stored dataset or hold "
                      "{\"inputs\": [[...]], \"outputs\": [[...]]}",
                      "payload.dataset");
  if (it->value.IsObject())
    return internal::dataset_from(it->value, "payload.dataset", default_max_values);
  if (!it->value.IsString())
    return make_error(errc::invalid_field,
                      "payload.dataset must be a dataset name or an object", "payload.dataset");
  std::string name{it->value.GetString(), it->value.GetStringLength()};
  if (auto ok = check_object_name(name, "payload.dataset", true); !ok)
    return std::move(ok).err();
  auto found = db.find_object(dataset_kind, name);
  if (!found)
    return std::move(found).err();
  if (!found->has_value())
    return make_error(errc::not_found, "no dataset named '" + name + "'", "payload.dataset");
  return decode_dataset((*found)->body, "dataset '" + name + "'");
}

result<inference::activation> activation_of(const rapidjson::Document& doc, const char* key,
                                            inference::activation fallback) {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd())
    return fallback;
  inference::activation a = fallback;
  if (!it->value.IsString() || !inference::from_string(it->value.GetString(), a))
    return make_error(errc::invalid_field,
                      std::string{"payload."} + key
                        + " must be one of linear, sigmoid, sigmoid_symmetric, gaussian, elliot",
                      std::string{"payload."} + key);
  return a;
}

result<unsigned> whole_number(const rapidjson::Document& doc, const char* key, unsigned fallback,
                              unsigned low, unsigned high) {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd())
    return fallback;
  if (!it->value.IsUint() || it->value.GetUint() < low || it->value.GetUint() > high)
    return make_error(errc::invalid_field,
                      std::string{"payload."} + key + " must be a whole number from "
                        + std::to_string(low) + " to " + std::to_string(high),
                      std::string{"payload."} + key);
  return it->value.GetUint();
}

/// Layer sizes: payload.layers (every layer, input and output included, which must match the
/// data) or payload.hidden_layers (between them); by default one hidden layer of twice the
/// inputs (4 to 64 neurons).
result<std::vector<unsigned>> layer_sizes(const rapidjson::Document& doc,
                                          const inference::dataset& data) {
  auto in = static_cast<unsigned>(data.inputs);
  auto out = static_cast<unsigned>(data.outputs);
  auto read = [](const value& v, const std::string& field) -> result<std::vector<unsigned>> {
    std::vector<unsigned> sizes;
    if (!v.IsArray() || v.Size() > max_hidden_layers + 2)
      return make_error(errc::invalid_field,
                        field + " must be an array of at most "
                          + std::to_string(max_hidden_layers + 2) + " layer sizes",
                        field);
    for (const auto& x : v.GetArray()) {
      if (!x.IsUint() || x.GetUint() < 1 || x.GetUint() > max_layer_size)
        return make_error(errc::invalid_field,
                          field + " sizes must be whole numbers from 1 to "
                            + std::to_string(max_layer_size),
                          field);
      sizes.push_back(x.GetUint());
    }
    return sizes;
  };
  if (auto it = doc.FindMember("layers"); it != doc.MemberEnd()) {
    auto sizes = read(it->value, "payload.layers");
    if (!sizes)
      return sizes;
    if (sizes->size() < 2 || sizes->front() != in || sizes->back() != out)
      return make_error(errc::invalid_field,
                        "payload.layers must start with the data's " + std::to_string(in)
                          + " inputs and end with its " + std::to_string(out) + " outputs",
                        "payload.layers");
    return sizes;
  }
  std::vector<unsigned> hidden{std::clamp(2 * in, 4u, 64u)};
  if (auto it = doc.FindMember("hidden_layers"); it != doc.MemberEnd()) {
    auto sizes = read(it->value, "payload.hidden_layers");
    if (!sizes)
      return sizes;
    hidden = *sizes;
  }
  std::vector<unsigned> sizes{in};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(out);
  return sizes;
}

/// What neural.train answers and stores as the model's description.
std::string describe_training(const std::string& name, const inference::mlp_spec& spec,
                              size_t rows, const inference::training_report& report) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  w.Key("model");
  w.String(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
  w.Key("layers");
  w.StartArray();
  for (auto n : spec.layers)
    w.Uint(n);
  w.EndArray();
  w.Key("activation");
  w.String(std::string{inference::to_string(spec.hidden)}.c_str());
  w.Key("output_activation");
  w.String(std::string{inference::to_string(spec.output)}.c_str());
  w.Key("rows");
  w.Uint64(rows);
  w.Key("epochs");
  w.Uint(report.epochs);
  w.Key("final_error");
  w.Double(report.mse.empty() ? 0.0 : static_cast<double>(report.mse.back()));
  w.Key("reached_target");
  w.Bool(report.reached_target);
  // [epoch, mean squared error] pairs: every epoch, or an even sample ending at the last.
  w.Key("training_curve");
  w.StartArray();
  size_t n = report.mse.size();
  size_t step = n <= curve_points ? 1 : (n + curve_points - 2) / (curve_points - 1);
  auto point = [&](size_t e) {
    w.StartArray();
    w.Uint64(e + 1);
    w.Double(static_cast<double>(report.mse[e]));
    w.EndArray();
  };
  for (size_t e = 0; e < n; e += step)
    point(e);
  if (n > 0 && (n - 1) % step != 0)
    point(n - 1);
  w.EndArray();
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

/// Trains a network and stores it under payload.model.
class train_executor final : public executor {
public:
  explicit train_executor(persistence::store& db) : db_(db) {}

  execution_mode mode(const task_record&) const override { return execution_mode::blocking; }

  execution_result run(const task_record& task, const execution_context&) const override {
    rapidjson::Document doc;
    if (!parse_object(task.payload_json, doc))
      return refuse("payload must be a JSON object");
    auto name = model_name(doc, false);
    if (!name)
      return refuse(name.err().message);
    auto data = training_data(doc, db_);
    if (!data)
      return data.err().code == errc::store_unavailable ? store_failure(data.err())
                                                        : refuse(data.err().message);
    inference::mlp_spec spec;
    auto layers = layer_sizes(doc, *data);
    auto hidden = activation_of(doc, "activation", inference::activation::sigmoid_symmetric);
    auto output = activation_of(doc, "output_activation", inference::activation::sigmoid);
    auto epochs = whole_number(doc, "epochs", default_epochs, 1, max_epochs);
    auto seed = whole_number(doc, "seed", 42, 0, 0xffffffffu);
    for (const error* err : {layers ? nullptr : &layers.err(), hidden ? nullptr : &hidden.err(),
                             output ? nullptr : &output.err(), epochs ? nullptr : &epochs.err(),
                             seed ? nullptr : &seed.err()})
      if (err != nullptr)
        return refuse(err->message);
    float target = 0.001f;
    if (auto it = doc.FindMember("target_error"); it != doc.MemberEnd()) {
      if (!it->value.IsNumber() || it->value.GetDouble() < 0 || it->value.GetDouble() > 1e6)
        return refuse("payload.target_error must be a number from 0 up");
      target = static_cast<float>(it->value.GetDouble());
    }
    spec.layers = *layers;
    spec.hidden = *hidden;
    spec.output = *output;

    auto net = inference::mlp::create(spec, *seed);
    if (!net)
      return refuse(net.err().message);
    auto report = net->train(*data, *epochs, target);
    if (!report)
      return refuse(report.err().message);
    auto description = describe_training(*name, spec, data->rows(), *report);
    persistence::stored_object model{std::string{model_kind}, *name, net->serialize(),
                                     description, runtime::system_clock::instance().now()};
    if (auto ok = db_.put_object(model); !ok)
      return store_failure(ok.err());
    return execution_result::success(description);
  }

private:
  persistence::store& db_;
};

/// Runs a stored network on a batch of inputs.
class predict_executor final : public executor {
public:
  predict_executor(persistence::store& db, bool gpu, size_t gpu_batch_min)
    : db_(db), gpu_(gpu), gpu_batch_min_(gpu_batch_min) {}

  execution_mode mode(const task_record&) const override { return execution_mode::blocking; }

  execution_result run(const task_record& task, const execution_context&) const override {
    rapidjson::Document doc;
    if (!parse_object(task.payload_json, doc))
      return refuse("payload must be a JSON object");
    auto name = model_name(doc, true);
    if (!name)
      return refuse(name.err().message);
    // payload.inputs: rows; payload.input: one row (answered as one row of outputs).
    bool single = !doc.HasMember("inputs") && doc.HasMember("input");
    if (!doc.HasMember("inputs") && !single)
      return refuse("payload.inputs must hold the rows to predict (or payload.input one row)");
    if (single) { // read it as a one-row payload.inputs
      value rows{rapidjson::kArrayType};
      rows.PushBack(value{doc["input"], doc.GetAllocator()}, doc.GetAllocator());
      doc.AddMember("inputs", rows, doc.GetAllocator());
    }
    inference::dataset batch;
    size_t budget = max_predict_values;
    auto width = internal::read_rows(doc, "inputs", "payload", batch.x, budget);
    if (!width)
      return refuse(width.err().message);
    batch.inputs = *width;

    auto found = db_.find_object(model_kind, *name);
    if (!found)
      return store_failure(found.err());
    if (!found->has_value())
      return refuse("no model named '" + *name + "'");
    auto net = inference::mlp::deserialize((*found)->body);
    if (!net)
      return execution_result::failure("model '" + *name + "' cannot be read: "
                                         + net.err().message,
                                       false);
    if (batch.inputs != net->inputs())
      return refuse("model '" + *name + "' takes " + std::to_string(net->inputs())
                    + " inputs per row; the rows have " + std::to_string(batch.inputs));

    // Large batches on the GPU when there is one; FANN row by row otherwise (or if the GPU
    // refuses: the answer is the same within 1e-5).
    auto rows_n = batch.rows();
    std::vector<float> y(rows_n * net->outputs());
    std::string device = "CPU";
    bool done = false;
    if (gpu_ && rows_n >= gpu_batch_min_) {
      auto eval = inference::make_gpu_evaluator(net->weights());
      if (eval && (*eval)->run(batch.x.data(), rows_n, y.data())) {
        device = (*eval)->device();
        done = true;
      }
    }
    for (size_t r = 0; r < rows_n && !done; ++r) {
      auto out = net->run(&batch.x[r * batch.inputs]);
      std::copy(out.begin(), out.end(), y.begin() + static_cast<std::ptrdiff_t>(r * out.size()));
    }

    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    w.StartObject();
    w.Key("model");
    w.String(name->c_str(), static_cast<rapidjson::SizeType>(name->size()));
    w.Key("device");
    w.String(device.c_str(), static_cast<rapidjson::SizeType>(device.size()));
    w.Key("rows");
    w.Uint64(rows_n);
    w.Key(single ? "output" : "outputs");
    if (!single)
      w.StartArray();
    for (size_t r = 0; r < rows_n; ++r) {
      w.StartArray();
      for (size_t j = 0; j < net->outputs(); ++j)
        w.Double(static_cast<double>(y[r * net->outputs() + j]));
      w.EndArray();
    }
    if (!single)
      w.EndArray();
    w.EndObject();
    return execution_result::success(std::string{buf.GetString(), buf.GetSize()});
  }

private:
  persistence::store& db_;
  bool gpu_;
  size_t gpu_batch_min_;
};

} // namespace

void register_neural_executors(executor_registry& registry, persistence::store& db, bool gpu,
                               size_t gpu_batch_min) {
  registry.add("neural.train", std::make_shared<train_executor>(db));
  registry.add("neural.predict", std::make_shared<predict_executor>(db, gpu, gpu_batch_min));
}

} // namespace hive::actors
