#include "cli/command_line.h"

#include <algorithm>

#include "CLI/CLI.hpp"
#include "common/core/strings.h"

namespace sfbridge::cli {

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CLI::App app("", "sfbridge");
  // Help is printed by the caller, with the settings of the command it is asked about.
  app.set_help_flag();
  CommandLine out;
  app.add_flag("-h,--help", out.help);
  app.require_subcommand(0, 1);
  // Words CLI11 does not know are kept, to say below what was wrong with them.
  app.allow_extras();
  for (std::string_view name : kCommands) {
    CLI::App* command = app.add_subcommand(std::string(name));
    command->set_help_flag();
    // Everything after the command is its own, even a word that names another command.
    command->prefix_command();
  }
  try {
    // CLI11 takes a vector in reverse order: it consumes from the back.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(core::StrCat("cannot read the command line: ", e.what()));
  }
  const std::vector<CLI::App*> commands = app.get_subcommands();
  const std::vector<std::string> extras = app.remaining();
  if (commands.empty()) {
    auto word = std::find_if(extras.begin(), extras.end(),
                             [](const std::string& a) { return !a.starts_with("-"); });
    if (word != extras.end()) {
      return absl::InvalidArgumentError(
          core::StrCat("unknown command '", *word, "'; run sfbridge --help for the commands"));
    }
    if (!extras.empty()) {
      return absl::InvalidArgumentError(core::StrCat(
          "'", extras.front(),
          "' comes before any command; settings go after it: sfbridge COMMAND --key=value ..."));
    }
    if (!out.help) {
      return absl::InvalidArgumentError("no command given; try: sfbridge doctor (or --help)");
    }
    return out;
  }
  out.command = commands.front()->get_name();
  if (!extras.empty()) {
    return absl::InvalidArgumentError(core::StrCat(
        "'", extras.front(), "' comes before the command; settings go after it: sfbridge ",
        out.command, " --key=value ..."));
  }
  out.settings = commands.front()->remaining();
  return out;
}

}  // namespace sfbridge::cli
