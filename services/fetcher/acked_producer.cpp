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
  auto it = batches_.find(report.tag);
  if (it == batches_.end()) return;
  Batch& batch = it->second;
  --batch.pending;
  if (!report.status.ok() && batch.first_failure.ok()) {
    batch.first_failure = absl::Status(
        report.status.code(),
        core::StrCat("delivery to ", report.topic, " failed: ", report.status.message()));
  }
}

AckedProducer::Ticket AckedProducer::Start(const std::string& topic,
                                           const std::vector<OutgoingMessage>& messages) {
  const Ticket ticket = next_ticket_++;
  Batch& batch = batches_[ticket];
  batch.topic = topic;
  batch.size = messages.size();
  batch.deadline = std::chrono::steady_clock::now() + ack_timeout_;
  for (const OutgoingMessage& m : messages) {
    while (true) {
      absl::Status s = producer_->Produce(topic, m.key, m.value, ticket);
      if (s.ok()) break;
      if (s.code() != absl::StatusCode::kResourceExhausted) {
        batch.first_failure = s;
        return ticket;
      }
      if (std::chrono::steady_clock::now() >= batch.deadline) {
        batch.first_failure = absl::DeadlineExceededError(
            core::StrCat("the producer's queue stayed full while sending to ", topic));
        return ticket;
      }
      producer_->Poll(50);  // the local queue is full: serve reports, then try again
    }
    ++batch.pending;
  }
  return ticket;
}

std::optional<absl::Status> AckedProducer::Outcome(Ticket ticket, bool wait) {
  producer_->Poll(0);
  auto it = batches_.find(ticket);
  if (it == batches_.end()) {
    return absl::NotFoundError(core::StrCat("no batch ", ticket, " is in flight"));
  }
  while (it->second.pending > 0 && it->second.first_failure.ok()) {
    if (!wait) return std::nullopt;
    if (std::chrono::steady_clock::now() >= it->second.deadline) {
      absl::Status late = absl::DeadlineExceededError(
          core::StrCat(it->second.pending, " of ", it->second.size, " messages to ",
                       it->second.topic, " not acknowledged in time"));
      batches_.erase(it);
      return late;
    }
    producer_->Poll(100);  // reports only update batches: `it` stays valid
  }
  absl::Status outcome = std::move(it->second.first_failure);
  batches_.erase(it);
  return outcome;
}

absl::Status AckedProducer::SendAll(const std::string& topic,
                                    const std::vector<OutgoingMessage>& messages) {
  return *Outcome(Start(topic, messages), /*wait=*/true);
}

}  // namespace sfbridge::fetcher
