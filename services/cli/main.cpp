#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/doctor.h"
#include "cli/status.h"
#include "cli/verify.h"
#include "common/core/service_main.h"
#include "common/core/strings.h"

namespace {

constexpr char kSummary[] =
    "the sfbridge command line. The first argument is the command; its settings follow it:\n"
    "sfbridge COMMAND [--config FILE] [--key=value ...].\n\n"
    "Commands:\n"
    "  doctor   check that the configured PostgreSQL and Kafka answer\n"
    "  verify   compare an org's synced tables with Salesforce (or sfsim): missing, extra and\n"
    "           stale rows; exit 0 when they agree, 1 when they differ\n"
    "  status   per org and object: state, progress, last poll, errors, the rate budget and\n"
    "           the writer's offsets (--format=json for machines)\n\n"
    "Each command has its own settings: sfbridge COMMAND --help lists them (doctor's below).";

absl::Status Run(const std::string& command, const sfbridge::core::Config& config) {
  if (!config.positional().empty()) {
    return absl::InvalidArgumentError(
        sfbridge::core::StrCat("unexpected argument '", config.positional().front(),
                               "' after the command ", command, "; settings are --key=value"));
  }
  if (command == "verify") return sfbridge::cli::RunVerify(config, std::cout);
  if (command == "status") return sfbridge::cli::RunStatus(config, std::cout);
  return sfbridge::cli::RunDoctor(config, std::cout);
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<sfbridge::cli::CommandLine> line =
      sfbridge::cli::ParseCommandLine({argv + 1, argv + argc});
  if (!line.ok()) {
    std::fprintf(stderr, "sfbridge: %s\n", std::string(line.status().message()).c_str());
    return 2;
  }
  // `sfbridge --help` alone lists the commands and doctor's settings.
  const std::string command = line->command.empty() ? "doctor" : line->command;
  sfbridge::core::ConfigSchema schema;
  if (command == "verify") {
    sfbridge::cli::AddVerifyKeys(schema);
  } else if (command == "status") {
    sfbridge::cli::AddStatusKeys(schema);
  } else {
    sfbridge::cli::AddDoctorKeys(schema);
  }
  // What follows the command is read by core::Config, against that command's keys.
  std::vector<std::string> args = {argv[0]};
  args.insert(args.end(), line->settings.begin(), line->settings.end());
  if (line->help) args.push_back("--help");
  std::vector<char*> args_argv;
  for (std::string& a : args) args_argv.push_back(a.data());
  return sfbridge::core::ServiceMain(
      "sfbridge", kSummary, std::move(schema), static_cast<int>(args_argv.size()), args_argv.data(),
      [&command](const sfbridge::core::Config& config) { return Run(command, config); });
}
