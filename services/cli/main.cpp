#include <cstring>
#include <iostream>
#include <string_view>

#include "cli/doctor.h"
#include "cli/status.h"
#include "cli/verify.h"
#include "common/core/service_main.h"
#include "common/core/strings.h"

namespace {

constexpr char kSummary[] =
    "the sfbridge command line.\n\n"
    "Commands:\n"
    "  doctor   check that the configured PostgreSQL and Kafka answer\n"
    "  verify   compare an org's synced tables with Salesforce (or sfsim): missing, extra and\n"
    "           stale rows; exit 0 when they agree, 1 when they differ\n"
    "  status   per org and object: state, progress, last poll, errors, the rate budget and\n"
    "           the writer's offsets (--format=json for machines)\n\n"
    "Each command has its own settings: sfbridge COMMAND --help lists them.";

absl::Status Dispatch(const sfbridge::core::Config& config) {
  const auto& args = config.positional();
  if (args.empty()) {
    return absl::InvalidArgumentError("no command given; try: sfbridge doctor (or --help)");
  }
  if (args[0] == "doctor") return sfbridge::cli::RunDoctor(config, std::cout);
  if (args[0] == "verify") return sfbridge::cli::RunVerify(config, std::cout);
  if (args[0] == "status") return sfbridge::cli::RunStatus(config, std::cout);
  return absl::InvalidArgumentError(sfbridge::core::StrCat(
      "unknown command '", args[0], "'; run sfbridge --help for the commands"));
}

// The command named on the command line, to pick the settings it reads; doctor's otherwise.
std::string_view CommandOf(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "verify" || arg == "status" || arg == "doctor") return arg;
  }
  return "doctor";
}

}  // namespace

int main(int argc, char** argv) {
  sfbridge::core::ConfigSchema schema;
  const std::string_view command = CommandOf(argc, argv);
  if (command == "verify") {
    sfbridge::cli::AddVerifyKeys(schema);
  } else if (command == "status") {
    sfbridge::cli::AddStatusKeys(schema);
  } else {
    sfbridge::cli::AddDoctorKeys(schema);
  }
  return sfbridge::core::ServiceMain("sfbridge", kSummary, std::move(schema), argc, argv, Dispatch);
}
