// Text as a fixed-size vector for the routing model: a hashed bag of words.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace hive::inference {

/// Feature hashing ("the hashing trick") over the tokenizer's words, stop words left out: each
/// word adds log(1 + count) to one of `dims` slots chosen by a hash of the word, with a sign
/// from another bit of the hash (so collisions cancel out on average rather than pile up); the
/// vector is then scaled to unit length. The same text always gives the same vector, on every
/// machine and in every run. Empty or wordless text gives all zeros. Thread-safe.
std::vector<float> hashed_bag_of_words(std::string_view text, size_t dims = 64);

/// The 64-bit FNV-1a hash of `bytes` (the hash the features use).
uint64_t fnv1a(std::string_view bytes) noexcept;

/// A number in [0, 1) from a hash, mixed first (splitmix64's finaliser) so that neighbouring
/// inputs spread over the whole range: reproducible "random" draws (the sim executor and the
/// routing evaluation).
double unit_hash(uint64_t h) noexcept;

} // namespace hive::inference
