// Routing policies on a simulated workload: how often each picks an agent that succeeds.
//
// In process, no server: agents with a hidden skill per kind of work (the `sim` executor's
// traits) and a declared proficiency that is only a noisy guess of it; tasks of random kinds,
// each requiring its kind as a capability (every agent has them all, so every agent is
// eligible). For each task a policy scores every agent with an actors::agent_scorer, the best
// one runs it, and the outcome is drawn from its hidden skill (reproducible per task and
// agent). Half-way through, skills change: each kind's best agent becomes poor at it and a
// poor one excellent, to see who notices.
//
// Policies: round robin; the server's heuristic (proficiency 50%, moved by outcomes; observed
// overall success 30%; free capacity 20%); the server's learned scorer
// (actors/learned_scorer.cpp); and the oracle, which reads the hidden skills.
//
// Each agent also has a hidden duration per kind (20 to 400 ms, unrelated to its skill); the
// scorers see the durations of what they ran. Proficiencies learn from outcomes as in the
// server (actors::learn_proficiency).
//
// Output: tables on stdout (success, mean duration, and the learning curve: success per 500
// tasks); `--tasks`, `--agents`, `--kinds`, `--seed`, `--change-at`. Knobs of the learned
// scorer for experiments, from the environment: EXPLORE, PRIOR, DISCOUNT, DURATION_WEIGHT
// (learned_scorer_options); LEARN_PROFICIENCY=0 turns the proficiency updates off.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "actors/learned_scorer.hpp"
#include "actors/routing.hpp"
#include "inference/text_features.hpp"
#include "runtime/model.hpp"

namespace {

using hive::agent_record;
using hive::task_record;

struct options {
  int agents = 24;
  int kinds = 5;
  int tasks = 6000;
  int change_at = 3000;
  unsigned seed = 1;
};

struct world {
  std::vector<agent_record> agents;
  std::vector<std::vector<double>> skill; ///< [agent][kind], hidden
  std::vector<std::vector<double>> ms;    ///< [agent][kind], hidden duration
  std::vector<std::string> kinds;
};

world make_world(const options& o, std::mt19937& rng) {
  world w;
  std::uniform_real_distribution<double> u{0.05, 0.95};
  std::normal_distribution<double> noise{0.0, 0.25};
  std::uniform_real_distribution<double> log_ms{std::log(20.0), std::log(400.0)};
  for (int k = 0; k < o.kinds; ++k)
    w.kinds.push_back("kind-" + std::to_string(k));
  for (int a = 0; a < o.agents; ++a) {
    agent_record rec;
    rec.id = "agent-" + std::to_string(100 + a);
    rec.max_concurrency = 4;
    std::vector<double> skills;
    std::vector<double> durations;
    for (int k = 0; k < o.kinds; ++k) {
      durations.push_back(std::exp(log_ms(rng)));
      double s = u(rng);
      skills.push_back(s);
      // What the agent declares: its skill, blurred.
      rec.capabilities.push_back({w.kinds[k], std::clamp(s + noise(rng), 0.0, 1.0), 0.1});
    }
    w.skill.push_back(skills);
    w.ms.push_back(durations);
    w.agents.push_back(std::move(rec));
  }
  return w;
}

/// The change half-way: for each kind the best agent turns poor and the worst excellent.
void shake(world& w) {
  for (size_t k = 0; k < w.kinds.size(); ++k) {
    size_t best = 0, worst = 0;
    for (size_t a = 0; a < w.agents.size(); ++a) {
      if (w.skill[a][k] > w.skill[best][k])
        best = a;
      if (w.skill[a][k] < w.skill[worst][k])
        worst = a;
    }
    std::swap(w.skill[best][k], w.skill[worst][k]);
  }
}

double draw(uint64_t task, size_t agent, unsigned seed) {
  return hive::inference::unit_hash(task * 0x9e3779b97f4a7c15ull
                                    ^ (agent + 1) * 0xbf58476d1ce4e5b9ull ^ seed);
}

/// Chooses an agent for a task; learns from the outcome if it can.
class policy {
public:
  virtual ~policy() = default;
  virtual const char* name() const = 0;
  virtual size_t choose(const task_record& task, size_t kind, const world& w) = 0;
  virtual void observe(const task_record&, size_t, world&, bool, double) {}
};

class round_robin final : public policy {
public:
  const char* name() const override { return "round robin"; }
  size_t choose(const task_record&, size_t, const world& w) override {
    return next_++ % w.agents.size();
  }

private:
  size_t next_ = 0;
};

/// Any agent_scorer of the server, argmax over all agents.
class scorer_policy final : public policy {
public:
  scorer_policy(const char* name, std::unique_ptr<hive::actors::agent_scorer> s)
    : name_(name), scorer_(std::move(s)) {}
  const char* name() const override { return name_; }
  size_t choose(const task_record& task, size_t, const world& w) override {
    size_t best = 0;
    double best_score = -1e300;
    for (size_t a = 0; a < w.agents.size(); ++a) {
      double s = scorer_->score(task, w.agents[a], 0);
      if (s > best_score) {
        best_score = s;
        best = a;
      }
    }
    return best;
  }
  void observe(const task_record& task, size_t, world& w, bool ok, double latency) override {
    // What the scheduler does at release: tell the scorer, count on the agent.
    auto& rec = w.agents[last_];
    scorer_->observe(task, rec, ok, latency);
    if (const char* v = std::getenv("LEARN_PROFICIENCY"); v == nullptr || std::string{v} != "0")
      hive::actors::learn_proficiency(rec, task, ok);
    if (ok)
      rec.mean_latency_ms += (latency - rec.mean_latency_ms) / static_cast<double>(++rec.tasks_completed);
    else
      ++rec.tasks_failed;
  }
  void remember(size_t chosen) { last_ = chosen; }

private:
  const char* name_;
  std::unique_ptr<hive::actors::agent_scorer> scorer_;
  size_t last_ = 0;
};

class oracle final : public policy {
public:
  const char* name() const override { return "oracle (knows the hidden skills)"; }
  size_t choose(const task_record&, size_t kind, const world& w) override {
    size_t best = 0;
    for (size_t a = 1; a < w.agents.size(); ++a)
      if (w.skill[a][kind] > w.skill[best][kind])
        best = a;
    return best;
  }
};

struct outcome {
  std::vector<char> ok; ///< per task
  std::vector<double> ms; ///< per task
  double ns_per_candidate = 0;
};

outcome run(policy& p, const options& o) {
  std::mt19937 rng{o.seed};
  auto w = make_world(o, rng);
  std::uniform_int_distribution<int> pick_kind{0, o.kinds - 1};
  outcome out;
  out.ok.reserve(static_cast<size_t>(o.tasks));
  std::chrono::nanoseconds choosing{0};
  for (int i = 0; i < o.tasks; ++i) {
    if (i == o.change_at)
      shake(w);
    auto kind = static_cast<size_t>(pick_kind(rng));
    task_record task;
    task.id = "task-" + std::to_string(i);
    task.type = "sim";
    task.required_capabilities.push_back({w.kinds[kind], 0.0});
    auto t0 = std::chrono::steady_clock::now();
    auto chosen = p.choose(task, kind, w);
    choosing += std::chrono::steady_clock::now() - t0;
    if (auto* sp = dynamic_cast<scorer_policy*>(&p))
      sp->remember(chosen);
    bool ok = draw(static_cast<uint64_t>(i), chosen, o.seed) < w.skill[chosen][kind];
    // The duration: the hidden one, +-20%.
    double ms = w.ms[chosen][kind] * (0.8 + 0.4 * draw(static_cast<uint64_t>(i) + 7919, chosen, o.seed));
    p.observe(task, kind, w, ok, ms);
    out.ok.push_back(ok ? 1 : 0);
    out.ms.push_back(ms);
  }
  out.ns_per_candidate = static_cast<double>(choosing.count()) / o.tasks / o.agents;
  return out;
}

double rate(const std::vector<char>& ok, int from, int to) {
  from = std::max(from, 0);
  to = std::min<int>(to, static_cast<int>(ok.size()));
  if (to <= from)
    return 0;
  int n = 0;
  for (int i = from; i < to; ++i)
    n += ok[static_cast<size_t>(i)];
  return static_cast<double>(n) / (to - from);
}

/// Tasks after the change until the rate over the last 500 is back within 90% of the
/// oracle's over the same tasks; -1 if never.
int recovery(const std::vector<char>& ok, const std::vector<char>& best, int change_at) {
  for (int end = change_at + 500; end <= static_cast<int>(ok.size()); end += 50)
    if (rate(ok, end - 500, end) >= 0.9 * rate(best, end - 500, end))
      return end - change_at;
  return -1;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (k == "--agents")
      o.agents = v;
    else if (k == "--kinds")
      o.kinds = v;
    else if (k == "--tasks")
      o.tasks = v;
    else if (k == "--change-at")
      o.change_at = v;
    else if (k == "--seed")
      o.seed = static_cast<unsigned>(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (o.agents < 2 || o.kinds < 1 || o.tasks < 2000 || o.change_at < 1000
      || o.change_at + 1000 > o.tasks) {
    std::fprintf(stderr, "need >= 2 agents, >= 1 kind, >= 2000 tasks, and a change with 1000 "
                         "tasks on each side\n");
    return 2;
  }
  hive::actors::learned_scorer_options learned_opts;
  if (const char* v = std::getenv("DURATION_WEIGHT"))
    learned_opts.duration_weight = std::atof(v);
  if (const char* v = std::getenv("PRIOR"))
    learned_opts.prior_strength = std::atof(v);
  if (const char* v = std::getenv("EXPLORE"))
    learned_opts.exploration = std::atof(v);
  if (const char* v = std::getenv("DISCOUNT"))
    learned_opts.discount = std::atof(v);
  oracle best;
  auto best_run = run(best, o);
  round_robin rr;
  scorer_policy heuristic{"heuristic: proficiency, learned by EMA (neural.mode=basic)",
                          std::make_unique<hive::actors::heuristic_scorer>()};
  // The server's learned scorer; training runs inline here (the server hands it to a pool).
  scorer_policy learned{"learned (FANN prediction + Thompson sampling)",
                        std::make_unique<hive::actors::learned_scorer>(
                          [](std::function<void()> job) { job(); }, learned_opts)};
  std::vector<std::pair<policy*, outcome>> rows;
  rows.emplace_back(&rr, run(rr, o));
  rows.emplace_back(&heuristic, run(heuristic, o));
  rows.emplace_back(&learned, run(learned, o));
  rows.emplace_back(&best, best_run);

  std::printf("# Routing policies: %d agents, %d kinds, %d tasks, skills change at task %d "
              "(seed %u)\n\n",
              o.agents, o.kinds, o.tasks, o.change_at, o.seed);
  std::printf("| policy | success, all tasks | last 1,000 before the change | last 1,000 | "
              "last 1,000 / oracle | tasks to recover to 90%% of oracle after the change | "
              "mean duration, ms | choosing, ns per candidate |\n|---|---|---|---|---|---|---|---|\n");
  const auto& b = best_run.ok;
  for (auto& [p, r] : rows) {
    double last = rate(r.ok, o.tasks - 1000, o.tasks);
    double oracle_last = rate(b, o.tasks - 1000, o.tasks);
    int rec = recovery(r.ok, b, o.change_at);
    double ms = 0;
    for (double m : r.ms)
      ms += m;
    std::printf("| %s | %.1f%% | %.1f%% | %.1f%% | %.0f%% | %s | %.0f | %.0f |\n", p->name(),
                100 * rate(r.ok, 0, o.tasks), 100 * rate(r.ok, o.change_at - 1000, o.change_at),
                100 * last, 100 * last / oracle_last,
                rec < 0 ? "never" : std::to_string(rec).c_str(), ms / static_cast<double>(r.ms.size()),
                r.ns_per_candidate);
  }
  std::printf("\n# Learning curve: success per 500 tasks (the change at task %d)\n\n| tasks |",
              o.change_at);
  for (auto& [p, r] : rows)
    std::printf(" %s |", p->name());
  std::printf("\n|---|");
  for (size_t i = 0; i < rows.size(); ++i)
    std::printf("---|");
  std::printf("\n");
  for (int from = 0; from < o.tasks; from += 500) {
    std::printf("| %d-%d |", from + 1, std::min(from + 500, o.tasks));
    for (auto& [p, r] : rows)
      std::printf(" %.0f%% |", 100 * rate(r.ok, from, from + 500));
    std::printf("\n");
  }
  return 0;
}
