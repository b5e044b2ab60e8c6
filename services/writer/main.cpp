#include <stop_token>

#include "common/core/service_main.h"
#include "common/core/signals.h"
#include "writer/writer_service.h"

int main(int argc, char** argv) {
  using namespace sfbridge;
  core::ShutdownSignal::Install();  // before any thread starts
  core::ConfigSchema schema = writer::WriterConfigSchema();
  return core::ServiceMain(
      "sfbridge-writer", "Applies an org's Kafka records to PostgreSQL and serves Writer.Apply.",
      schema, argc, argv, [](const core::Config& config) -> absl::Status {
        absl::StatusOr<writer::WriterOptions> options = writer::WriterOptionsFromConfig(config);
        if (!options.ok()) return options.status();
        writer::WriterService service(*std::move(options));
        return core::RunUntilShutdown([&](std::stop_token stop) { return service.Run(stop); });
      });
}
