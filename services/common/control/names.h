#pragma once

// The names every service of an org agrees on: Kafka topics and the writer's consumer group.

#include <string>
#include <string_view>

namespace sfbridge::control {

// sfbridge.<org>.records: RecordChange values keyed by record Id.
std::string RecordsTopic(std::string_view org_id);
// sfbridge.<org>.schemas: compacted, ObjectSchema values keyed by object name.
std::string SchemasTopic(std::string_view org_id);
// sfbridge-writer-<org>: the writers' consumer group of the records topic.
std::string WriterConsumerGroup(std::string_view org_id);

}  // namespace sfbridge::control
