// The built-in English stop-word list, looked up through a hash set built on first use.
#include "inference/internal/stop_words.hpp"

#include <unordered_set>

namespace hive::inference::internal {
namespace {

constexpr std::string_view stop_word_list[] = {
    "a", "about", "above", "across", "after", "afterwards", "again", "against", "ago", "all",
    "almost", "along", "already", "also", "although", "always", "am", "among", "an", "and",
    "another", "any", "anybody", "anyone", "anything", "anyway", "anywhere", "are", "aren't",
    "around", "as", "at", "back", "be", "became", "because", "become", "becomes", "been",
    "before", "behind", "being", "below", "beside", "besides", "between", "beyond", "both", "but",
    "by", "can", "can't", "cannot", "could", "couldn't", "did", "didn't", "do", "does",
    "doesn't", "doing", "don't", "done", "down", "dr", "during", "each", "eg", "either", "else",
    "elsewhere", "enough", "etc", "even", "ever", "every", "everybody", "everyone",
    "everything", "everywhere", "few", "for", "from", "further", "get", "gets", "getting",
    "got", "had", "hadn't", "has", "hasn't", "have", "haven't", "having", "he", "he'd",
    "he'll", "hence", "her", "here", "hers", "herself", "him", "himself", "his", "how",
    "however", "i", "i'd", "i'll", "i'm", "i've", "ie", "if", "in", "inside", "instead", "into",
    "is", "isn't", "it", "its", "itself", "just", "least", "less", "let", "lot", "lots",
    "many", "may", "maybe", "me", "meanwhile", "might", "mine", "more", "moreover", "most",
    "mostly", "mr", "mrs", "ms", "much", "must", "mustn't", "my", "myself", "neither",
    "never", "nevertheless", "next", "no", "nobody", "none", "nor", "not", "nothing", "now",
    "nowhere", "of", "off", "often", "on", "once", "one", "ones", "only", "onto", "or",
    "other", "others", "otherwise", "ought", "our", "ours", "ourselves", "out", "outside",
    "over", "own", "per", "perhaps", "please", "quite", "rather", "really", "same", "says",
    "several", "shall", "shan't", "she", "she'd", "she'll", "should", "shouldn't", "since",
    "so", "some", "somebody", "someone", "something", "sometimes", "somewhere", "soon",
    "still", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
    "there", "thereby", "therefore", "these", "they", "they'd", "they'll", "they're",
    "they've", "this", "those", "though", "through", "throughout", "thus", "to", "together",
    "too", "toward", "towards", "under", "unless", "until", "up", "upon", "us", "very", "via",
    "vs", "was", "wasn't", "we", "we'd", "we'll", "we're", "we've", "well", "were",
    "weren't", "what", "whatever", "when", "whenever", "where", "whereas", "wherever",
    "whether", "which", "while", "who", "whoever", "whole", "whom", "whose", "why", "will",
    "with", "within", "without", "won't", "would", "wouldn't", "yet", "you", "you'd",
    "you'll", "you're", "you've", "your", "yours", "yourself", "yourselves"};

} // namespace

bool is_stop_word(std::string_view word) {
  static const std::unordered_set<std::string_view> words(std::begin(stop_word_list),
                                                          std::end(stop_word_list));
  return words.count(word) != 0;
}

} // namespace hive::inference::internal
