// A private PostgreSQL schema per test, in the throwaway cluster that scripts/test starts
// (HIVE_TEST_POSTGRES_URL). Tests run in parallel against one database; each gets its own
// search_path, so tables never collide, and the schema is dropped afterwards.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace hive::test {

class pg_schema {
public:
  /// nullopt (with `why` set) when no test cluster is configured or it cannot be reached.
  static std::unique_ptr<pg_schema> create(std::string& why);
  ~pg_schema();

  /// A postgresql:// URL whose sessions use only this schema.
  const std::string& url() const noexcept { return url_; }
  const std::string& name() const noexcept { return name_; }

  /// The cluster's URL (HIVE_TEST_POSTGRES_URL), or empty.
  static std::string base_url();

private:
  pg_schema(std::string base, std::string name);
  std::string base_;
  std::string name_;
  std::string url_;
};

} // namespace hive::test

namespace hive::test {

/// A PostgreSQL cluster of one's own (scripts/pg-test-cluster), for tests that stop or restart
/// the server and must not disturb others. Stopped and deleted by the destructor.
class pg_cluster {
public:
  /// nullptr (with `why`) when the cluster cannot be made (no PostgreSQL server binaries).
  static std::unique_ptr<pg_cluster> start(std::string& why);
  ~pg_cluster();

  const std::string& url() const noexcept { return url_; }
  bool restart(); ///< fast restart: every client connection is cut
  bool halt();    ///< fast stop, data kept
  bool resume();  ///< start again after halt

private:
  pg_cluster() = default;
  bool run(const std::string& verb);
  std::string url_;
  std::string dir_;
};

} // namespace hive::test
