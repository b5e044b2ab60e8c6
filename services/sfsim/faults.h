#pragma once

// Faults and modelled latency, set at start and changeable while running (admin API).
// Thread-safe; decisions are drawn from one seeded generator so a run can be repeated.

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sfbridge::sfsim {

struct FaultSettings {
  double error_5xx_rate = 0;  // share of REST calls answered 503 SERVER_UNAVAILABLE
  double drop_rate = 0;       // share of calls whose connection is closed unanswered
  // Share of calls answered with their head and half their body, then the connection closed
  // (a reply that breaks off on the way: the call was applied).
  double cut_rate = 0;
  double slow_rate = 0;  // share of calls delayed by slow_ms
  int64_t slow_ms = 0;
  double lock_rate = 0;               // share of writes failing UNABLE_TO_LOCK_ROW
  int64_t latency_ms = 0;             // added to every REST call (a real org's round trip)
  int64_t latency_per_record_us = 0;  // added per record returned or written
  // Objects whose describe and queries are answered 503 SERVER_UNAVAILABLE (API names).
  std::vector<std::string> failing_objects;
};

// What to do to one call.
struct FaultDecision {
  bool fail_5xx = false;
  bool drop = false;
  bool cut = false;
  bool lock_error = false;
  int64_t delay_ms = 0;
};

class Faults {
 public:
  explicit Faults(uint64_t seed) : rng_(seed) {}
  FaultSettings Get() const;
  void Set(const FaultSettings& settings);
  // `is_write`: lock errors apply to writes only. `records`: how many records the call carries.
  FaultDecision Decide(bool is_write, int64_t records);
  // Whether calls on `object` fail (case-insensitive).
  bool ObjectFails(std::string_view object) const;

 private:
  mutable std::mutex mu_;
  FaultSettings settings_;
  std::mt19937_64 rng_;
};

// Reads settings from a JSON object with the members of FaultSettings in camelCase
// (error5xxRate, dropRate, cutRate, slowRate, slowMs, lockRate, latencyMs, latencyPerRecordUs,
// failingObjects: an array of object names); members
// left out keep their value in `base`. Errors: malformed JSON, a rate outside [0, 1].
absl::StatusOr<FaultSettings> ParseFaultSettings(const std::string& json, FaultSettings base);
std::string FaultSettingsJson(const FaultSettings& settings);

}  // namespace sfbridge::sfsim
