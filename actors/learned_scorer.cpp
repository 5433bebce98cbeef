// The learned scorer: pair statistics, the feature vector, Thompson draws, and training handed
// to a background runner.
#include "actors/learned_scorer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "inference/text_features.hpp"

namespace hive::actors {
namespace {

constexpr size_t type_slots = 8;

double beta_draw(std::mt19937& rng, double a, double b) {
  std::gamma_distribution<double> ga{a, 1.0};
  std::gamma_distribution<double> gb{b, 1.0};
  double x = ga(rng);
  double y = gb(rng);
  return x + y > 0 ? x / (x + y) : 0.5;
}

inference::mlp make_model(uint32_t seed) {
  inference::mlp_spec spec;
  spec.layers = {static_cast<unsigned>(learned_scorer::input_count), 10, 1};
  spec.hidden = inference::activation::sigmoid_symmetric;
  spec.output = inference::activation::sigmoid;
  auto m = inference::mlp::create(spec, seed);
  return std::move(*m); // this shape is always valid
}

} // namespace

learned_scorer::learned_scorer(runner background, learned_scorer_options opts,
                               cycle_observer on_cycle)
  : background_(std::move(background)), opts_(opts), on_cycle_(std::move(on_cycle)),
    model_(std::make_unique<inference::mlp>(make_model(opts.seed))), rng_(opts.seed),
    handover_(std::make_shared<handover>()) {
  experience_.inputs = input_count;
  experience_.outputs = 1;
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
  auto i = pairs_.find(agent.id + '\n' + sig);
  return i == pairs_.end() ? nullptr : &i->second;
}

std::vector<float> learned_scorer::features(const task_record& task, const agent_record& agent,
                                            uint32_t load) const {
  auto sig = signature(task);
  return features_of(sig, stats(agent, sig), task, agent, load);
}

std::vector<float> learned_scorer::features_of(const std::string& sig, const pair_stats* st,
                                               const task_record& task,
                                               const agent_record& agent, uint32_t load) {
  double s = st ? st->successes : 0;
  double f = st ? st->failures : 0;
  auto capacity = std::max<uint32_t>(agent.max_concurrency, 1);
  std::vector<float> x(input_count, 0.0f);
  x[0] = static_cast<float>(heuristic_scorer::proficiency_term(task, agent));
  x[1] = static_cast<float>((s + 1) / (s + f + 2));
  x[2] = static_cast<float>(std::log1p(s + f) / 5.0);
  x[3] = static_cast<float>(heuristic_scorer::success_rate(agent));
  x[4] = static_cast<float>(std::min(load, capacity)) / static_cast<float>(capacity);
  x[5] = static_cast<float>(std::log1p(std::max(0.0, agent.mean_latency_ms)) / 10.0);
  x[6 + inference::fnv1a(sig) % type_slots] = 1.0f;
  return x;
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
  if (auto m = inference::mlp::deserialize(text)) {
    model_ = std::make_unique<inference::mlp>(std::move(*m));
    trained_ = true;
  }
}

double learned_scorer::predict(const task_record& task, const agent_record& agent,
                               uint32_t load) const {
  auto sig = signature(task);
  return predict_of(sig, stats(agent, sig), task, agent, load);
}

double learned_scorer::predict_of(const std::string& sig, const pair_stats* st,
                                  const task_record& task, const agent_record& agent,
                                  uint32_t load) const {
  adopt_trained();
  if (!trained_)
    return heuristic_scorer::proficiency_term(task, agent);
  auto x = features_of(sig, st, task, agent, load);
  return std::clamp(static_cast<double>(model_->run(x.data())[0]), 0.001, 0.999);
}

double learned_scorer::score(const task_record& task, const agent_record& agent,
                             uint32_t load) const {
  auto sig = signature(task);
  const auto* st = stats(agent, sig);
  double p = predict_of(sig, st, task, agent, load);
  double k = opts_.prior_strength;
  double a = p * k + (st ? st->successes : 0) + 1e-3;
  double b = (1 - p) * k + (st ? st->failures : 0) + 1e-3;
  auto capacity = std::max<uint32_t>(agent.max_concurrency, 1);
  double busy = static_cast<double>(std::min(load, capacity)) / capacity;
  return beta_draw(rng_, a, b) - 0.1 * busy;
}

void learned_scorer::observe(const task_record& task, const agent_record& agent, bool success,
                             double latency_ms) {
  // The row the network learns from: the pair as it looked before this outcome.
  auto sig = signature(task);
  auto& st = pairs_[agent.id + '\n' + sig];
  experience_.add(features_of(sig, &st, task, agent, 0), {success ? 1.0f : 0.0f});
  if (experience_.rows() > opts_.experience_max) {
    experience_.x.erase(experience_.x.begin(), experience_.x.begin() + input_count);
    experience_.y.erase(experience_.y.begin(), experience_.y.begin() + 1);
  }
  st.successes = st.successes * opts_.discount + (success ? 1 : 0);
  st.failures = st.failures * opts_.discount + (success ? 0 : 1);

  if (++since_training_ < opts_.retrain_every)
    return;
  {
    std::lock_guard<std::mutex> guard{handover_->mtx};
    if (handover_->busy)
      return; // the previous training is still running; try again at the next outcome
    handover_->busy = true;
  }
  since_training_ = 0;
  // Train a copy of the current network on a copy of the experience, off this thread.
  auto data = std::make_shared<inference::dataset>(experience_);
  auto start = std::make_shared<std::string>(model_->serialize());
  auto slot = handover_;
  auto epochs = opts_.epochs;
  bool had_model = trained_;
  background_([data, start, slot, epochs, had_model] {
    auto began = std::chrono::steady_clock::now();
    // The newest 20% validate, the rest train.
    size_t rows = data->rows();
    size_t cut = rows - std::max<size_t>(1, rows / 5);
    inference::dataset train, check;
    train.inputs = check.inputs = data->inputs;
    train.outputs = check.outputs = data->outputs;
    train.x.assign(data->x.begin(), data->x.begin() + static_cast<std::ptrdiff_t>(cut * data->inputs));
    train.y.assign(data->y.begin(), data->y.begin() + static_cast<std::ptrdiff_t>(cut));
    check.x.assign(data->x.begin() + static_cast<std::ptrdiff_t>(cut * data->inputs), data->x.end());
    check.y.assign(data->y.begin() + static_cast<std::ptrdiff_t>(cut), data->y.end());

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
          right += predicted == (check.y[r] >= 0.5f) ? 1 : 0;
        }
        report.validation_accuracy = static_cast<double>(right) / static_cast<double>(check.rows());
        report.adopted = !had_model || *after <= *before;
        if (report.adopted)
          trained = next->serialize();
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

uint64_t learned_scorer::trainings() const {
  std::lock_guard<std::mutex> guard{handover_->mtx};
  return handover_->trainings;
}

} // namespace hive::actors
