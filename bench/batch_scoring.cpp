// Scoring many (task, agent) pairs with one network: FANN's mlp::run one row at a time against
// the batch evaluators (inference/batch_eval.hpp), the CPU reference and, where a GPU is
// usable, the CUDA one. Prints a markdown table of pairs (rows) per second.
//
// Networks: the routing network's shape 30-10-2 and a larger 64-64-64-8, both with
// sigmoid_symmetric hidden and sigmoid output layers; batches of 256, 4,096 and 65,536 rows.
// Each cell repeats its batch until `--seconds` (0.5) have passed, after one untimed run. The
// GPU cells include copying the inputs to the device and the outputs back.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "inference/batch_eval.hpp"

namespace {

using namespace hive::inference;
using clock_type = std::chrono::steady_clock;

volatile float kept = 0;

/// Rows per second of `run_batch` (which evaluates `rows` rows), repeated for `seconds`.
double rows_per_second(size_t rows, double seconds, const std::function<void()>& run_batch) {
  run_batch(); // warm caches, device buffers and the GPU's clocks
  size_t runs = 0;
  auto start = clock_type::now();
  double elapsed = 0;
  do {
    run_batch();
    ++runs;
    elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(rows * runs) / elapsed;
}

std::string thousands(double v) {
  auto digits = std::to_string(static_cast<long long>(std::llround(v)));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

std::string shape_name(const std::vector<unsigned>& layers) {
  std::string s;
  for (auto n : layers)
    s += (s.empty() ? "" : "-") + std::to_string(n);
  return s;
}

} // namespace

int main(int argc, char** argv) {
  double seconds = 0.5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds 0.5]\n", argv[0]);
      return 2;
    }
  }

  const std::vector<std::vector<unsigned>> shapes{{30, 10, 2}, {64, 64, 64, 8}};
  const std::vector<size_t> batches{256, 4096, 65536};
  auto probe = probe_gpu();
  std::string gpu_column = probe.usable ? "GPU evaluator (" + probe.description + ")" : "GPU";

  std::printf("Pairs (rows) scored per second, one CPU thread; each cell repeats its batch for "
              "at least %.1f s.\n\n",
              seconds);
  std::printf("| network | batch | FANN mlp::run, row by row | CPU reference evaluator | %s | "
              "max abs(GPU - CPU) |\n",
              gpu_column.c_str());
  std::printf("|---|---|---|---|---|---|\n");
  std::mt19937 rng{1};
  std::uniform_real_distribution<float> u{-1.0f, 1.0f};
  for (const auto& layers : shapes) {
    auto net = mlp::create(mlp_spec{layers, activation::sigmoid_symmetric, activation::sigmoid});
    if (!net) {
      std::fprintf(stderr, "cannot create %s: %s\n", shape_name(layers).c_str(),
                   net.err().message.c_str());
      return 1;
    }
    auto weights = net->weights();
    auto cpu = make_cpu_evaluator(weights);
    std::unique_ptr<batch_evaluator> gpu;
    std::string gpu_missing;
    if (probe.usable) {
      auto made = make_gpu_evaluator(weights);
      if (made)
        gpu = std::move(*made);
      else
        gpu_missing = made.err().message;
    }
    size_t n_in = layers.front(), n_out = layers.back();
    for (size_t rows : batches) {
      std::vector<float> x(rows * n_in), want(rows * n_out), got(rows * n_out);
      for (auto& v : x)
        v = u(rng);
      float sink = 0;
      double fann = rows_per_second(rows, seconds, [&] {
        for (size_t r = 0; r < rows; ++r)
          sink += net->run(&x[r * n_in])[0];
      });
      kept = sink; // so the compiler cannot drop FANN's work
      double reference =
        rows_per_second(rows, seconds, [&] { cpu->run(x.data(), rows, want.data()); });
      std::string gpu_cell = gpu_missing.empty() ? "not run" : "not run (" + gpu_missing + ")";
      std::string diff_cell = "";
      if (gpu) {
        bool failed = false;
        double rate = rows_per_second(rows, seconds, [&] {
          if (auto done = gpu->run(x.data(), rows, got.data()); !done && !failed) {
            std::fprintf(stderr, "GPU run failed: %s\n", done.err().message.c_str());
            failed = true;
          }
        });
        float diff = 0;
        for (size_t i = 0; i < want.size(); ++i)
          diff = std::max(diff, std::fabs(got[i] - want[i]));
        gpu_cell = failed ? "failed (see stderr)" : thousands(rate) + " pairs/s";
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1e", static_cast<double>(diff));
        diff_cell = buf;
      }
      std::printf("| %s | %s | %s pairs/s | %s pairs/s | %s | %s |\n", shape_name(layers).c_str(),
                  thousands(static_cast<double>(rows)).c_str(), thousands(fann).c_str(),
                  thousands(reference).c_str(), gpu_cell.c_str(), diff_cell.c_str());
      std::fflush(stdout);
    }
  }
  if (!probe.usable)
    std::printf("\nGPU: not run (%s)\n", probe.description.c_str());
  return 0;
}
