#include "fetcher/kafka_sink.h"

#include <utility>
#include <vector>

#include "common/control/names.h"

namespace sfbridge::fetcher {

KafkaSink::KafkaSink(AckedProducer& producer, std::string org_id, FetcherMetrics* metrics)
    : producer_(producer),
      org_id_(std::move(org_id)),
      topic_(control::RecordsTopic(org_id_)),
      metrics_(metrics) {}

KafkaSink::Ticket KafkaSink::Send(std::string_view object_name,
                                  const mapping::EncodedChanges& changes) {
  std::vector<OutgoingMessage> messages;
  messages.reserve(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    messages.push_back({changes.key(i), changes.value(i)});
  }
  const Ticket ticket = producer_.Start(topic_, messages);
  pages_[ticket] = Page{std::string(object_name), changes.size()};
  return ticket;
}

std::optional<absl::Status> KafkaSink::Outcome(Ticket ticket, bool wait) {
  std::optional<absl::Status> outcome = producer_.Outcome(ticket, wait);
  if (!outcome) return outcome;
  auto page = pages_.find(ticket);
  if (page != pages_.end()) {
    if (outcome->ok() && metrics_ != nullptr) {
      metrics_->records_published.WithLabels({org_id_, page->second.object_name})
          .Increment(static_cast<double>(page->second.size));
    }
    pages_.erase(page);
  }
  return outcome;
}

void KafkaSink::Forget(Ticket ticket) {
  producer_.Forget(ticket);
  pages_.erase(ticket);
}

}  // namespace sfbridge::fetcher
