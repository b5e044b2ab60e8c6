#pragma once

// Topic administration: the fetcher creates its org's topics on start.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sfbridge::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
  std::map<std::string, std::string> configs;  // e.g. {"cleanup.policy", "compact"}
};

// Creates the topic unless it exists (an existing topic is OK and left as it is).
// Errors: kUnavailable when no broker answers within `timeout_ms`; kInvalidArgument for a
// spec the broker refuses.
absl::Status EnsureTopic(const std::string& brokers, const TopicSpec& spec, int timeout_ms = 15000);

}  // namespace sfbridge::kafka

namespace sfbridge::kafka {

struct ClusterInfo {
  int brokers = 0;
  int topics = 0;
  std::string first_broker;  // host:port of the first broker listed
};

// Asks the cluster for its metadata. Errors: kUnavailable when no broker answers in time.
absl::StatusOr<ClusterInfo> DescribeCluster(const std::string& brokers, int timeout_ms = 10000);

struct PartitionWatermarks {
  int partition = 0;
  int64_t low = 0;   // the oldest offset still stored
  int64_t high = 0;  // the offset the next message will get
};

// The watermarks of every partition of `topic`, by partition. Errors: kNotFound when the topic
// does not exist, kUnavailable when no broker answers in time.
absl::StatusOr<std::vector<PartitionWatermarks>> TopicWatermarks(const std::string& brokers,
                                                                 const std::string& topic,
                                                                 int timeout_ms = 10000);

}  // namespace sfbridge::kafka
