#include "common/core/service_main.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <thread>

#include "common/core/logging.h"
#include "common/core/signals.h"
#include "common/core/strings.h"
#include "spdlog/spdlog.h"

namespace sfbridge::core {

ConfigSchema& AddLoggingKeys(ConfigSchema& schema) {
  if (!schema.Find("log.level")) {
    schema.Add({.name = "log.level",
                .help = "Least severe level logged.",
                .default_value = "info",
                .choices = {"trace", "debug", "info", "warn", "error", "off"}});
  }
  if (!schema.Find("log.format")) {
    schema.Add({.name = "log.format",
                .help = "text for people, json (one object per line) for log collectors; "
                        "auto picks text on a terminal and json elsewhere.",
                .default_value = "auto",
                .choices = {"auto", "text", "json"}});
  }
  return schema;
}

ConfigSchema& AddAdminServerKeys(ConfigSchema& schema) {
  schema.Add({.name = "metrics.port",
              .type = ConfigType::kInt,
              .help = "Port of /metrics /healthz /readyz; 0 picks a free one",
              .default_value = "9464",
              .min = 0,
              .max = 65535});
  schema.Add({.name = "metrics.host",
              .help = "Address the admin server listens on",
              .default_value = "0.0.0.0"});
  return schema;
}

absl::Status RunUntilShutdown(const std::function<absl::Status(std::stop_token)>& run) {
  ShutdownSignal& shutdown = ShutdownSignal::Install();
  std::stop_source stop;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      if (shutdown.WaitFor(std::chrono::milliseconds(250))) {
        stop.request_stop();
        return;
      }
    }
  });
  absl::Status result = run(stop.get_token());
  done.store(true);
  watcher.join();
  return result;
}

int ServiceMain(std::string_view program, std::string_view summary, ConfigSchema schema, int argc,
                char** argv, const std::function<absl::Status(const Config&)>& run) {
  AddLoggingKeys(schema);
  ConfigInput input{{argv + 1, argv + argc}, ProcessEnvironment()};
  absl::StatusOr<Config> config = Config::Load(schema, input);
  if (config.ok() && config->help_requested()) {
    std::string help = core::StrCat(program, " — ", summary, "\n\nUsage: ", program,
                                    " [--config FILE] [--key=value ...]\n\n"
                                    "Settings (file < environment < flags):\n",
                                    schema.HelpText());
    fputs(help.c_str(), stdout);
    return 0;
  }
  if (!config.ok()) {
    fprintf(stderr, "%.*s: %s\nRun %.*s --help for every setting.\n",
            static_cast<int>(program.size()), program.data(),
            std::string(config.status().message()).c_str(), static_cast<int>(program.size()),
            program.data());
    return 2;
  }
  const std::string& format = config->GetString("log.format");
  bool json = format == "json" || (format == "auto" && !isatty(STDERR_FILENO));
  absl::Status logging =
      InitLogging(json ? LogFormat::kJson : LogFormat::kText, config->GetString("log.level"));
  if (!logging.ok()) {
    fprintf(stderr, "%s\n", std::string(logging.message()).c_str());
    return 2;
  }
  absl::Status status;
  try {
    status = run(*config);
  } catch (const std::exception& e) {
    status = absl::InternalError(core::StrCat("unexpected error: ", e.what()));
  }
  if (!status.ok()) {
    Logger(program)->error("{}", ToString(status.message()));
    spdlog::shutdown();
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  spdlog::shutdown();
  return 0;
}

}  // namespace sfbridge::core
