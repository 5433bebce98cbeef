// The real clock.
#include "runtime/clock.hpp"

#include <chrono>

namespace hive::runtime {

timestamp_ms system_clock::now() const noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const system_clock& system_clock::instance() noexcept {
  static const system_clock clk;
  return clk;
}

} // namespace hive::runtime
