// What one training run of the routing network reports (kept light: the event bus, the
// metrics and net/ see it).
#pragma once

#include <cstddef>

namespace hive::actors {

/// What one training run of the routing network did (a `learning_cycle_completed` event).
struct learning_report {
  size_t rows = 0;            ///< outcomes it learned from (training + validation)
  unsigned epochs = 0;
  double train_mse = 0;       ///< on the training rows, after training
  double validation_mse_before = 0; ///< the network in use, on the newest 20% of the rows
  double validation_mse_after = 0;  ///< the trained one, same rows
  double validation_accuracy = 0;   ///< share of validation outcomes it predicts (p >= 0.5)
  bool adopted = false;       ///< not worse on validation: swapped in
  double seconds = 0;         ///< how long the run took
};

} // namespace hive::actors
