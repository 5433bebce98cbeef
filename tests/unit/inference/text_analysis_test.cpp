// Unit tests for the nlp.analyze text analysis: tokens, sentences, keywords, sentiment, summary.
#include "inference/text_analysis.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace hive::inference {
namespace {

using strings = std::vector<std::string>;

bool has_keyword(const text_analysis& result, const std::string& term) {
  return std::any_of(result.keywords.begin(), result.keywords.end(),
                     [&](const keyword& k) { return k.term == term; });
}

double keyword_score(const text_analysis& result, const std::string& term) {
  for (const auto& k : result.keywords)
    if (k.term == term)
      return k.score;
  return 0;
}

// --- tokenizer -----------------------------------------------------------------------------

TEST(Tokenize, LowerCasesAndSplitsOnPunctuation) {
  EXPECT_EQ(tokenize("Hello, World! The QUICK brown-fox."),
            (strings{"hello", "world", "the", "quick", "brown", "fox"}));
}

TEST(Tokenize, KeepsApostrophesInsideWordsOnly) {
  EXPECT_EQ(tokenize("Don't stop the 'music', students' choice"),
            (strings{"don't", "stop", "the", "music", "students", "choice"}));
}

TEST(Tokenize, TypographicApostropheBecomesPlainOne) {
  EXPECT_EQ(tokenize("It\xE2\x80\x99s \xE2\x80\x9C" "fine\xE2\x80\x9D"), (strings{"it's", "fine"}));
}

TEST(Tokenize, AccentedWordsStayWhole) {
  EXPECT_EQ(tokenize("Caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9"),
            (strings{"caf\xC3\xA9", "na\xC3\xAFve", "r\xC3\xA9sum\xC3\xA9"}));
}

TEST(Tokenize, KeepsDecimalNumbersTogether) {
  EXPECT_EQ(tokenize("It costs 3.5 dollars, or 1,000 cents."),
            (strings{"it", "costs", "3.5", "dollars", "or", "1,000", "cents"}));
}

TEST(Tokenize, InvalidUtf8DoesNotBreakSurroundingWords) {
  const std::string text = std::string("\xFF\xFE abc ") + "def\xE2\x80";
  const auto tokens = tokenize(text);
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[1], "abc");
  EXPECT_EQ(tokens[2], "def\xE2\x80");
}

// --- sentence splitter ---------------------------------------------------------------------

TEST(SplitSentences, SplitsOnTerminalPunctuation) {
  EXPECT_EQ(split_sentences("Hello world. How are you?  I am fine!"),
            (strings{"Hello world.", "How are you?", "I am fine!"}));
}

TEST(SplitSentences, KeepsAbbreviationsAndDecimals) {
  EXPECT_EQ(split_sentences("Dr. Smith measured 3.5 litres, e.g. in the lab. Mr. Jones, i.e. "
                            "his colleague, did not. They met at 5 p.m. sharp."),
            (strings{"Dr. Smith measured 3.5 litres, e.g. in the lab.",
                     "Mr. Jones, i.e. his colleague, did not.", "They met at 5 p.m. sharp."}));
}

TEST(SplitSentences, EtcBeforeCapitalEndsSentence) {
  EXPECT_EQ(split_sentences("We bought apples, pears, etc. Then we went home."),
            (strings{"We bought apples, pears, etc.", "Then we went home."}));
}

TEST(SplitSentences, BlankLineEndsParagraphButSingleNewlineDoesNot) {
  EXPECT_EQ(split_sentences("Release notes\n\nThe parser\nis faster now"),
            (strings{"Release notes", "The parser is faster now"}));
}

TEST(SplitSentences, KeepsClosingQuotesAndRunsOfMarks) {
  EXPECT_EQ(split_sentences("He asked \"why?\" Nobody knew!?! Odd..."),
            (strings{"He asked \"why?\"", "Nobody knew!?!", "Odd..."}));
}

TEST(SplitSentences, DropsPiecesWithoutWords) {
  EXPECT_EQ(split_sentences("... !!! ? Real sentence. ?!"), (strings{"Real sentence."}));
}

// --- counts ----------------------------------------------------------------------------------

TEST(AnalyzeText, CountsTokensUniqueTokensAndSentences) {
  const auto result = analyze_text("The cat sat. The cat ran away! Did the dog follow?");
  EXPECT_EQ(result.token_count, 11u);
  EXPECT_EQ(result.unique_token_count, 8u);
  EXPECT_EQ(result.sentence_count, 3u);
}

// --- keywords --------------------------------------------------------------------------------

const char* const database_text =
    "A database stores records in tables. The database engine uses an index to find rows "
    "quickly, and every query plan depends on that index. Database administrators tune each "
    "query and check that the database replicates data to a second server. It is a good way "
    "to keep the data safe, and people use it every day.";

TEST(AnalyzeText, KeywordsRankTopicTermsAboveGenericWords) {
  const auto result = analyze_text(database_text);
  ASSERT_FALSE(result.keywords.empty());
  EXPECT_EQ(result.keywords.front().term, "database");
  EXPECT_TRUE(has_keyword(result, "index"));
  EXPECT_TRUE(has_keyword(result, "query"));
  // Words the background corpus uses everywhere score below the topic terms, if at all.
  EXPECT_GT(keyword_score(result, "index"), keyword_score(result, "people"));
  EXPECT_GT(keyword_score(result, "query"), keyword_score(result, "day"));
  EXPECT_GT(keyword_score(result, "query"), keyword_score(result, "good"));
}

TEST(AnalyzeText, KeywordsExcludeStopWordsNumbersAndSingleLetters) {
  const auto result =
      analyze_text("The 42 servers and the 42 servers: a b c, it is what it is.", {20, 2});
  ASSERT_FALSE(result.keywords.empty());
  for (const auto& k : result.keywords) {
    EXPECT_NE(k.term, "the");
    EXPECT_NE(k.term, "and");
    EXPECT_NE(k.term, "it");
    EXPECT_NE(k.term, "is");
    EXPECT_NE(k.term, "42");
    EXPECT_GE(k.term.size(), 2u);
  }
  EXPECT_EQ(result.keywords.front().term, "servers");
}

TEST(AnalyzeText, KeywordsAreSortedLimitedAndTiesAlphabetical) {
  const auto result = analyze_text("zebra yak walrus vicuna zebra", {3, 2});
  ASSERT_EQ(result.keywords.size(), 3u);
  EXPECT_EQ(result.keywords[0].term, "zebra");
  // yak, walrus and vicuna tie (once each, unknown to the corpus): alphabetical order.
  EXPECT_EQ(result.keywords[1].term, "vicuna");
  EXPECT_EQ(result.keywords[2].term, "walrus");
  EXPECT_GT(result.keywords[0].score, result.keywords[1].score);
  EXPECT_DOUBLE_EQ(result.keywords[1].score, result.keywords[2].score);
}

TEST(AnalyzeText, KeywordsFavourTermsRareInTheBackgroundCorpus) {
  // "day" and "kernel" occur twice each; "day" is common in the background corpus.
  const auto result =
      analyze_text("Every day the kernel boots. The day ends and the kernel sleeps.");
  ASSERT_GE(result.keywords.size(), 2u);
  EXPECT_EQ(result.keywords[0].term, "kernel");
  EXPECT_EQ(result.keywords[1].term, "day");
  EXPECT_GT(result.keywords[0].score, result.keywords[1].score);
}

TEST(AnalyzeText, PossessiveCountsAsTheSameTerm) {
  const auto result = analyze_text("Hive's scheduler is fast. Hive schedules tasks.");
  ASSERT_FALSE(result.keywords.empty());
  EXPECT_EQ(result.keywords.front().term, "hive");
  EXPECT_FALSE(has_keyword(result, "hive's"));
}

// --- sentiment -------------------------------------------------------------------------------

TEST(AnalyzeText, PositiveText) {
  const auto s = analyze_text("The service was excellent and the staff were friendly.").sentiment;
  EXPECT_EQ(s.label, "positive");
  EXPECT_GT(s.score, 0.5);
  EXPECT_EQ(s.positive_hits, 2);
  EXPECT_EQ(s.negative_hits, 0);
}

TEST(AnalyzeText, NegativeText) {
  const auto s =
      analyze_text("The update is terrible: the app crashes and support was useless.").sentiment;
  EXPECT_EQ(s.label, "negative");
  EXPECT_LT(s.score, -0.5);
  EXPECT_EQ(s.negative_hits, 3);
  EXPECT_EQ(s.positive_hits, 0);
}

TEST(AnalyzeText, NeutralText) {
  const auto s = analyze_text("The meeting is at ten in room four.").sentiment;
  EXPECT_EQ(s.label, "neutral");
  EXPECT_DOUBLE_EQ(s.score, 0.0);
  EXPECT_EQ(s.positive_hits + s.negative_hits, 0);
}

TEST(AnalyzeText, NegationFlipsSentiment) {
  for (const char* text : {"The food was not good.", "I am never happy with it.",
                           "This release isn't great.", "It doesn't work well and isn't fast, "
                                                        "it is not reliable."}) {
    const auto s = analyze_text(text).sentiment;
    EXPECT_EQ(s.label, "negative") << text;
    EXPECT_GT(s.negative_hits, 0) << text;
    EXPECT_EQ(s.positive_hits, 0) << text;
  }
  EXPECT_EQ(analyze_text("Honestly, this is not bad at all.").sentiment.label, "positive");
}

TEST(AnalyzeText, NegationStopsAtClauseAndSentenceEnds) {
  EXPECT_EQ(analyze_text("It is not here. The rest is good.").sentiment.label, "positive");
  EXPECT_EQ(analyze_text("No doubt, the result is great.").sentiment.label, "positive");
  EXPECT_EQ(analyze_text("Not cheap but great").sentiment.label, "positive");
}

TEST(AnalyzeText, IntensifiersStrengthenAndSoftenersWeaken) {
  const double plain = analyze_text("The film was good.").sentiment.score;
  const double strong = analyze_text("The film was very good.").sentiment.score;
  const double soft = analyze_text("The film was slightly good.").sentiment.score;
  EXPECT_GT(strong, plain);
  EXPECT_LT(soft, plain);
  EXPECT_GT(soft, 0);
}

TEST(AnalyzeText, SentimentScoreStaysWithinBounds) {
  std::string praise;
  std::string scorn;
  for (int i = 0; i < 500; ++i) {
    praise += "excellent amazing ";
    scorn += "terrible awful ";
  }
  const auto up = analyze_text(praise).sentiment;
  const auto down = analyze_text(scorn).sentiment;
  EXPECT_GT(up.score, 0.99);
  EXPECT_LE(up.score, 1.0);
  EXPECT_LT(down.score, -0.99);
  EXPECT_GE(down.score, -1.0);
  EXPECT_EQ(up.positive_hits, 1000);
}

// --- summary ---------------------------------------------------------------------------------

TEST(AnalyzeText, SummaryPicksInformativeSentencesInOrder) {
  const std::string text =
      "The scheduler is new. This is it. And so it was. Then it went on and on. The kernel "
      "scheduler preempts threads, rebalances run queues across cores and tracks latency per "
      "thread.";
  const std::string best =
      "The kernel scheduler preempts threads, rebalances run queues across cores and tracks "
      "latency per thread.";
  EXPECT_EQ(analyze_text(text).sentence_count, 5u);
  EXPECT_EQ(analyze_text(text, {10, 1}).summary, best);
  // The runner-up comes first in the text, so it comes first in the summary too.
  EXPECT_EQ(analyze_text(text, {10, 2}).summary, "The scheduler is new. " + best);
}

TEST(AnalyzeText, SummaryOfShortTextIsTheWholeText) {
  const auto result = analyze_text("  First  point here.\nSecond point there!  ");
  EXPECT_EQ(result.summary, "First point here. Second point there!");
}

TEST(AnalyzeText, SummaryLengthFollowsOptions) {
  const std::string text = "Alpha rockets launch. Beta servers crash. Gamma rays burst.";
  EXPECT_EQ(analyze_text(text, {10, 0}).summary, "");
  const auto one = analyze_text(text, {10, 1}).summary;
  EXPECT_EQ(split_sentences(one).size(), 1u);
  EXPECT_NE(text.find(one), std::string::npos);
}

// --- empty, garbage and large input ----------------------------------------------------------

TEST(AnalyzeText, EmptyTextGivesEmptyNeutralResult) {
  for (const char* text : {"", "   \n\t  "}) {
    const auto result = analyze_text(text);
    EXPECT_EQ(result.token_count, 0u);
    EXPECT_EQ(result.unique_token_count, 0u);
    EXPECT_EQ(result.sentence_count, 0u);
    EXPECT_TRUE(result.keywords.empty());
    EXPECT_EQ(result.sentiment.label, "neutral");
    EXPECT_DOUBLE_EQ(result.sentiment.score, 0.0);
    EXPECT_EQ(result.summary, "");
  }
}

TEST(AnalyzeText, PunctuationOnlyHasNoTokensOrSentences) {
  const auto result = analyze_text("?!?! ... ;;; --- ''' \"\" (()) ....");
  EXPECT_EQ(result.token_count, 0u);
  EXPECT_EQ(result.sentence_count, 0u);
  EXPECT_TRUE(result.keywords.empty());
  EXPECT_EQ(result.summary, "");
}

TEST(AnalyzeText, BinaryBytesAreHandled) {
  std::string bytes;
  for (int round = 0; round < 4; ++round)
    for (int b = 0; b < 256; ++b)
      bytes.push_back(static_cast<char>((b * 7 + round) & 0xFF));
  const auto result = analyze_text(bytes);
  EXPECT_EQ(result.token_count, tokenize(bytes).size());
  EXPECT_EQ(result.sentence_count, split_sentences(bytes).size());
  EXPECT_GT(result.token_count, 0u);
  EXPECT_LE(result.keywords.size(), 10u);
}

TEST(AnalyzeText, LargeTextIsCountedExactly) {
  const std::string paragraph =
      "The cache keeps hot records in memory. Misses go to disk, which is slow! ";
  std::string text;
  size_t copies = 0;
  while (text.size() < (1u << 20)) {
    text += paragraph;
    ++copies;
  }
  const auto result = analyze_text(text);
  EXPECT_EQ(result.token_count, copies * 14);
  EXPECT_EQ(result.sentence_count, copies * 2);
  EXPECT_EQ(result.unique_token_count, 14u);
  ASSERT_FALSE(result.keywords.empty());
  EXPECT_EQ(split_sentences(result.summary).size(), 2u);
  EXPECT_EQ(result.sentiment.negative_hits, static_cast<int>(copies));
}

TEST(AnalyzeText, OneHugeWordIsOneToken) {
  const std::string word(1u << 20, 'x');
  const auto result = analyze_text(word);
  EXPECT_EQ(result.token_count, 1u);
  EXPECT_EQ(result.sentence_count, 1u);
  ASSERT_EQ(result.keywords.size(), 1u);
  EXPECT_EQ(result.keywords.front().term.size(), word.size());
}

} // namespace
} // namespace hive::inference
