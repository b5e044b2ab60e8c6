#include <stop_token>

#include "common/core/service_main.h"
#include "common/core/signals.h"
#include "proxy/proxy_service.h"
#include "proxy/writes/salesforce_write_path.h"

namespace {

// The proxy's own keys and the write path's (org, control plane, writer, Salesforce).
sfbridge::core::ConfigSchema Schema() {
  sfbridge::core::ConfigSchema schema = sfbridge::proxy::ProxyConfigSchema();
  sfbridge::proxy::AddWritePathKeys(schema);
  return schema;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sfbridge;
  core::ShutdownSignal::Install();  // before any thread starts
  return core::ServiceMain(
      "sfbridge-proxy",
      "A PostgreSQL wire-protocol proxy: reads pass through, writes to synced tables go to "
      "Salesforce first.",
      Schema(), argc, argv, [](const core::Config& config) -> absl::Status {
        absl::StatusOr<proxy::ProxyOptions> options = proxy::ProxyOptionsFromConfig(config);
        if (!options.ok()) return options.status();
        absl::StatusOr<proxy::WritePathOptions> writes = proxy::WritePathOptionsFromConfig(config);
        if (!writes.ok()) return writes.status();
        // Without an org every statement passes through: a plain PostgreSQL proxy.
        proxy::WritePathFactory make_write_path = [&](core::MetricsRegistry& metrics)
            -> absl::StatusOr<std::unique_ptr<proxy::WritePath>> {
          if (writes->org_id.empty()) return proxy::MakePassThroughWritePath();
          return proxy::MakeSalesforceWritePath(*writes, metrics);
        };
        return core::RunUntilShutdown([&](std::stop_token stop) {
          return proxy::RunProxyService(*options, make_write_path, stop);
        });
      });
}
