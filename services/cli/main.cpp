#include <iostream>

#include "cli/doctor.h"
#include "common/core/service_main.h"
#include "common/core/strings.h"

namespace {

constexpr char kSummary[] =
    "the sfbridge command line.\n\n"
    "Commands:\n"
    "  doctor   check that the configured PostgreSQL and Kafka answer";

absl::Status Dispatch(const sfbridge::core::Config& config) {
  const auto& args = config.positional();
  if (args.empty()) {
    return absl::InvalidArgumentError("no command given; try: sfbridge doctor (or --help)");
  }
  if (args[0] == "doctor") return sfbridge::cli::RunDoctor(config, std::cout);
  return absl::InvalidArgumentError(sfbridge::core::StrCat(
      "unknown command '", args[0], "'; run sfbridge --help for the commands"));
}

}  // namespace

int main(int argc, char** argv) {
  sfbridge::core::ConfigSchema schema;
  sfbridge::cli::AddDoctorKeys(schema);
  return sfbridge::core::ServiceMain("sfbridge", kSummary, std::move(schema), argc, argv, Dispatch);
}
