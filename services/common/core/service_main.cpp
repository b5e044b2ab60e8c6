#include "common/core/service_main.h"

#include <unistd.h>

#include <cstdio>
#include <exception>

#include "common/core/logging.h"
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
