#pragma once

// The fetcher's metric families, declared once on a registry and shared by its adapters.

#include <string>
#include <string_view>

#include "common/core/metrics.h"

namespace sfbridge::fetcher {

struct FetcherMetrics {
  explicit FetcherMetrics(core::MetricsRegistry& registry)
      : api_calls(registry.CounterFamily("sfbridge_fetcher_api_calls_total",
                                         "Salesforce API calls made by the fetcher",
                                         {"org", "object", "kind"})),
        records_published(registry.CounterFamily("sfbridge_fetcher_records_published_total",
                                                 "Record changes acknowledged by Kafka",
                                                 {"org", "object"})),
        backfill_records(registry.GaugeFamily("sfbridge_fetcher_backfill_records",
                                              "Records read so far by the current backfill",
                                              {"org", "object"})),
        step_failures(registry.CounterFamily("sfbridge_fetcher_step_failures_total",
                                             "Steps that failed before finishing",
                                             {"org", "object"})),
        objects_held(registry.GaugeFamily("sfbridge_fetcher_objects_held",
                                          "Objects whose lease this replica holds", {"org"})) {}

  core::Family<core::Counter>& api_calls;
  core::Family<core::Counter>& records_published;
  core::Family<core::Gauge>& backfill_records;
  core::Family<core::Counter>& step_failures;
  core::Family<core::Gauge>& objects_held;
};

}  // namespace sfbridge::fetcher
