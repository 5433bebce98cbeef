// Hashed bag of words: stable, unit length, insensitive to stop words and case, and texts that
// share words are closer than texts that do not.
#include "inference/text_features.hpp"

#include <cmath>
#include <numeric>

#include <gtest/gtest.h>

using namespace hive::inference;

namespace {

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    s += static_cast<double>(a[i]) * b[i];
  return s;
}

} // namespace

TEST(TextFeatures, FixedSizeUnitLengthAndStable) {
  auto v = hashed_bag_of_words("Summarise the quarterly sales report for the board", 64);
  ASSERT_EQ(v.size(), 64u);
  EXPECT_NEAR(dot(v, v), 1.0, 1e-5);
  EXPECT_EQ(v, hashed_bag_of_words("Summarise the quarterly sales report for the board", 64));
  EXPECT_EQ(hashed_bag_of_words("anything", 16).size(), 16u);
}

TEST(TextFeatures, KnownHashKeepsVectorsTheSameAcrossBuilds) {
  // FNV-1a of "a" is fixed by its definition: a change here would change every stored model.
  EXPECT_EQ(fnv1a("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a(""), 14695981039346656037ull);
}

TEST(TextFeatures, StopWordsAndCaseDoNotMatter) {
  EXPECT_EQ(hashed_bag_of_words("Translate THIS document", 64),
            hashed_bag_of_words("translate the document", 64));
}

TEST(TextFeatures, EmptyOrWordlessTextIsZero) {
  for (const char* text : {"", "   ", "the of and", "!!! ..."}) {
    auto v = hashed_bag_of_words(text, 32);
    EXPECT_EQ(std::accumulate(v.begin(), v.end(), 0.0), 0.0) << text;
  }
}

TEST(TextFeatures, SharedWordsMeanCloserVectors) {
  auto a = hashed_bag_of_words("classify customer support emails by urgency", 128);
  auto b = hashed_bag_of_words("classify support emails from customers by topic", 128);
  auto c = hashed_bag_of_words("render a three dimensional mesh with shadows", 128);
  EXPECT_GT(dot(a, b), dot(a, c) + 0.3);
}
