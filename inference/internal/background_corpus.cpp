// The background corpus: short everyday English documents on many topics, and their term counts.
#include "inference/internal/background_corpus.hpp"

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "inference/internal/tokenizer.hpp"

namespace hive::inference::internal {
namespace {

constexpr std::string_view documents[] = {
    "The new laptop ships with a faster processor, more memory and a brighter screen than last "
    "year's model.",
    "Heavy rain is expected along the coast tonight, with strong winds and a chance of thunder "
    "by morning.",
    "The home team scored twice in the second half and won the match in front of a full crowd.",
    "Stock prices fell sharply on Monday after the central bank hinted that interest rates "
    "would rise again.",
    "Cook the onions in butter until they turn golden, then add garlic, tomatoes and a pinch "
    "of salt.",
    "Regular exercise and a good night of sleep lower the risk of heart disease for most "
    "people.",
    "We spent a week walking between small mountain villages and took the night train back to "
    "the city.",
    "The release fixes a memory leak in the parser and adds support for reading settings from "
    "a file.",
    "Astronomers measured the light from a distant star to estimate the size of the planet "
    "that circles it.",
    "The city council voted to build a new park and extend the bus line to the northern "
    "neighborhoods.",
    "Our school library opens early on weekdays so students can study before their first "
    "class.",
    "The company reported higher revenue this quarter, driven by strong sales of its cloud "
    "services.",
    "Farmers planted corn later than usual because the spring was cold and the fields stayed "
    "wet.",
    "She practiced the piano every evening for a month before playing the piece at the "
    "concert.",
    "The museum opened a room of ancient pottery, coins and tools found near the old river "
    "port.",
    "Developers write unit tests so that a change in one function does not quietly break "
    "another.",
    "A warm front will push temperatures well above normal for the rest of the week.",
    "The coach asked the players to focus on defense and keep the ball moving during practice.",
    "Housing prices in the capital rose for the fifth year in a row, and rent is hard to "
    "afford for young families.",
    "Bake the bread for forty minutes, or until the crust is brown and the loaf sounds hollow.",
    "Doctors suggest drinking water throughout the day and eating fresh fruit and vegetables.",
    "The airline added direct flights to the island, and hotels there expect a busy summer.",
    "The server keeps a queue of incoming requests and hands each one to a worker thread.",
    "Chemists found a cheaper way to split water into hydrogen and oxygen using sunlight.",
    "The election results will be announced tomorrow after officials finish counting the "
    "ballots.",
    "My neighbor grows herbs, peppers and beans in a tiny garden behind the house.",
    "The film follows two brothers who travel across the desert to find their missing father.",
    "Engineers tested the bridge for months before opening it to cars and trucks.",
    "Investors moved money into government bonds as fears of a slowdown grew.",
    "Snow closed the mountain pass overnight, and drivers were told to carry chains.",
    "The striker signed a three-year contract with the club after a remarkable season.",
    "Keep the soup in the fridge and warm it slowly on the stove the next day.",
    "A short walk after each meal can help keep blood sugar steady.",
    "Pack light, carry a copy of your passport, and check the local rules before you cross the "
    "border.",
    "The browser update changes how pages load images and blocks some tracking scripts by "
    "default.",
    "Biologists counted the birds on the lake every morning to see how the population changed.",
    "The author spent ten years writing a novel about a family of fishermen on a northern "
    "island.",
    "Workers at the factory asked for better pay and shorter shifts during the long talks.",
    "Remember to back up your files before installing the operating system update.",
    "The phone's battery lasts about two days, but charging it fully takes nearly three hours.",
    "Fog will lift by noon, leaving a sunny and mild afternoon across most of the region.",
    "The tennis final went to five sets and lasted more than four hours.",
    "The startup raised money from several investors to hire engineers and open an office "
    "abroad.",
    "Grill the fish skin side down and squeeze lemon over it just before serving.",
    "Children receive vaccines at certain ages to protect them from common diseases.",
    "The old town is best explored on foot, with narrow streets, small shops and cafes on "
    "every corner.",
    "The compiler reports an error when a variable is used before it has been declared.",
    "Physicists use huge machines to smash particles together and study what comes out.",
    "The mayor promised to repair the roads and improve the water supply before winter.",
    "Teachers say that reading aloud to young children builds vocabulary and attention.",
    "The band played old songs and new ones, and the crowd sang along until midnight.",
    "Volunteers cleaned the beach on Saturday and collected bags of plastic and glass.",
    "The password must contain at least twelve characters, including a number and a symbol.",
    "Researchers trained a model on thousands of images to recognize different kinds of "
    "plants.",
    "A dry summer left the reservoir at its lowest level in decades.",
    "The marathon route runs along the river and finishes in the main square.",
    "The bank offers a savings account with no monthly fee and a modest interest rate.",
    "Roast the vegetables with olive oil, pepper and rosemary until the edges are crisp.",
    "Stretching before a run warms the muscles and can prevent small injuries.",
    "The train from the airport to the center takes twenty minutes and runs every quarter "
    "hour.",
    "The network went down for an hour after a faulty switch dropped traffic between two data "
    "centers.",
    "Geologists study layers of rock to learn how the region looked millions of years ago.",
    "The court ruled that the law was unclear and sent the case back to a lower court.",
    "Our family gathers every autumn to pick apples and make jam for the winter.",
    "The painting was sold at auction for far more than experts had predicted.",
    "Open the settings menu, choose the account tab and change your display name there.",
    "The hospital opened a new wing for patients who need long-term care.",
    "Shipping costs rose this year because fuel became more expensive and ports were crowded.",
    "The guide told us stories about the kings who once lived in the castle.",
    "A cold wind from the north will bring frost to the valleys on Thursday night.",
    "The cyclist fell on the final descent but still finished the stage in third place.",
    "Mix flour, sugar and eggs in a bowl, then fold in the melted chocolate.",
    "Scientists warn that warmer oceans are harming coral reefs around the world.",
    "The app sends a notification when your package leaves the warehouse and when it arrives.",
    "The committee will meet next month to review the budget and decide on new projects.",
    "Sitting quietly for a few minutes a day can reduce stress and improve focus for some "
    "people.",
    "We rented a small boat and spent the afternoon exploring the caves along the coast.",
    "The script reads a list of names from a text file and prints them in alphabetical order.",
    "Prices at the grocery store went up again, especially for coffee, eggs and cheese.",
    "The players celebrated the title with a parade through the streets of their home town.",
    "The telescope will photograph the same patch of sky every night for ten years.",
    "Emergency crews worked through the night to restore power after the storm.",
    "Learning a second language is easier when you practice speaking with other people every "
    "day.",
    "The game lets players build cities, trade goods and form alliances with their neighbors.",
    "The program stopped whenever the input file was empty, so we added a check at the start.",
    "A breakfast with protein and whole grains keeps you full until lunch.",
    "The ferry leaves the harbor at dawn and reaches the island shortly after noon.",
    "Economists expect unemployment to fall slightly as factories hire more workers.",
    "The cat sleeps on the windowsill all afternoon and wakes up only when it hears food.",
    "The new policy lets employees work from home two days a week.",
    "Click the link in the email to confirm your address and finish creating the account.",
    "Rivers flood in early spring when snow melts quickly in the mountains.",
    "The restaurant serves fresh pasta made by hand every morning in its own kitchen.",
    "The library lends laptops to students who do not have a computer at home.",
    "Always read the logs after a deployment to catch errors before users report them.",
    "Cloud storage lets teams share documents and keep older versions of every file.",
    "The goalkeeper saved a penalty in the last minute to keep the score level.",
    "Our hike ended at a lake so clear that we could see fish swimming near the bottom.",
    "The survey says that most small businesses plan to buy new software next year.",
    "Vitamins from food are usually absorbed better than vitamins from pills.",
};

struct idf_table {
  std::vector<std::string> terms; // owns the text that `idf` keys point into
  std::unordered_map<std::string_view, double> idf;
  double unseen = 0;
};

idf_table build_table() {
  std::map<std::string, size_t, std::less<>> document_frequency;
  std::string buffer;
  for (const std::string_view document : documents) {
    buffer.clear();
    std::set<std::string_view> seen;
    for (const auto& span : scan_words(document, buffer))
      seen.insert(term_key(std::string_view(buffer).substr(span.begin, span.end - span.begin)));
    for (const auto term : seen)
      ++document_frequency[std::string(term)];
  }
  const double n = static_cast<double>(std::size(documents));
  idf_table table;
  table.unseen = std::log(n + 1) + 1;
  // Fill `terms` completely before taking views of its strings.
  table.terms.reserve(document_frequency.size());
  for (const auto& entry : document_frequency)
    table.terms.push_back(entry.first);
  table.idf.reserve(table.terms.size());
  for (const auto& term : table.terms) {
    const auto df = static_cast<double>(document_frequency.find(term)->second);
    table.idf.emplace(term, std::log((n + 1) / (df + 1)) + 1);
  }
  return table;
}

const idf_table& table() {
  static const idf_table built = build_table();
  return built;
}

} // namespace

size_t background_document_count() { return std::size(documents); }

double inverse_document_frequency(std::string_view term) {
  const idf_table& t = table();
  const auto it = t.idf.find(term);
  return it == t.idf.end() ? t.unseen : it->second;
}

} // namespace hive::inference::internal
