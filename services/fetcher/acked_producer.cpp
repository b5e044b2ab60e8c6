#include "fetcher/acked_producer.h"

#include <utility>

#include "common/core/strings.h"

namespace sfbridge::fetcher {

absl::StatusOr<std::unique_ptr<AckedProducer>> AckedProducer::Create(
    const kafka::ProducerOptions& options, std::chrono::milliseconds ack_timeout) {
  std::unique_ptr<AckedProducer> self(new AckedProducer());
  self->ack_timeout_ = ack_timeout;
  AckedProducer* raw = self.get();
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer = kafka::Producer::Create(
      options, [raw](const kafka::DeliveryReport& report) { raw->OnDelivery(report); });
  if (!producer.ok()) return producer.status();
  self->producer_ = *std::move(producer);
  return self;
}

void AckedProducer::OnDelivery(const kafka::DeliveryReport& report) {
  if (report.tag < batch_first_tag_) return;
  --pending_;
  if (!report.status.ok() && first_failure_.ok()) {
    first_failure_ = absl::Status(
        report.status.code(),
        core::StrCat("delivery to ", report.topic, " failed: ", report.status.message()));
  }
}

absl::Status AckedProducer::SendAll(const std::string& topic,
                                    const std::vector<OutgoingMessage>& messages) {
  batch_first_tag_ = next_tag_;
  pending_ = 0;
  first_failure_ = absl::OkStatus();
  const auto deadline = std::chrono::steady_clock::now() + ack_timeout_;
  for (const OutgoingMessage& m : messages) {
    while (true) {
      absl::Status s = producer_->Produce(topic, m.key, m.value, next_tag_);
      if (s.ok()) break;
      if (s.code() != absl::StatusCode::kResourceExhausted) return s;
      if (std::chrono::steady_clock::now() >= deadline) {
        return absl::DeadlineExceededError(
            core::StrCat("the producer's queue stayed full while sending to ", topic));
      }
      producer_->Poll(50);  // the local queue is full: serve reports, then try again
    }
    ++next_tag_;
    ++pending_;
  }
  while (pending_ > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(core::StrCat(
          pending_, " of ", messages.size(), " messages to ", topic, " not acknowledged in time"));
    }
    producer_->Poll(100);
  }
  return first_failure_;
}

}  // namespace sfbridge::fetcher
