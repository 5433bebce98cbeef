// Hive's own English sentiment lexicon, with the negators and intensifiers the scorer needs.
#include "inference/internal/sentiment_lexicon.hpp"

#include <unordered_map>

namespace hive::inference::internal {
namespace {

struct weighted_word {
  std::string_view word;
  double weight;
};

constexpr weighted_word positive_words[] = {
    // Strongly positive.
    {"excellent", 3}, {"outstanding", 3}, {"amazing", 3}, {"awesome", 3}, {"fantastic", 3},
    {"wonderful", 3}, {"wonderfully", 3}, {"superb", 3}, {"brilliant", 3}, {"exceptional", 3},
    {"perfect", 3}, {"perfectly", 3}, {"magnificent", 3}, {"marvelous", 3}, {"marvellous", 3},
    {"phenomenal", 3}, {"incredible", 3}, {"spectacular", 3}, {"terrific", 3}, {"flawless", 3},
    {"flawlessly", 3}, {"delightful", 3}, {"delicious", 3}, {"love", 3}, {"loved", 3},
    {"loves", 3}, {"loving", 3}, {"adore", 3}, {"adored", 3}, {"adores", 3}, {"thrilled", 3},
    {"ecstatic", 3}, {"masterpiece", 3}, {"stellar", 3}, {"best", 3}, {"extraordinary", 3},
    {"breathtaking", 3}, {"glorious", 3}, {"sublime", 3}, {"fabulous", 3}, {"exquisite", 3},
    {"impeccable", 3}, {"triumph", 3}, {"euphoric", 3}, {"blissful", 3}, {"splendid", 3},
    {"stunning", 3},
    // Clearly positive.
    {"good", 2}, {"great", 2}, {"nice", 2}, {"happy", 2}, {"happily", 2}, {"glad", 2},
    {"pleased", 2}, {"enjoy", 2}, {"enjoyed", 2}, {"enjoying", 2}, {"enjoys", 2},
    {"enjoyable", 2}, {"liked", 2}, {"beautiful", 2}, {"beautifully", 2}, {"lovely", 2},
    {"pleasant", 2}, {"impressive", 2}, {"impressed", 2}, {"effective", 2}, {"efficient", 2},
    {"reliable", 2}, {"success", 2}, {"successful", 2}, {"successfully", 2}, {"succeed", 2},
    {"succeeded", 2}, {"win", 2}, {"wins", 2}, {"winning", 2}, {"winner", 2}, {"won", 2},
    {"recommend", 2}, {"recommended", 2}, {"helpful", 2}, {"useful", 2}, {"valuable", 2},
    {"favorite", 2}, {"favourite", 2}, {"fun", 2}, {"exciting", 2}, {"excited", 2},
    {"satisfied", 2}, {"satisfying", 2}, {"elegant", 2}, {"friendly", 2},
    {"generous", 2}, {"grateful", 2}, {"thankful", 2}, {"thanks", 2}, {"thank", 2},
    {"appreciate", 2}, {"appreciated", 2}, {"praise", 2}, {"praised", 2}, {"positive", 2},
    {"beneficial", 2}, {"improved", 2}, {"improvement", 2}, {"better", 2}, {"robust", 2},
    {"healthy", 2}, {"comfortable", 2}, {"cheerful", 2}, {"joy", 2}, {"joyful", 2},
    {"proud", 2}, {"hopeful", 2}, {"optimistic", 2}, {"confident", 2}, {"peaceful", 2},
    {"gorgeous", 2}, {"charming", 2}, {"creative", 2}, {"innovative", 2}, {"inspiring", 2},
    {"inspired", 2}, {"talented", 2}, {"skilled", 2}, {"clever", 2}, {"smart", 2}, {"wise", 2},
    {"welcome", 2}, {"celebrate", 2}, {"celebrated", 2}, {"fortunate", 2}, {"lucky", 2},
    {"rewarding", 2}, {"refreshing", 2}, {"tasty", 2}, {"supportive", 2}, {"polished", 2},
    {"intuitive", 2}, {"seamless", 2}, {"trusted", 2}, {"promising", 2}, {"relieved", 2},
    {"profitable", 2}, {"thriving", 2}, {"thrive", 2}, {"victory", 2}, {"champion", 2},
    {"pleasure", 2}, {"nicely", 2}, {"superior", 2}, {"admire", 2}, {"admired", 2},
    {"amazed", 2}, {"fascinating", 2}, {"graceful", 2}, {"heartwarming", 2}, {"honored", 2},
    {"ideal", 2}, {"magical", 2}, {"remarkable", 2}, {"respected", 2}, {"effortless", 2},
    {"worthwhile", 2}, {"yay", 2}, {"hooray", 2}, {"congratulations", 2}, {"congrats", 2},
    {"victorious", 2}, {"vibrant", 2}, {"pleasing", 2},
    // Mildly positive.
    {"fine", 1}, {"ok", 1}, {"okay", 1}, {"decent", 1}, {"adequate", 1}, {"acceptable", 1},
    {"easy", 1}, {"interesting", 1}, {"worth", 1}, {"cool", 1}, {"neat", 1}, {"fair", 1},
    {"honest", 1}, {"calm", 1}, {"stable", 1}, {"solid", 1}, {"clean", 1}, {"fresh", 1},
    {"safe", 1}, {"strong", 1}, {"hope", 1}, {"improve", 1}, {"improves", 1}, {"benefit", 1},
    {"benefits", 1}, {"gain", 1}, {"gains", 1}, {"correct", 1}, {"accurate", 1}, {"fixed", 1},
    {"resolved", 1}, {"secure", 1}, {"smooth", 1}, {"smoothly", 1}, {"loyal", 1}, {"eager", 1},
    {"welcoming", 1}, {"brave", 1}, {"relief", 1}, {"profit", 1}, {"prosper", 1},
    {"convenient", 1}, {"responsive", 1}, {"affordable", 1}, {"cute", 1}, {"sweet", 1},
    {"handy", 1}, {"lively", 1}, {"upbeat", 1}, {"smile", 1}, {"smiling", 1}, {"kindness", 2},
    {"powerful", 1}, {"respect", 1}, {"harmony", 1}};

constexpr weighted_word negative_words[] = {
    // Strongly negative.
    {"terrible", -3}, {"terribly", -3}, {"horrible", -3}, {"awful", -3}, {"dreadful", -3},
    {"disgusting", -3}, {"atrocious", -3}, {"abysmal", -3}, {"appalling", -3},
    {"horrendous", -3}, {"hate", -3}, {"hated", -3}, {"hates", -3}, {"hating", -3},
    {"worst", -3}, {"disaster", -3}, {"disastrous", -3}, {"catastrophic", -3},
    {"catastrophe", -3}, {"furious", -3}, {"miserable", -3}, {"pathetic", -3}, {"useless", -3},
    {"garbage", -3}, {"nightmare", -3}, {"devastating", -3}, {"devastated", -3},
    {"horrific", -3}, {"vile", -3}, {"unbearable", -3}, {"outrageous", -3}, {"despise", -3},
    {"tragic", -3}, {"tragedy", -3}, {"hideous", -3}, {"disgusted", -3}, {"enraged", -3},
    {"heartbroken", -3}, {"worthless", -3}, {"hopeless", -3}, {"toxic", -3}, {"idiotic", -3},
    {"unusable", -3},
    // Clearly negative.
    {"bad", -2}, {"poor", -2}, {"poorly", -2}, {"badly", -2}, {"sad", -2}, {"unhappy", -2},
    {"angry", -2}, {"annoyed", -2}, {"annoying", -2}, {"disappointing", -2},
    {"disappointed", -2}, {"disappointment", -2}, {"frustrating", -2}, {"frustrated", -2},
    {"frustration", -2}, {"broken", -2}, {"fail", -2}, {"failed", -2}, {"fails", -2},
    {"failure", -2}, {"failing", -2}, {"crash", -2}, {"crashed", -2}, {"crashes", -2},
    {"crashing", -2}, {"buggy", -2}, {"wrong", -2}, {"worse", -2}, {"ugly", -2}, {"hurt", -2},
    {"hurts", -2}, {"painful", -2}, {"sick", -2}, {"dangerous", -2}, {"unsafe", -2},
    {"insecure", -2}, {"unreliable", -2}, {"unstable", -2}, {"lose", -2}, {"losing", -2},
    {"loss", -2}, {"losses", -2}, {"damage", -2}, {"damaged", -2}, {"harmful", -2},
    {"harm", -2}, {"fear", -2}, {"afraid", -2}, {"scared", -2}, {"worried", -2},
    {"anxious", -2}, {"stressful", -2}, {"upset", -2}, {"lonely", -2}, {"regret", -2},
    {"complain", -2}, {"complaint", -2}, {"complained", -2}, {"rude", -2}, {"cruel", -2},
    {"nasty", -2}, {"boring", -2}, {"dull", -2}, {"flawed", -2}, {"defective", -2},
    {"faulty", -2}, {"inaccurate", -2}, {"incorrect", -2}, {"mistake", -2},
    {"overpriced", -2}, {"waste", -2}, {"wasted", -2}, {"ruin", -2}, {"ruined", -2},
    {"corrupt", -2}, {"corrupted", -2}, {"vulnerable", -2}, {"panic", -2}, {"shame", -2},
    {"ashamed", -2}, {"embarrassing", -2}, {"hostile", -2}, {"violent", -2}, {"violence", -2},
    {"blame", -2}, {"sluggish", -2}, {"clunky", -2}, {"tedious", -2}, {"inferior", -2},
    {"lame", -2}, {"helpless", -2}, {"depressed", -2}, {"depressing", -2}, {"gloomy", -2},
    {"grim", -2}, {"bleak", -2}, {"unpleasant", -2}, {"suffer", -2}, {"suffering", -2},
    {"crisis", -2}, {"chaos", -2}, {"fraud", -2}, {"scam", -2}, {"stolen", -2},
    {"irritating", -2}, {"exhausted", -2}, {"mess", -2}, {"messy", -2}, {"dirty", -2},
    {"rotten", -2}, {"sucks", -2}, {"sucked", -2}, {"stupid", -2}, {"ridiculous", -2},
    {"nonsense", -2}, {"unacceptable", -2}, {"laggy", -2}, {"bloated", -2}, {"crying", -2},
    {"war", -2}, {"kill", -2}, {"killed", -2}, {"death", -2}, {"dead", -2}, {"died", -2},
    // Mildly negative.
    {"bug", -1}, {"bugs", -1}, {"error", -1}, {"errors", -1}, {"slow", -1}, {"difficult", -1},
    {"problem", -1}, {"problems", -1}, {"issue", -1}, {"issues", -1}, {"pain", -1},
    {"worry", -1}, {"stress", -1}, {"cry", -1}, {"sorry", -1}, {"confusing", -1},
    {"confused", -1}, {"weak", -1}, {"fragile", -1}, {"flaw", -1}, {"mistakes", -1},
    {"missing", -1}, {"delay", -1}, {"delayed", -1}, {"late", -1}, {"expensive", -1},
    {"leak", -1}, {"leaks", -1}, {"threat", -1}, {"attack", -1}, {"guilty", -1},
    {"awkward", -1}, {"mediocre", -1}, {"unfortunate", -1}, {"unfortunately", -1},
    {"uncomfortable", -1}, {"inconvenient", -1}, {"hassle", -1}, {"struggle", -1},
    {"struggling", -1}, {"decline", -1}, {"declined", -1}, {"reject", -1}, {"rejected", -1},
    {"denied", -1}, {"tired", -1}, {"bored", -1}, {"lost", -1}, {"outage", -1},
    {"downtime", -1}, {"complicated", -1}, {"noisy", -1}, {"lacking", -1}};

constexpr std::string_view negator_words[] = {
    "not",  "no",     "never",  "none",   "nobody",   "nothing", "neither", "nor",
    "nowhere", "cannot", "without", "hardly", "barely", "scarcely", "dont",  "cant",
    "wont", "isnt",   "doesnt", "didnt",  "wasnt",    "arent",   "shouldnt", "couldnt"};

constexpr weighted_word intensity_words[] = {
    {"very", 1.5},        {"extremely", 1.5},   {"really", 1.5},     {"incredibly", 1.5},
    {"so", 1.5},          {"super", 1.5},       {"totally", 1.5},    {"absolutely", 1.5},
    {"highly", 1.5},      {"truly", 1.5},       {"especially", 1.5}, {"exceptionally", 1.5},
    {"remarkably", 1.5},  {"particularly", 1.5}, {"utterly", 1.5},   {"completely", 1.5},
    {"deeply", 1.5},      {"hugely", 1.5},      {"immensely", 1.5},  {"thoroughly", 1.5},
    {"seriously", 1.5},   {"insanely", 1.5},    {"unbelievably", 1.5}, {"most", 1.5},
    {"slightly", 0.5},    {"somewhat", 0.5},    {"fairly", 0.5},     {"kinda", 0.5},
    {"sorta", 0.5},       {"marginally", 0.5},  {"partly", 0.5},     {"mildly", 0.5},
    {"moderately", 0.5},  {"little", 0.5}};

constexpr std::string_view connector_words[] = {"but", "however", "although", "though",
                                                "whereas", "nevertheless"};

using weight_map = std::unordered_map<std::string_view, double>;

template <size_t N>
void add_words(weight_map& map, const weighted_word (&list)[N]) {
  for (const auto& entry : list)
    map.emplace(entry.word, entry.weight);
}

weight_map make_lexicon() {
  weight_map map;
  add_words(map, positive_words);
  add_words(map, negative_words);
  return map;
}

weight_map make_intensities() {
  weight_map map;
  add_words(map, intensity_words);
  return map;
}

template <size_t N>
bool contains(const std::string_view (&list)[N], std::string_view word) {
  for (const auto& entry : list)
    if (entry == word)
      return true;
  return false;
}

} // namespace

double lexicon_weight(std::string_view word) {
  static const weight_map weights = make_lexicon();
  const auto it = weights.find(word);
  return it == weights.end() ? 0.0 : it->second;
}

bool is_negator(std::string_view word) {
  if (word.size() > 3 && word.substr(word.size() - 3) == "n't")
    return true;
  return contains(negator_words, word);
}

double intensity_factor(std::string_view word) {
  static const weight_map factors = make_intensities();
  const auto it = factors.find(word);
  return it == factors.end() ? 1.0 : it->second;
}

bool is_clause_connector(std::string_view word) { return contains(connector_words, word); }

} // namespace hive::inference::internal
