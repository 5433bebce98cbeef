// The CUDA side of batch_eval.cpp (compiled only with HIVE_ENABLE_CUDA). No CUDA headers here:
// batch_eval.cpp is built by the C++ compiler.
#pragma once

#include <memory>
#include <string>

#include "inference/batch_eval.hpp"

namespace hive::inference::cuda {

/// Initialises CUDA and looks at device 0: its name, or why it cannot run our kernel.
gpu_probe probe();

/// Uploads `w` (valid, within the GPU limits) to device 0, called `device_name`.
result<std::unique_ptr<batch_evaluator>> make_evaluator(const mlp_weights& w,
                                                        const std::string& device_name);

} // namespace hive::inference::cuda
