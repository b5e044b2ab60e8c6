#include "common/salesforce/replication.h"

#include <simdjson.h>

#include <cstdio>
#include <ctime>

#include "common/salesforce/json_fields.h"

namespace sfbridge::salesforce {

absl::StatusOr<DeletedRecords> ParseDeletedRecords(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  simdjson::dom::array deleted;
  if (parser.parse(json.data(), json.size()).get_object().get(root) != simdjson::SUCCESS ||
      root["deletedRecords"].get_array().get(deleted) != simdjson::SUCCESS) {
    return absl::InternalError("malformed getDeleted reply: no \"deletedRecords\" array");
  }
  DeletedRecords out;
  for (simdjson::dom::element e : deleted) {
    simdjson::dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) {
      return absl::InternalError("malformed getDeleted reply: an entry is not an object");
    }
    out.deleted_records.push_back({StringField(o, "id"), StringField(o, "deletedDate")});
  }
  out.earliest_date_available = StringField(root, "earliestDateAvailable");
  out.latest_date_covered = StringField(root, "latestDateCovered");
  return out;
}

absl::StatusOr<UpdatedRecords> ParseUpdatedRecords(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  simdjson::dom::array ids;
  if (parser.parse(json.data(), json.size()).get_object().get(root) != simdjson::SUCCESS ||
      root["ids"].get_array().get(ids) != simdjson::SUCCESS) {
    return absl::InternalError("malformed getUpdated reply: no \"ids\" array");
  }
  UpdatedRecords out;
  for (simdjson::dom::element e : ids) {
    std::string_view id;
    if (e.get_string().get(id) != simdjson::SUCCESS) {
      return absl::InternalError("malformed getUpdated reply: an id is not a string");
    }
    out.ids.emplace_back(id);
  }
  out.latest_date_covered = StringField(root, "latestDateCovered");
  return out;
}

absl::StatusOr<std::map<std::string, LimitValue>> ParseLimits(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(json.data(), json.size()).get_object().get(root) != simdjson::SUCCESS) {
    return absl::InternalError("malformed limits reply: not a JSON object");
  }
  std::map<std::string, LimitValue> out;
  for (auto [key, value] : root) {
    simdjson::dom::object o;
    if (value.get_object().get(o) != simdjson::SUCCESS) continue;
    LimitValue limit;
    if (o["Max"].get_int64().get(limit.max) != simdjson::SUCCESS ||
        o["Remaining"].get_int64().get(limit.remaining) != simdjson::SUCCESS) {
      continue;
    }
    out.emplace(std::string(key), limit);
  }
  return out;
}

std::string FormatReplicationTime(core::Clock::WallTime time) {
  std::time_t t = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(time));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace sfbridge::salesforce
