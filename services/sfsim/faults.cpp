#include "sfsim/faults.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>

#include "common/core/json_writer.h"
#include "common/core/strings.h"

namespace sfbridge::sfsim {

FaultSettings Faults::Get() const {
  std::lock_guard lock(mu_);
  return settings_;
}

void Faults::Set(const FaultSettings& settings) {
  std::lock_guard lock(mu_);
  settings_ = settings;
}

FaultDecision Faults::Decide(bool is_write, int64_t records) {
  std::lock_guard lock(mu_);
  std::uniform_real_distribution<double> u(0, 1);
  FaultDecision d;
  d.drop = settings_.drop_rate > 0 && u(rng_) < settings_.drop_rate;
  d.fail_5xx = !d.drop && settings_.error_5xx_rate > 0 && u(rng_) < settings_.error_5xx_rate;
  d.cut = !d.drop && !d.fail_5xx && settings_.cut_rate > 0 && u(rng_) < settings_.cut_rate;
  d.lock_error = is_write && settings_.lock_rate > 0 && u(rng_) < settings_.lock_rate;
  d.delay_ms = settings_.latency_ms + settings_.latency_per_record_us * records / 1000;
  if (settings_.slow_rate > 0 && u(rng_) < settings_.slow_rate) d.delay_ms += settings_.slow_ms;
  return d;
}

bool Faults::ObjectFails(std::string_view object) const {
  std::lock_guard lock(mu_);
  for (const std::string& name : settings_.failing_objects) {
    if (name.size() == object.size() &&
        std::equal(name.begin(), name.end(), object.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<FaultSettings> ParseFaultSettings(const std::string& json, FaultSettings base) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return absl::InvalidArgumentError("fault settings: expected a JSON object");
  }
  struct RateField {
    const char* name;
    double* target;
  } rates[] = {{"error5xxRate", &base.error_5xx_rate},
               {"dropRate", &base.drop_rate},
               {"cutRate", &base.cut_rate},
               {"slowRate", &base.slow_rate},
               {"lockRate", &base.lock_rate}};
  for (const RateField& f : rates) {
    double v;
    auto e = doc[f.name];
    if (e.error() == simdjson::NO_SUCH_FIELD) continue;
    if (e.get_double().get(v) != simdjson::SUCCESS || v < 0 || v > 1) {
      return absl::InvalidArgumentError(
          core::StrCat("fault settings: ", f.name, " must be a number from 0 to 1"));
    }
    *f.target = v;
  }
  struct IntField {
    const char* name;
    int64_t* target;
  } ints[] = {{"slowMs", &base.slow_ms},
              {"latencyMs", &base.latency_ms},
              {"latencyPerRecordUs", &base.latency_per_record_us}};
  for (const IntField& f : ints) {
    int64_t v;
    auto e = doc[f.name];
    if (e.error() == simdjson::NO_SUCH_FIELD) continue;
    if (e.get_int64().get(v) != simdjson::SUCCESS || v < 0 || v > 600'000) {
      return absl::InvalidArgumentError(
          core::StrCat("fault settings: ", f.name, " must be an integer from 0 to 600000"));
    }
    *f.target = v;
  }
  if (auto e = doc["failingObjects"]; e.error() != simdjson::NO_SUCH_FIELD) {
    simdjson::dom::array names;
    if (e.get_array().get(names) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("fault settings: failingObjects must be an array");
    }
    base.failing_objects.clear();
    for (simdjson::dom::element name : names) {
      std::string_view text;
      if (name.get_string().get(text) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("fault settings: failingObjects must hold strings");
      }
      base.failing_objects.emplace_back(text);
    }
  }
  return base;
}

std::string FaultSettingsJson(const FaultSettings& s) {
  core::JsonWriter w;
  w.BeginObject()
      .Key("error5xxRate")
      .Raw(core::StrCat(s.error_5xx_rate))
      .Key("dropRate")
      .Raw(core::StrCat(s.drop_rate))
      .Key("cutRate")
      .Raw(core::StrCat(s.cut_rate))
      .Key("slowRate")
      .Raw(core::StrCat(s.slow_rate))
      .Member("slowMs", s.slow_ms)
      .Key("lockRate")
      .Raw(core::StrCat(s.lock_rate))
      .Member("latencyMs", s.latency_ms)
      .Member("latencyPerRecordUs", s.latency_per_record_us)
      .Key("failingObjects")
      .BeginArray();
  for (const std::string& name : s.failing_objects) w.String(name);
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace sfbridge::sfsim
