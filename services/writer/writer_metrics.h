#pragma once

// The writer's metric families, declared once on a registry and shared by the consumer loop and
// the gRPC service.

#include "common/core/metrics.h"

namespace sfbridge::writer {

struct WriterMetrics {
  explicit WriterMetrics(core::MetricsRegistry& registry)
      : rows_applied(registry.CounterFamily("sfbridge_writer_rows_applied_total",
                                            "Record versions and deletions applied",
                                            {"org", "table"})),
        batch_seconds(registry.HistogramFamily("sfbridge_writer_batch_seconds",
                                               "Time to apply one batch, commit included")),
        consumer_lag(registry.GaugeFamily("sfbridge_writer_consumer_lag",
                                          "High watermark minus the next offset to apply",
                                          {"topic", "partition"})),
        apply_errors(registry.CounterFamily("sfbridge_writer_apply_errors_total",
                                            "Failed attempts to apply a batch or a schema")),
        parked(registry.CounterFamily("sfbridge_writer_parked_total",
                                      "Messages parked in sfbridge.dead_letters")) {
    // Series without labels are shown from the start, at 0, rather than only once they move.
    batch_seconds.Get();
    apply_errors.Get();
    parked.Get();
  }

  core::Family<core::Counter>& rows_applied;
  core::Family<core::Histogram>& batch_seconds;
  core::Family<core::Gauge>& consumer_lag;
  core::Family<core::Counter>& apply_errors;
  core::Family<core::Counter>& parked;
};

}  // namespace sfbridge::writer
