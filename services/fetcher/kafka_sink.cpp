#include "fetcher/kafka_sink.h"

#include <map>
#include <utility>
#include <vector>

#include "common/control/names.h"
#include "common/core/strings.h"

namespace sfbridge::fetcher {

KafkaSink::KafkaSink(AckedProducer& producer, std::string org_id, FetcherMetrics* metrics)
    : producer_(producer),
      org_id_(std::move(org_id)),
      topic_(control::RecordsTopic(org_id_)),
      metrics_(metrics) {}

absl::Status KafkaSink::Publish(std::span<const v1::RecordChange* const> changes) {
  if (changes.empty()) return absl::OkStatus();
  std::vector<std::string> values;
  values.reserve(changes.size());
  std::vector<OutgoingMessage> messages;
  messages.reserve(changes.size());
  for (const v1::RecordChange* change : changes) {
    std::string& value = values.emplace_back();
    if (!change->SerializeToString(&value)) {
      return absl::InternalError(
          core::StrCat("cannot serialize the change of record ", change->record_id()));
    }
  }
  for (size_t i = 0; i < changes.size(); ++i) {
    messages.push_back({changes[i]->record_id(), values[i]});
  }
  absl::Status sent = producer_.SendAll(topic_, messages);
  if (!sent.ok()) return sent;
  if (metrics_ != nullptr) {
    std::map<std::string, int64_t> per_object;
    for (const v1::RecordChange* change : changes) ++per_object[change->object_name()];
    for (const auto& [object, n] : per_object) {
      metrics_->records_published.WithLabels({org_id_, object}).Increment(static_cast<double>(n));
    }
  }
  return absl::OkStatus();
}

}  // namespace sfbridge::fetcher
