// Picks the store implementation named by the scheme of the database URL.
#include <algorithm>
#include <cctype>
#include <string>

#include "build_config.hpp"
#include "persistence/internal/memory_store.hpp"
#include "persistence/internal/sqlite_store.hpp"
#include "persistence/store.hpp"
#if HIVE_ENABLE_POSTGRES
#include "persistence/internal/postgres_store.hpp"
#endif

namespace hive::persistence {
namespace {

constexpr std::string_view sqlite_scheme = "sqlite://";
constexpr std::string_view memory_scheme = "memory://";
constexpr std::string_view postgresql_scheme = "postgresql://";
constexpr std::string_view postgres_scheme = "postgres://";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "normal" or "full", in any case; empty means the default, normal.
result<bool> parse_full_sync(std::string_view text) {
  std::string lower{text};
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.empty() || lower == "normal")
    return false;
  if (lower == "full")
    return true;
  return make_error(errc::invalid_field,
                    "unknown synchronous mode '" + lower + "' (expected normal or full)",
                    "database.synchronous");
}

} // namespace

result<bool> store::renew_lease(uint32_t) {
  return make_error(errc::invalid_field,
                    "cluster mode needs PostgreSQL: the " + std::string{name()}
                      + " store keeps no node leases",
                    "database.url");
}

result<bool> store::take_finished_task(std::string_view) {
  return true;
}

result<orphan_claim> store::claim_orphans(const std::vector<std::string>&) {
  return make_error(errc::invalid_field,
                    "cluster mode needs PostgreSQL: the " + std::string{name()}
                      + " store keeps no task owners",
                    "database.url");
}

result<std::unique_ptr<store>> open_store(std::string_view url, std::string_view synchronous,
                                          size_t cache_kib) {
  store_options opts;
  opts.url = std::string{url};
  opts.synchronous = std::string{synchronous};
  opts.cache_kib = cache_kib;
  return open_store(opts);
}

result<std::unique_ptr<store>> open_store(const store_options& opts) {
  std::string_view url = opts.url;
  auto cache_kib = opts.cache_kib;
  auto full_sync = parse_full_sync(opts.synchronous);
  if (!full_sync)
    return std::move(full_sync).err();
  if (starts_with(url, postgresql_scheme) || starts_with(url, postgres_scheme)) {
#if HIVE_ENABLE_POSTGRES
    internal::pg_pool_options pool;
    pool.url = opts.url;
    pool.max_connections = opts.max_connections;
    pool.min_connections = opts.min_connections;
    pool.connection_timeout_secs = opts.connection_timeout_secs;
    pool.statement_timeout_secs = opts.statement_timeout_secs;
    pool.recycle_secs = opts.pool_recycle_secs;
    auto db = internal::postgres_store::open(pool, opts.node_id);
    if (!db)
      return std::move(db).err();
    return std::unique_ptr<store>{std::move(*db)};
#else
    return make_error(errc::invalid_field,
                      "PostgreSQL is not available in this build (-DHIVE_ENABLE_POSTGRES=OFF)",
                      "database.url");
#endif
  }
  if (!opts.node_id.empty())
    return make_error(errc::invalid_field,
                      "cluster mode needs a shared PostgreSQL database (HIVE_DATABASE__URL)",
                      "database.url");
  if (starts_with(url, memory_scheme))
    return std::unique_ptr<store>{std::make_unique<internal::memory_store>()};
  if (starts_with(url, sqlite_scheme)) {
    std::string path{url.substr(sqlite_scheme.size())};
    if (path.empty())
      return make_error(errc::invalid_field,
                        "sqlite:// needs a file path, e.g. sqlite://data/hive.db", "database.url");
    auto db = internal::sqlite_store::open(path, *full_sync, cache_kib);
    if (!db)
      return std::move(db).err();
    return std::unique_ptr<store>{std::move(*db)};
  }
  // Only the scheme is quoted: the rest of a URL may hold a password.
  auto end = url.find("://");
  std::string what = "database URL without a scheme";
  if (end != std::string_view::npos)
    what = "unsupported database URL scheme '" + std::string{url.substr(0, end)} + "'";
  return make_error(errc::invalid_field,
                    what + " (expected sqlite://PATH, postgresql://... or memory://)",
                    "database.url");
}

} // namespace hive::persistence
