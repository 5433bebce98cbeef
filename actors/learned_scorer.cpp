// The learned scorer: pair statistics, the feature vector, Thompson draws, training handed to a
// background runner, and the network and experience kept in the store.
#include "actors/learned_scorer.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <rapidjson/document.h>

#include "inference/text_features.hpp"
#include "runtime/clock.hpp"
#include "runtime/log.hpp"

namespace hive::actors {
namespace {

constexpr size_t type_slots = 8;
constexpr size_t text_offset = 14;
constexpr size_t max_words_in_flight = 65'536;
constexpr size_t min_training_rows = 20; ///< fewer outcomes than this: no interval-driven run

double beta_draw(std::mt19937& rng, double a, double b) {
  std::gamma_distribution<double> ga{a, 1.0};
  std::gamma_distribution<double> gb{b, 1.0};
  double x = ga(rng);
  double y = gb(rng);
  return x + y > 0 ? x / (x + y) : 0.5;
}

/// Durations on the network's scale: log1p(ms) / 10, 0..1 (22 s and longer are 1).
double duration_scale(double ms) {
  return std::clamp(std::log1p(std::max(0.0, ms)) / 10.0, 0.0, 1.0);
}

inference::mlp make_model(uint32_t seed) {
  inference::mlp_spec spec;
  spec.layers = {static_cast<unsigned>(learned_scorer::input_count), 10,
                 static_cast<unsigned>(learned_scorer::output_count)};
  spec.hidden = inference::activation::sigmoid_symmetric;
  spec.output = inference::activation::sigmoid;
  auto m = inference::mlp::create(spec, seed);
  return std::move(*m); // this shape is always valid
}

// -- the stored experience: chunks of lines "agent \t signature \t ok \t ms \t f,f,..." -------

std::string encode_rows(const std::vector<experience_row>& rows) {
  std::string out;
  char num[32];
  for (const auto& r : rows) {
    out += r.agent_id;
    out += '\t';
    out += r.signature;
    out += r.success ? "\t1\t" : "\t0\t";
    std::snprintf(num, sizeof num, "%.6g", r.latency_ms);
    out += num;
    out += '\t';
    for (size_t i = 0; i < r.features.size(); ++i) {
      std::snprintf(num, sizeof num, i == 0 ? "%.6g" : ",%.6g", static_cast<double>(r.features[i]));
      out += num;
    }
    out += '\n';
  }
  return out;
}

/// Rows of one chunk; lines that do not parse or have another number of features are
/// skipped (written by a version with other inputs).
std::vector<experience_row> decode_rows(const std::string& text) {
  std::vector<experience_row> rows;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    std::vector<std::string> cols;
    size_t c = 0;
    while (cols.size() < 4) {
      auto tab = line.find('\t', c);
      if (tab == std::string::npos)
        break;
      cols.push_back(line.substr(c, tab - c));
      c = tab + 1;
    }
    if (cols.size() != 4)
      continue;
    experience_row r;
    r.agent_id = cols[0];
    r.signature = cols[1];
    r.success = cols[2] == "1";
    r.latency_ms = std::strtod(cols[3].c_str(), nullptr);
    const char* p = line.c_str() + c;
    while (*p != '\0') {
      char* next = nullptr;
      r.features.push_back(std::strtof(p, &next));
      if (next == p)
        break;
      p = *next == ',' ? next + 1 : next;
    }
    if (r.features.size() == learned_scorer::input_count)
      rows.push_back(std::move(r));
  }
  return rows;
}

/// "00000000000000004096": chunk names sort in the order they were written.
std::string chunk_name(uint64_t outcomes) {
  char name[32];
  std::snprintf(name, sizeof name, "%020" PRIu64, outcomes);
  return name;
}

size_t rows_of(const std::string& meta) {
  rapidjson::Document doc;
  doc.Parse(meta.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("rows") || !doc["rows"].IsUint64())
    return 0;
  return static_cast<size_t>(doc["rows"].GetUint64());
}

/// Appends a chunk and drops the oldest ones the newest `keep` rows no longer need.
void save_experience(persistence::store& db, uint64_t outcomes,
                     const std::vector<experience_row>& rows, size_t keep) {
  auto now = runtime::system_clock::instance().now();
  persistence::stored_object chunk{std::string{learned_scorer::experience_kind},
                                   chunk_name(outcomes), encode_rows(rows),
                                   "{\"rows\":" + std::to_string(rows.size()) + "}", now};
  if (auto ok = db.put_object(chunk); !ok) {
    runtime::log_warn("routing", "cannot store routing experience: " + ok.err().message);
    return;
  }
  auto chunks = db.list_objects(learned_scorer::experience_kind);
  if (!chunks)
    return;
  size_t total = 0;
  for (const auto& c : *chunks)
    total += rows_of(c.meta);
  for (const auto& c : *chunks) {
    auto n = rows_of(c.meta);
    if (total - n < keep)
      break;
    if (!db.delete_object(learned_scorer::experience_kind, c.name))
      break;
    total -= n;
  }
}

void save_model(persistence::store& db, const std::string& body, const learning_report& r) {
  char meta[512];
  std::snprintf(meta, sizeof meta,
                "{\"purpose\":\"routing\",\"layers\":[%zu,10,%zu],\"activation\":"
                "\"sigmoid_symmetric\",\"output_activation\":\"sigmoid\",\"rows\":%zu,"
                "\"epochs\":%u,\"final_error\":%.6g,\"validation_error\":%.6g,"
                "\"validation_accuracy\":%.4f}",
                learned_scorer::input_count, learned_scorer::output_count, r.rows, r.epochs,
                r.train_mse, r.validation_mse_after, r.validation_accuracy);
  persistence::stored_object model{"model", std::string{learned_scorer::model_name}, body, meta,
                                   runtime::system_clock::instance().now()};
  if (auto ok = db.put_object(model); !ok)
    runtime::log_warn("routing", "cannot store the routing network: " + ok.err().message);
}

} // namespace

learned_scorer::learned_scorer(runner background, learned_scorer_options opts,
                               cycle_observer on_cycle)
  : background_(std::move(background)), opts_(opts), on_cycle_(std::move(on_cycle)),
    model_(std::make_unique<inference::mlp>(make_model(opts.seed))), rng_(opts.seed),
    handover_(std::make_shared<handover>()) {
  // The learning interval counts from the start, not from the epoch.
  last_training_ = std::chrono::steady_clock::now();
}

learned_scorer::~learned_scorer() = default;

std::string learned_scorer::signature(const task_record& task) {
  std::vector<std::string> names;
  for (const auto& r : task.required_capabilities)
    names.push_back(r.name);
  std::sort(names.begin(), names.end());
  std::string sig = task.type;
  for (const auto& n : names)
    sig += "|" + n;
  return sig;
}

const learned_scorer::pair_stats* learned_scorer::stats(const agent_record& agent,
                                                        const std::string& sig) const {
  key_.assign(agent.id);
  key_ += '\n';
  key_ += sig;
  auto i = pairs_.find(key_);
  return i == pairs_.end() ? nullptr : &i->second;
}

learned_scorer::task_view& learned_scorer::view(const task_record& task) const {
  if (!view_.id.empty() && task.id == view_.id)
    return view_;
  view_.id = task.id;
  view_.signature = signature(task);
  view_.generation = 0; // the shared sums belong to the last task
  if (auto known = words_in_flight_.find(task.id); known != words_in_flight_.end()) {
    view_.words = std::move(known->second);
    words_in_flight_.erase(known);
    return view_;
  }
  std::string text;
  if (!task.description.empty()) {
    text = task.description;
  } else if (task.payload_json.find("\"text\"") != std::string::npos) {
    rapidjson::Document doc;
    doc.Parse(task.payload_json.c_str(), task.payload_json.size());
    if (!doc.HasParseError() && doc.IsObject())
      if (auto it = doc.FindMember("text"); it != doc.MemberEnd() && it->value.IsString())
        text.assign(it->value.GetString(), it->value.GetStringLength());
  }
  if (text.empty()) {
    view_.words.assign(text_slots, 0.0f); // cheap to make again: nothing to keep
    return view_;
  }
  view_.words = inference::hashed_bag_of_words(text, text_slots);
  // Kept for the task's outcome (observe), unless too many tasks are in flight.
  // (Tasks that never report an outcome leave theirs behind: past the bound, start afresh.)
  if (words_in_flight_.size() >= max_words_in_flight)
    words_in_flight_.clear();
  words_in_flight_.emplace(task.id, view_.words);
  return view_;
}

std::vector<float> learned_scorer::features(const task_record& task, const agent_record& agent,
                                            uint32_t load) const {
  const auto& tv = view(task);
  std::vector<float> x(input_count);
  features_into(x.data(), tv, stats(agent, tv.signature), task, agent, load);
  return x;
}

void learned_scorer::features_into(float* x, const task_view& tv, const pair_stats* st,
                                   const task_record& task, const agent_record& agent,
                                   uint32_t load) const {
  double s = st ? st->successes : 0;
  double f = st ? st->failures : 0;
  auto capacity = std::max<uint32_t>(agent.max_concurrency, 1);
  std::fill(x, x + input_count, 0.0f);
  x[0] = static_cast<float>(heuristic_scorer::proficiency_term(task, agent));
  x[1] = static_cast<float>((s + 1) / (s + f + 2));
  x[2] = static_cast<float>(std::log1p(s + f) / 5.0);
  x[3] = static_cast<float>(heuristic_scorer::success_rate(agent));
  x[4] = static_cast<float>(std::min(load, capacity)) / static_cast<float>(capacity);
  x[5] = static_cast<float>(std::log1p(std::max(0.0, agent.mean_latency_ms)) / 10.0);
  x[6 + inference::fnv1a(tv.signature) % type_slots] = 1.0f;
  // Signed hashed words in -1..1, moved to 0..1 like the other inputs.
  for (size_t i = 0; i < text_slots && i < tv.words.size(); ++i)
    x[text_offset + i] = 0.5f + 0.5f * tv.words[i];
}

void learned_scorer::adopt_trained() const {
  // Checked for every candidate: a flag, not the lock, unless something waits.
  if (!handover_->waiting.load(std::memory_order_acquire))
    return;
  std::string text;
  std::vector<learning_report> reports;
  {
    std::lock_guard<std::mutex> guard{handover_->mtx};
    handover_->waiting.store(false, std::memory_order_relaxed);
    text.swap(handover_->model);
    reports.swap(handover_->reports);
  }
  if (on_cycle_)
    for (const auto& r : reports)
      on_cycle_(r);
  if (text.empty())
    return;
  if (auto m = inference::mlp::deserialize(text))
    install(std::move(*m));
}

void learned_scorer::install(inference::mlp model) const {
  model_ = std::make_unique<inference::mlp>(std::move(model));
  weights_ = model_->weights();
  ++generation_;
  trained_ = true;
  if (!opts_.gpu)
    return;
  auto gpu = inference::make_gpu_evaluator(model_->weights());
  if (gpu) {
    gpu_ = std::move(*gpu);
  } else {
    gpu_.reset();
    runtime::log_warn("routing", "cannot put the routing network on the GPU ("
                                   + gpu.err().message + "); scoring on the CPU");
  }
}

std::string learned_scorer::device() const {
  return gpu_ ? gpu_->device() : "CPU";
}

double learned_scorer::predict(const task_record& task, const agent_record& agent,
                               uint32_t load) const {
  auto& tv = view(task);
  return predict_of(tv, stats(agent, tv.signature), task, agent, load).success;
}

learned_scorer::prediction learned_scorer::predict_of(task_view& tv, const pair_stats* st,
                                                      const task_record& task,
                                                      const agent_record& agent,
                                                      uint32_t load) const {
  adopt_trained();
  if (!trained_)
    return {heuristic_scorer::proficiency_term(task, agent),
            duration_scale(agent.mean_latency_ms)};
  x_.resize(input_count);
  features_into(x_.data(), tv, st, task, agent, load);
  float y[output_count];
  run_network(tv, x_.data(), y);
  return {std::clamp(static_cast<double>(y[0]), 0.001, 0.999),
          std::clamp(static_cast<double>(y[1]), 0.0, 1.0)};
}

void learned_scorer::run_network(task_view& tv, const float* x, float* y) const {
  // FANN's arithmetic (steepness, the sum clamp, its sigmoids), in float, with the first
  // layer split: inputs from text_offset... and the type slots are the same for every
  // candidate of a task, only the first 6 differ.
  const auto& w = weights_;
  constexpr size_t own = 6; // inputs that differ between candidates
  bool fits = w.layers.size() == 3 && w.layers[0] == input_count && w.layers[2] == output_count
              && w.hidden == inference::activation::sigmoid_symmetric
              && w.output == inference::activation::sigmoid && w.layers[1] <= 64;
  if (!fits) {
    model_->run(x, y);
    return;
  }
  size_t hidden = w.layers[1];
  size_t row = input_count + 1;
  if (tv.generation != generation_ || tv.shared.size() != hidden) {
    tv.shared.assign(hidden, 0.0f);
    for (size_t j = 0; j < hidden; ++j) {
      const float* wj = &w.weights[j * row];
      float sum = wj[input_count]; // the bias neuron's weight (its value is 1)
      for (size_t i = own; i < input_count; ++i)
        sum += wj[i] * x[i];
      tv.shared[j] = sum;
    }
    tv.generation = generation_;
  }
  float h[64];
  float kh = w.hidden_steepness, ko = w.output_steepness;
  for (size_t j = 0; j < hidden; ++j) {
    const float* wj = &w.weights[j * row];
    float sum = tv.shared[j];
    for (size_t i = 0; i < own; ++i)
      sum += wj[i] * x[i];
    float s = std::clamp(kh * sum, -150 / kh, 150 / kh);
    h[j] = 2.0f / (1.0f + std::exp(-2.0f * s)) - 1.0f;
  }
  const float* w2 = &w.weights[w.layers[1] * row];
  for (size_t o = 0; o < output_count; ++o) {
    const float* wo = &w2[o * (w.layers[1] + 1)];
    float sum = wo[w.layers[1]];
    for (size_t j = 0; j < hidden; ++j)
      sum += wo[j] * h[j];
    float s = std::clamp(ko * sum, -150 / ko, 150 / ko);
    y[o] = 1.0f / (1.0f + std::exp(-2.0f * s));
  }
}

double learned_scorer::score(const task_record& task, const agent_record& agent,
                             uint32_t load) const {
  auto& tv = view(task);
  const auto* st = stats(agent, tv.signature);
  return utility(predict_of(tv, st, task, agent, load), st, agent, load);
}

void learned_scorer::score_batch(const task_record& task, const candidate* c, size_t n,
                                 double* out) const {
  adopt_trained();
  if (!gpu_ || !trained_ || n < opts_.gpu_batch_min) {
    agent_scorer::score_batch(task, c, n, out);
    return;
  }
  const auto& tv = view(task);
  batch_x_.resize(n * input_count);
  batch_y_.resize(n * output_count);
  batch_stats_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    batch_stats_[i] = stats(*c[i].agent, tv.signature);
    features_into(&batch_x_[i * input_count], tv, batch_stats_[i], task, *c[i].agent, c[i].load);
  }
  if (auto ok = gpu_->run(batch_x_.data(), n, batch_y_.data()); !ok) {
    runtime::log_warn("routing", "GPU scoring failed (" + ok.err().message
                                   + "); scoring on the CPU until the next network is adopted");
    gpu_.reset();
    agent_scorer::score_batch(task, c, n, out);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    prediction p{std::clamp(static_cast<double>(batch_y_[i * output_count]), 0.001, 0.999),
                 std::clamp(static_cast<double>(batch_y_[i * output_count + 1]), 0.0, 1.0)};
    out[i] = utility(p, batch_stats_[i], *c[i].agent, c[i].load);
  }
}

double learned_scorer::utility(const prediction& p, const pair_stats* st,
                               const agent_record& agent, uint32_t load) const {
  double k = opts_.prior_strength;
  double a = p.success * k + (st ? st->successes : 0) + 1e-3;
  double b = (1 - p.success) * k + (st ? st->failures : 0) + 1e-3;
  auto capacity = std::max<uint32_t>(agent.max_concurrency, 1);
  double busy = static_cast<double>(std::min(load, capacity)) / capacity;
  double mean = a / (a + b);
  double draw = mean + opts_.exploration * (beta_draw(rng_, a, b) - mean);
  return draw - 0.1 * busy - opts_.duration_weight * p.duration;
}

void learned_scorer::remember(experience_row row) {
  auto& st = pairs_[row.agent_id + '\n' + row.signature];
  st.successes = st.successes * opts_.discount + (row.success ? 1 : 0);
  st.failures = st.failures * opts_.discount + (row.success ? 0 : 1);
  experience_.push_back(std::move(row));
  if (experience_.size() > opts_.experience_max)
    experience_.pop_front();
  ++outcomes_;
}

result<size_t> learned_scorer::restore(persistence::store& db) {
  auto saved = db.find_object("model", model_name);
  if (!saved)
    return std::move(saved).err();
  if (saved->has_value()) {
    auto m = inference::mlp::deserialize((*saved)->body);
    if (m && m->inputs() == input_count && m->outputs() == output_count) {
      install(std::move(*m));
    } else {
      runtime::log_warn("routing", "the saved routing network does not fit this version's "
                                   "inputs; starting from the heuristic");
    }
  }
  auto chunks = db.list_objects(experience_kind);
  if (!chunks)
    return std::move(chunks).err();
  size_t loaded = 0;
  for (const auto& c : *chunks) {
    auto chunk = db.find_object(experience_kind, c.name);
    if (!chunk)
      return std::move(chunk).err();
    if (!chunk->has_value())
      continue; // dropped meanwhile
    for (auto& row : decode_rows((*chunk)->body)) {
      remember(std::move(row));
      ++loaded;
    }
  }
  return loaded;
}

void learned_scorer::observe(const task_record& task, const agent_record& agent, bool success,
                             double latency_ms) {
  // The row the network learns from: the pair as it looked before this outcome.
  const auto& tv = view(task);
  experience_row row;
  row.features.resize(input_count);
  features_into(row.features.data(), tv, stats(agent, tv.signature), task, agent, 0);
  row.agent_id = agent.id;
  row.signature = tv.signature;
  words_in_flight_.erase(task.id);
  row.success = success;
  row.latency_ms = latency_ms;
  remember(std::move(row));
  ++unsaved_;

  // A run is due after retrain_every outcomes, or learning_interval_secs after the last one,
  // and never sooner than min_training_gap_secs after it.
  ++since_training_;
  auto now = std::chrono::steady_clock::now();
  std::chrono::duration<double> since = now - last_training_;
  bool due = since_training_ >= opts_.retrain_every
             || (opts_.learning_interval_secs > 0 && since.count() >= opts_.learning_interval_secs
                 && experience_.size() >= min_training_rows);
  if (!due || since.count() < opts_.min_training_gap_secs)
    return;
  {
    std::lock_guard<std::mutex> guard{handover_->mtx};
    if (handover_->busy)
      return; // the previous training is still running; try again at the next outcome
    handover_->busy = true;
  }
  since_training_ = 0;
  last_training_ = now;
  // Train a copy of the current network on a copy of the experience, off this thread.
  auto data = std::make_shared<inference::dataset>();
  data->inputs = input_count;
  data->outputs = output_count;
  data->x.reserve(experience_.size() * input_count);
  data->y.reserve(experience_.size() * output_count);
  for (const auto& r : experience_)
    data->add(r.features,
              {r.success ? 1.0f : 0.0f, static_cast<float>(duration_scale(r.latency_ms))});
  // The outcomes since the last run, for the store.
  auto fresh = std::make_shared<std::vector<experience_row>>();
  if (opts_.store != nullptr) {
    auto n = std::min(unsaved_, experience_.size());
    fresh->assign(experience_.end() - static_cast<std::ptrdiff_t>(n), experience_.end());
  }
  unsaved_ = 0;
  auto start = std::make_shared<std::string>(model_->serialize());
  auto slot = handover_;
  auto epochs = opts_.epochs;
  bool had_model = trained_;
  auto* db = opts_.store;
  auto outcomes = outcomes_;
  auto keep = opts_.experience_max;
  background_([data, fresh, start, slot, epochs, had_model, db, outcomes, keep] {
    auto began = std::chrono::steady_clock::now();
    if (db != nullptr && !fresh->empty())
      save_experience(*db, outcomes, *fresh, keep);
    // The newest 20% validate, the rest train.
    size_t rows = data->rows();
    size_t cut = rows - std::max<size_t>(1, rows / 5);
    inference::dataset train, check;
    train.inputs = check.inputs = data->inputs;
    train.outputs = check.outputs = data->outputs;
    auto in = static_cast<std::ptrdiff_t>(cut * data->inputs);
    auto out = static_cast<std::ptrdiff_t>(cut * data->outputs);
    train.x.assign(data->x.begin(), data->x.begin() + in);
    train.y.assign(data->y.begin(), data->y.begin() + out);
    check.x.assign(data->x.begin() + in, data->x.end());
    check.y.assign(data->y.begin() + out, data->y.end());

    learning_report report;
    report.rows = rows;
    std::string trained;
    auto current = inference::mlp::deserialize(*start);
    auto next = inference::mlp::deserialize(*start);
    if (current && next && train.rows() > 0 && check.rows() > 0) {
      // Before its first adoption the network in use is the heuristic: never worse to adopt.
      auto before = current->mse(check);
      auto result = next->train(train, epochs, 0.0f);
      auto after = next->mse(check);
      if (before && result && after) {
        report.epochs = result->epochs;
        report.train_mse = result->mse.empty() ? 0 : result->mse.back();
        report.validation_mse_before = *before;
        report.validation_mse_after = *after;
        size_t right = 0;
        for (size_t r = 0; r < check.rows(); ++r) {
          bool predicted = next->run(&check.x[r * check.inputs])[0] >= 0.5f;
          right += predicted == (check.y[r * check.outputs] >= 0.5f) ? 1 : 0;
        }
        report.validation_accuracy = static_cast<double>(right) / static_cast<double>(check.rows());
        report.adopted = !had_model || *after <= *before;
        if (report.adopted) {
          trained = next->serialize();
          if (db != nullptr)
            save_model(*db, trained, report);
        }
      }
    }
    report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    {
      std::lock_guard<std::mutex> guard{slot->mtx};
      slot->busy = false;
      ++slot->trainings;
      if (!trained.empty())
        slot->model = std::move(trained);
      slot->reports.push_back(report);
      slot->waiting.store(true, std::memory_order_release);
    }
  });
}

void learned_scorer::on_stop() {
  if (opts_.store == nullptr || unsaved_ == 0)
    return;
  auto n = std::min(unsaved_, experience_.size());
  std::vector<experience_row> fresh(experience_.end() - static_cast<std::ptrdiff_t>(n),
                                    experience_.end());
  save_experience(*opts_.store, outcomes_, fresh, opts_.experience_max);
  unsaved_ = 0;
}

uint64_t learned_scorer::trainings() const {
  std::lock_guard<std::mutex> guard{handover_->mtx};
  return handover_->trainings;
}

} // namespace hive::actors
