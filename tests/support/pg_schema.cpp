// Per-test PostgreSQL schemas, made and dropped with libpqxx.
#include "tests/support/pg_schema.hpp"

#include <atomic>
#include <cstdlib>
#include <random>

#include <unistd.h>

#include <pqxx/pqxx>

namespace hive::test {

std::string pg_schema::base_url() {
  const char* url = std::getenv("HIVE_TEST_POSTGRES_URL");
  return url == nullptr ? std::string{} : std::string{url};
}

pg_schema::pg_schema(std::string base, std::string name)
  : base_(std::move(base)), name_(std::move(name)) {
  url_ = base_ + (base_.find('?') == std::string::npos ? "?" : "&")
         + "options=-csearch_path%3D" + name_;
}

std::unique_ptr<pg_schema> pg_schema::create(std::string& why) {
  auto base = base_url();
  if (base.empty()) {
    why = "HIVE_TEST_POSTGRES_URL is not set (scripts/test starts a PostgreSQL cluster for it)";
    return nullptr;
  }
  static std::atomic<int> counter{0};
  std::random_device rd;
  auto name = "hive_t" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_"
              + std::to_string(rd() % 100000);
  try {
    pqxx::connection conn{base};
    pqxx::work txn{conn};
    txn.exec("CREATE SCHEMA " + txn.quote_name(name));
    txn.commit();
  } catch (const std::exception& e) {
    why = std::string{"cannot create a test schema: "} + e.what();
    return nullptr;
  }
  return std::unique_ptr<pg_schema>{new pg_schema(base, name)};
}

pg_schema::~pg_schema() {
  try {
    pqxx::connection conn{base_};
    pqxx::work txn{conn};
    txn.exec("DROP SCHEMA IF EXISTS " + txn.quote_name(name_) + " CASCADE");
    txn.commit();
  } catch (const std::exception&) {
    // The cluster is thrown away at the end of the run anyway.
  }
}

} // namespace hive::test

namespace hive::test {
namespace {

std::string script() {
  return std::string{HIVE_SOURCE_DIR} + "/scripts/pg-test-cluster";
}

/// The value of `export NAME=value` in the script's output.
std::string exported(const std::string& text, const std::string& name) {
  auto key = "export " + name + "=";
  auto at = text.find(key);
  if (at == std::string::npos)
    return {};
  auto end = text.find('\n', at);
  return text.substr(at + key.size(), end == std::string::npos ? std::string::npos
                                                               : end - at - key.size());
}

} // namespace

std::unique_ptr<pg_cluster> pg_cluster::start(std::string& why) {
  std::string cmd = "bash " + script() + " start 2>&1";
  FILE* out = popen(cmd.c_str(), "r");
  if (out == nullptr) {
    why = "cannot run " + script();
    return nullptr;
  }
  std::string text;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, out))
    text.append(buf, n);
  int rc = pclose(out);
  std::unique_ptr<pg_cluster> c{new pg_cluster()};
  c->url_ = exported(text, "HIVE_TEST_POSTGRES_URL");
  c->dir_ = exported(text, "HIVE_TEST_PG_DIR");
  if (rc != 0 || c->url_.empty() || c->dir_.empty()) {
    why = "pg-test-cluster start failed: " + text;
    if (!c->dir_.empty())
      c->run("stop");
    c->dir_.clear();
    return nullptr;
  }
  return c;
}

pg_cluster::~pg_cluster() {
  if (!dir_.empty())
    run("stop");
}

bool pg_cluster::run(const std::string& verb) {
  std::string cmd = "bash " + script() + " " + verb + " " + dir_ + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

bool pg_cluster::restart() {
  return run("restart");
}

bool pg_cluster::halt() {
  return run("halt");
}

bool pg_cluster::resume() {
  return run("resume");
}

} // namespace hive::test
