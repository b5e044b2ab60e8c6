#pragma once

// The fetcher's metric families, declared once on a registry and shared by its adapters.

#include <string>
#include <string_view>

#include "common/core/metrics.h"

namespace sfbridge::fetcher {

struct FetcherMetrics {
  explicit FetcherMetrics(core::MetricsRegistry& registry)
      : api_calls(registry.CounterFamily(
            "sfbridge_fetcher_api_calls_total",
            "Salesforce API calls made by the fetcher, by phase (discovery, backfill, poll) and "
            "outcome",
            {"org", "object", "kind", "phase", "outcome"})),
        records_published(registry.CounterFamily("sfbridge_fetcher_records_published_total",
                                                 "Record changes acknowledged by Kafka",
                                                 {"org", "object"})),
        backfill_records(registry.GaugeFamily("sfbridge_fetcher_backfill_records",
                                              "Records read so far by the current backfill",
                                              {"org", "object"})),
        backfill_estimate(registry.GaugeFamily(
            "sfbridge_fetcher_backfill_estimate_records",
            "Records the current backfill expects in all (Salesforce's count)", {"org", "object"})),
        step_failures(registry.CounterFamily("sfbridge_fetcher_step_failures_total",
                                             "Steps that failed before finishing",
                                             {"org", "object"})),
        objects_held(registry.GaugeFamily("sfbridge_fetcher_objects_held",
                                          "Objects whose lease this replica holds", {"org"})),
        object_state(registry.GaugeFamily(
            "sfbridge_fetcher_object_state",
            "1 for the state an object held by this replica is in, 0 for the others",
            {"org", "object", "state"})),
        budget_tokens(registry.CounterFamily("sfbridge_fetcher_budget_tokens_total",
                                             "Tokens taken from the org's shared rate budget",
                                             {"org"})),
        budget_wait(registry.HistogramFamily("sfbridge_fetcher_budget_wait_seconds",
                                             "Time a call waited for its budget token", {"org"},
                                             {0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300})),
        poll_cycle(
            registry.HistogramFamily("sfbridge_fetcher_poll_cycle_seconds",
                                     "Time to poll every live object this replica holds once",
                                     {"org"}, {0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 900})),
        daily_api_used(registry.GaugeFamily(
            "sfbridge_fetcher_daily_api_used",
            "The org's API requests in the last 24 h (Sforce-Limit-Info)", {"org"})),
        daily_api_limit(registry.GaugeFamily("sfbridge_fetcher_daily_api_limit",
                                             "The org's daily API allocation (Sforce-Limit-Info)",
                                             {"org"})),
        org_auth_failures(registry.CounterFamily(
            "sfbridge_fetcher_auth_failures_total",
            "Failed authentications (the org is in auth_error until one succeeds)", {"org"})) {}

  core::Family<core::Counter>& api_calls;
  core::Family<core::Counter>& records_published;
  core::Family<core::Gauge>& backfill_records;
  core::Family<core::Gauge>& backfill_estimate;
  core::Family<core::Counter>& step_failures;
  core::Family<core::Gauge>& objects_held;
  core::Family<core::Gauge>& object_state;
  core::Family<core::Counter>& budget_tokens;
  core::Family<core::Histogram>& budget_wait;
  core::Family<core::Histogram>& poll_cycle;
  core::Family<core::Gauge>& daily_api_used;
  core::Family<core::Gauge>& daily_api_limit;
  core::Family<core::Counter>& org_auth_failures;
};

}  // namespace sfbridge::fetcher
