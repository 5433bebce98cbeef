// UUIDv7 generation: 48 bits of milliseconds, then a per-process counter and random bits.
#include "runtime/ids.hpp"

#include <atomic>
#include <mutex>
#include <random>

#include "runtime/clock.hpp"

namespace hive::runtime {
namespace {

struct generator {
  std::mutex mtx;
  std::mt19937_64 rng{std::random_device{}()};
  timestamp_ms last_ms = 0;
  uint64_t counter = 0; // 12 bits of rand_a, then spills into the timestamp
};

generator& gen() {
  static generator g;
  return g;
}

void put_hex(std::string& out, uint64_t value, int digits) {
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i)
    out.push_back(hex[(value >> (i * 4)) & 0xf]);
}

} // namespace

std::string new_id() {
  return new_id(system_clock::instance().now());
}

std::string new_id(timestamp_ms at) {
  auto& g = gen();
  uint64_t ms;
  uint64_t seq;
  uint64_t rand_b;
  {
    std::lock_guard<std::mutex> guard{g.mtx};
    // Monotonic: never go back in time, and count within one millisecond.
    if (at > g.last_ms) {
      g.last_ms = at;
      g.counter = 0;
    } else if (++g.counter > 0xfff) {
      ++g.last_ms;
      g.counter = 0;
    }
    ms = static_cast<uint64_t>(g.last_ms);
    seq = g.counter;
    rand_b = g.rng();
  }
  std::string out;
  out.reserve(36);
  put_hex(out, ms >> 16, 8);
  out.push_back('-');
  put_hex(out, ms & 0xffff, 4);
  out.push_back('-');
  put_hex(out, 0x7000 | seq, 4);
  out.push_back('-');
  put_hex(out, 0x8000 | ((rand_b >> 48) & 0x3fff), 4);
  out.push_back('-');
  put_hex(out, rand_b & 0xffffffffffffULL, 12);
  return out;
}

bool looks_like_id(std::string_view text) noexcept {
  if (text.size() != 36)
    return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

} // namespace hive::runtime
