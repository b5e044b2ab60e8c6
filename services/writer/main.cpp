#include <atomic>
#include <chrono>
#include <stop_token>
#include <thread>

#include "common/core/service_main.h"
#include "common/core/signals.h"
#include "writer/writer_service.h"

int main(int argc, char** argv) {
  using namespace sfbridge;
  core::ShutdownSignal& shutdown = core::ShutdownSignal::Install();
  core::ConfigSchema schema = writer::WriterConfigSchema();
  return core::ServiceMain(
      "sfbridge-writer", "Applies an org's Kafka records to PostgreSQL and serves Writer.Apply.",
      schema, argc, argv, [&shutdown](const core::Config& config) -> absl::Status {
        absl::StatusOr<writer::WriterOptions> options = writer::WriterOptionsFromConfig(config);
        if (!options.ok()) return options.status();
        writer::WriterService service(*std::move(options));
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
