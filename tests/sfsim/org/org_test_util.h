#pragma once

#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "sfsim/org/org.h"
#include "tests/fakes/fake_clock.h"

namespace sfbridge::sfsim::org::testing {

inline InputValue Str(std::string text) {
  return {InputValue::Kind::kString, std::move(text), false};
}
inline InputValue Num(std::string text) {
  return {InputValue::Kind::kNumber, std::move(text), false};
}
inline InputValue Bool(bool value) { return {InputValue::Kind::kBool, "", value}; }
inline InputValue Null() { return {}; }

inline std::unique_ptr<Org> MakeOrg(core::Clock& clock, std::map<std::string, int64_t> counts,
                                    uint64_t seed = 1, int burst_size = 250) {
  OrgOptions options;
  options.seed = seed;
  options.counts = std::move(counts);
  options.burst_size = burst_size;
  absl::StatusOr<std::unique_ptr<Org>> org = Org::Create(options, clock);
  EXPECT_TRUE(org.ok()) << org.status();
  return org.ok() ? *std::move(org) : nullptr;
}

inline QueryResult MustQuery(const Org& org, const std::string& soql, bool all = false) {
  Result<QueryResult> result = org.Query(soql, all);
  if (auto* error = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << soql << ": " << error->code << " " << error->message;
    return {};
  }
  return std::get<QueryResult>(std::move(result));
}

inline ApiError QueryError(const Org& org, const std::string& soql) {
  Result<QueryResult> result = org.Query(soql, false);
  if (auto* error = std::get_if<ApiError>(&result)) return *error;
  ADD_FAILURE() << "query succeeded: " << soql;
  return {};
}

// The value of `field` in `record` as Salesforce's JSON would carry it (without quotes).
inline std::string ValueOf(const Org& org, const RecordPtr& record, const std::string& field) {
  const ObjectDef* object = org.ObjectOfId(record->id);
  for (std::size_t i = 0; i < object->fields.size(); ++i) {
    if (object->fields[i].name == field) return record->values[i].ToString();
  }
  ADD_FAILURE() << "no field " << field;
  return "";
}

}  // namespace sfbridge::sfsim::org::testing
