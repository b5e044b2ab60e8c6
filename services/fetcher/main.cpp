#include <stop_token>

#include "common/core/service_main.h"
#include "common/core/signals.h"
#include "fetcher/fetcher_service.h"

int main(int argc, char** argv) {
  using namespace sfbridge;
  core::ShutdownSignal::Install();  // before any thread starts
  core::ConfigSchema schema = fetcher::FetcherConfigSchema();
  return core::ServiceMain(
      "sfbridge-fetcher", "Reads a Salesforce org's records and schemas into Kafka.", schema, argc,
      argv, [](const core::Config& config) -> absl::Status {
        absl::StatusOr<fetcher::FetcherOptions> options = fetcher::FetcherOptionsFromConfig(config);
        if (!options.ok()) return options.status();
        fetcher::FetcherService service(*std::move(options));
        return core::RunUntilShutdown([&](std::stop_token stop) { return service.Run(stop); });
      });
}
