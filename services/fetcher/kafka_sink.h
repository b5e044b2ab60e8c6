#pragma once

// RecordSink over Kafka: every change to sfbridge.<org>.records, keyed by record_id; a page's
// outcome is OK only once the broker acknowledged all of it. Counts
// sfbridge_fetcher_records_published_total{org,object} as pages are acknowledged. Not
// thread-safe; the producer and metrics must outlive it.

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/status.h"
#include "fetcher/acked_producer.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/object_sync.h"

namespace sfbridge::fetcher {

class KafkaSink final : public RecordSink {
 public:
  KafkaSink(AckedProducer& producer, std::string org_id, FetcherMetrics* metrics = nullptr);

  Ticket Send(std::string_view object_name, const mapping::EncodedChanges& changes) override;
  std::optional<absl::Status> Outcome(Ticket ticket, bool wait) override;
  void Forget(Ticket ticket) override;

 private:
  struct Page {
    std::string object_name;
    size_t size = 0;
  };

  AckedProducer& producer_;
  const std::string org_id_;
  const std::string topic_;
  FetcherMetrics* const metrics_;
  std::unordered_map<Ticket, Page> pages_;  // in flight, for the metrics
};

}  // namespace sfbridge::fetcher
