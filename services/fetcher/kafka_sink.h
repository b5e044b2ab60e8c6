#pragma once

// RecordSink over Kafka: every change to sfbridge.<org>.records, keyed by record_id, returning
// only once the broker acknowledged all of them. Counts
// sfbridge_fetcher_records_published_total{org,object}. Not thread-safe; the producer and
// metrics must outlive it.

#include <span>
#include <string>

#include "absl/status/status.h"
#include "fetcher/acked_producer.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/object_sync.h"

namespace sfbridge::fetcher {

class KafkaSink final : public RecordSink {
 public:
  KafkaSink(AckedProducer& producer, std::string org_id, FetcherMetrics* metrics = nullptr);

  absl::Status Publish(std::span<const v1::RecordChange* const> changes) override;

 private:
  AckedProducer& producer_;
  const std::string org_id_;
  const std::string topic_;
  FetcherMetrics* const metrics_;
};

}  // namespace sfbridge::fetcher
