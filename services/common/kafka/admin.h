#pragma once

// Topic administration: the fetcher creates its org's topics on start.

#include <map>
#include <string>

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

}  // namespace sfbridge::kafka
