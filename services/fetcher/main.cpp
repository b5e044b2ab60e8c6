#include <atomic>
#include <chrono>
#include <stop_token>
#include <thread>

#include "common/core/service_main.h"
#include "common/core/signals.h"
#include "fetcher/fetcher_service.h"

int main(int argc, char** argv) {
  using namespace sfbridge;
  core::ShutdownSignal& shutdown = core::ShutdownSignal::Install();
  core::ConfigSchema schema = fetcher::FetcherConfigSchema();
  return core::ServiceMain(
      "sfbridge-fetcher", "Reads a Salesforce org's records and schemas into Kafka.", schema, argc,
      argv, [&shutdown](const core::Config& config) -> absl::Status {
        absl::StatusOr<fetcher::FetcherOptions> options = fetcher::FetcherOptionsFromConfig(config);
        if (!options.ok()) return options.status();
        fetcher::FetcherService service(*std::move(options));
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
        absl::Status result = service.Run(stop.get_token());
        done.store(true);
        watcher.join();
        return result;
      });
}
