// The `hive` executable: subcommands, configuration from the command line, signal handling.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/server.hpp"
#include "build_config.hpp"
#include "runtime/config.hpp"
#include "runtime/log.hpp"

namespace {

using namespace hive;

void print_usage(FILE* out) {
  std::fprintf(out,
               "Hive %s: an actor-model hub that routes tasks to AI agents.\n\n"
               "usage: hive serve [--config FILE] [--SECTION.KEY=VALUE ...]\n"
               "       hive version\n\n"
               "Settings are read as defaults < config file < HIVE_<SECTION>__<KEY> environment\n"
               "variables < flags. Shorthands: --port N, --host ADDR, --database-url URL.\n"
               "HIVE_CONFIG=FILE names a config file too.\n\n"
               "settings (environment name, flag, default):\n",
               HIVE_VERSION);
  for (const auto& s : runtime::settings()) {
    auto env = s.env_name();
    auto flag = "--" + std::string{s.section} + "." + std::string{s.key};
    std::fprintf(out, "  %-40s %-36s default %s\n      %.*s\n", env.c_str(), flag.c_str(),
                 std::string{s.default_value}.c_str(), static_cast<int>(s.help.size()),
                 s.help.data());
  }
}

/// Turns argv into config sources; returns false (after printing why) on a bad argument.
bool parse_args(int argc, char** argv, runtime::config_sources& src, bool& help) {
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "hive: %s needs a value\n", name);
        return {};
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      help = true;
    } else if (arg == "--config") {
      src.file_path = next("--config");
      if (src.file_path.empty())
        return false;
    } else if (arg.rfind("--config=", 0) == 0) {
      src.file_path = arg.substr(9);
    } else if (arg == "--port" || arg == "--host" || arg == "--database-url") {
      auto v = next(arg.c_str());
      if (v.empty())
        return false;
      auto key = arg == "--port" ? "server.port" : arg == "--host" ? "server.host" : "database.url";
      src.flags.push_back(std::string{key} + "=" + v);
    } else if (arg.rfind("--", 0) == 0 && arg.find('.') != std::string::npos) {
      auto body = arg.substr(2);
      if (body.find('=') == std::string::npos) {
        auto v = next(arg.c_str());
        if (v.empty())
          return false;
        body += "=" + v;
      }
      src.flags.push_back(body);
    } else {
      std::fprintf(stderr, "hive: unknown argument '%s' (see hive serve --help)\n", arg.c_str());
      return false;
    }
  }
  return true;
}

/// The database URL without credentials, for logs.
std::string redacted(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos || url.rfind("sqlite://", 0) == 0)
    return url; // a file path has no credentials
  auto authority_end = url.find('/', scheme_end + 3);
  auto at = url.rfind('@', authority_end == std::string::npos ? url.npos : authority_end);
  if (at == std::string::npos || at < scheme_end)
    return url;
  return url.substr(0, scheme_end + 3) + "***" + url.substr(at);
}

int serve(int argc, char** argv) {
  runtime::config_sources src;
  bool help = false;
  if (!parse_args(argc, argv, src, help))
    return 2;
  if (help) {
    print_usage(stdout);
    return 0;
  }
  src.environment = runtime::process_environment();
  auto cfg = runtime::load_config(src);
  if (!cfg) {
    std::fprintf(stderr, "hive: %s\n", cfg.err().message.c_str());
    return 2;
  }
  runtime::configure_logging(cfg->log);
  for (const auto& w : cfg->warnings)
    runtime::log_warn("config", w);

  // Block the stop signals in every thread; this one waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto srv = app::server::start(*cfg);
  if (!srv) {
    runtime::log_error("main", "cannot start: " + srv.err().message);
    return 1;
  }
  runtime::log_info("main", "hive " HIVE_VERSION " listening on " + cfg->server.host + ":"
                              + std::to_string((*srv)->port()) + " (store "
                              + redacted(cfg->database.url) + ", "
                              + std::to_string(cfg->performance.worker_threads)
                              + " actor threads, " + cfg->performance.scheduler_policy + ")");
  int sig = 0;
  sigwait(&stop_signals, &sig);
  runtime::log_info("main", std::string{"received "} + (sig == SIGINT ? "SIGINT" : "SIGTERM")
                              + ", stopping");
  (*srv)->stop();
  runtime::log_info("main", "stopped cleanly");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "serve")
    return serve(argc, argv);
  if (cmd == "version" || cmd == "--version") {
    std::printf("hive %s\n", HIVE_VERSION);
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    print_usage(stdout);
    return 0;
  }
  print_usage(stderr);
  return 2;
}
