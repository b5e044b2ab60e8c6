#include <malloc.h>

#include <stop_token>

#include "common/core/service_main.h"
#include "common/core/signals.h"
#include "writer/writer_service.h"

int main(int argc, char** argv) {
  using namespace sfbridge;
  // Every thread that allocates (the loop, the applier, the renderer, librdkafka's) would get
  // a malloc arena of its own (up to 8 per core), each keeping what it once held: two arenas keep
  // the resident set near what is live (measured by writer_kafka_benchmark: ~190 MB peak with
  // two, ~265 MB with glibc's default, on a 200k-record backlog).
  mallopt(M_ARENA_MAX, 2);
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
