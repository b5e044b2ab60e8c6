#pragma once

// `sfbridge doctor`: checks that the configured PostgreSQL and Kafka answer, and says what to
// do when one does not.

#include <ostream>

#include "absl/status/status.h"
#include "common/core/config.h"

namespace sfbridge::cli {

// Adds the keys doctor reads (postgres.url, kafka.brokers).
void AddDoctorKeys(core::ConfigSchema& schema);

// Prints one line per check to `out`. Errors: the first failed check, retryable or not as the
// underlying failure is.
absl::Status RunDoctor(const core::Config& config, std::ostream& out);

}  // namespace sfbridge::cli
