#pragma once

// What every sfbridge binary does before and after its real work: read and validate the
// configuration (printing --help when asked), set up logging, run, and turn the outcome into an
// exit code. main() stays a few lines:
//
//   int main(int argc, char** argv) {
//     return sfbridge::core::ServiceMain("sfbridge-writer", "Applies ...", Schema(), argc, argv,
//                                        [](const Config& c) { return RunWriter(c); });
//   }
//
// Exit codes: 0 success, 1 the run failed (the status is printed), 2 bad configuration or usage.

#include <functional>
#include <stop_token>
#include <string_view>

#include "absl/status/status.h"
#include "common/core/config.h"

namespace sfbridge::core {

// Adds log.level and log.format to `schema`.
ConfigSchema& AddLoggingKeys(ConfigSchema& schema);

// Adds metrics.port and metrics.host, where a service serves /metrics, /healthz and /readyz.
ConfigSchema& AddAdminServerKeys(ConfigSchema& schema);

// Runs `run` with a stop token that is triggered when SIGTERM or SIGINT arrives
// (ShutdownSignal), and returns its status. Call ShutdownSignal::Install() first, in main(),
// before any other thread starts.
absl::Status RunUntilShutdown(const std::function<absl::Status(std::stop_token)>& run);

int ServiceMain(std::string_view program, std::string_view summary, ConfigSchema schema, int argc,
                char** argv, const std::function<absl::Status(const Config&)>& run);

}  // namespace sfbridge::core
