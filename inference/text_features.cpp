// Hashed bag of words: tokenizer -> counts -> signed hashed slots -> unit length.
#include "inference/text_features.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "inference/internal/stop_words.hpp"
#include "inference/text_analysis.hpp"

namespace hive::inference {

double unit_hash(uint64_t h) noexcept {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<double>(h >> 11) / static_cast<double>(1ull << 53);
}

uint64_t fnv1a(std::string_view bytes) noexcept {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::vector<float> hashed_bag_of_words(std::string_view text, size_t dims) {
  std::vector<float> out(dims, 0.0f);
  if (dims == 0)
    return out;
  std::unordered_map<std::string, int> counts;
  for (auto& word : tokenize(text))
    if (!internal::is_stop_word(word))
      ++counts[std::move(word)];
  for (const auto& [word, n] : counts) {
    auto h = fnv1a(word);
    auto slot = static_cast<size_t>(h % dims);
    float sign = (h >> 63) != 0 ? -1.0f : 1.0f;
    out[slot] += sign * static_cast<float>(std::log1p(static_cast<double>(n)));
  }
  double norm = 0;
  for (float v : out)
    norm += static_cast<double>(v) * v;
  if (norm > 0) {
    auto scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (auto& v : out)
      v *= scale;
  }
  return out;
}

} // namespace hive::inference
