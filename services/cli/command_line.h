#pragma once

// The shape of sfbridge's command line, `sfbridge [-h|--help] COMMAND [SETTING...]`, parsed with
// CLI11: the command comes first, and everything after it belongs to that command, whose keys
// core::Config then reads (so `sfbridge verify --org.id status` sets org.id to "status").
// Pure and thread-safe.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sfbridge::cli {

inline constexpr std::array<std::string_view, 3> kCommands = {"doctor", "verify", "status"};

struct CommandLine {
  std::string command;                // one of kCommands; empty when none was named (with help)
  std::vector<std::string> settings;  // the arguments after the command, in order
  bool help = false;                  // -h or --help before the command
};

// `args` are the arguments after the program name. Errors, all kInvalidArgument with a message
// for a person: no command; an unknown command; anything but -h/--help before the command (a
// setting there would be read with no command's keys known: settings go after the command).
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

}  // namespace sfbridge::cli
