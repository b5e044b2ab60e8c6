#include "common/mapping/record_mapping.h"

#include <google/protobuf/arena.h>

#include "common/core/strings.h"
#include "common/mapping/datetime.h"

namespace sfbridge::mapping {
namespace {

using salesforce::FieldValue;

std::string_view JsonKindName(FieldValue::Kind kind) {
  switch (kind) {
    case FieldValue::Kind::kNull:
      return "null";
    case FieldValue::Kind::kBool:
      return "boolean";
    case FieldValue::Kind::kNumber:
      return "number";
    case FieldValue::Kind::kString:
      return "string";
    case FieldValue::Kind::kObject:
      return "object";
  }
  return "value";
}

absl::Status Mismatch(const FieldPlan& plan, std::string_view record_id, const PlannedField& field,
                      std::string_view what) {
  return absl::FailedPreconditionError(core::StrCat(plan.object_name, " ", record_id, ": field ",
                                                    field.name, " (", field.type, ") ", what));
}

absl::Status WrongKind(const FieldPlan& plan, std::string_view record_id, const PlannedField& field,
                       FieldValue::Kind got, std::string_view expected) {
  return Mismatch(plan, record_id, field,
                  core::StrCat("holds a JSON ", JsonKindName(got), ", expected a JSON ", expected));
}

// Converts one non-null value; `out` is the fresh FieldValue in the change.
absl::Status Convert(const FieldPlan& plan, std::string_view record_id, const PlannedField& field,
                     const FieldValue& value, v1::FieldValue& out) {
  using Kind = FieldValue::Kind;
  switch (field.kind) {
    case ValueKind::kText:
      if (value.kind != Kind::kString)
        return WrongKind(plan, record_id, field, value.kind, "string");
      out.set_text(value.text);
      return absl::OkStatus();
    case ValueKind::kMulti:
      if (value.kind != Kind::kString)
        return WrongKind(plan, record_id, field, value.kind, "string");
      out.set_multi(value.text);
      return absl::OkStatus();
    case ValueKind::kBoolean:
      if (value.kind != Kind::kBool)
        return WrongKind(plan, record_id, field, value.kind, "boolean");
      out.set_boolean(value.boolean);
      return absl::OkStatus();
    case ValueKind::kNumber:
      if (value.kind != Kind::kNumber)
        return WrongKind(plan, record_id, field, value.kind, "number");
      out.set_number(value.text);
      return absl::OkStatus();
    case ValueKind::kDateTime: {
      if (value.kind != Kind::kString)
        return WrongKind(plan, record_id, field, value.kind, "string");
      auto ms = ParseDateTimeMillis(value.text);
      if (!ms) return Mismatch(plan, record_id, field, "holds a string that is not a datetime");
      out.set_datetime_ms(*ms);
      return absl::OkStatus();
    }
    case ValueKind::kDate: {
      if (value.kind != Kind::kString)
        return WrongKind(plan, record_id, field, value.kind, "string");
      auto days = ParseDateDays(value.text);
      if (!days) return Mismatch(plan, record_id, field, "holds a string that is not a date");
      out.set_date_days(*days);
      return absl::OkStatus();
    }
    case ValueKind::kTime: {
      if (value.kind != Kind::kString)
        return WrongKind(plan, record_id, field, value.kind, "string");
      auto ms = ParseTimeMillis(value.text);
      if (!ms) return Mismatch(plan, record_id, field, "holds a string that is not a time");
      out.set_time_ms(*ms);
      return absl::OkStatus();
    }
    case ValueKind::kAny:
      switch (value.kind) {
        case Kind::kBool:
          out.set_boolean(value.boolean);
          break;
        case Kind::kNumber:
          out.set_number(value.text);
          break;
        case Kind::kString:
        case Kind::kObject:
          out.set_text(value.text);
          break;
        case Kind::kNull:
          out.set_null(true);
          break;
      }
      return absl::OkStatus();
  }
  return absl::InternalError("unknown value kind");
}

absl::Status FillRecordChange(std::string_view org_id, const FieldPlan& plan,
                              const salesforce::Record& record, v1::ChangeSource source,
                              int64_t fetched_at_ms, v1::RecordChange& change) {
  std::string_view record_id = record.id;
  if (record_id.empty()) {
    if (const FieldValue* id = record.Find("Id"); id && id->kind == FieldValue::Kind::kString) {
      record_id = id->text;
    } else {
      return absl::FailedPreconditionError(
          core::StrCat(plan.object_name, ": a record without an Id"));
    }
  }
  change.set_org_id(org_id.data(), org_id.size());
  change.set_object_name(plan.object_name);
  change.set_record_id(record_id.data(), record_id.size());
  change.set_source(source);
  change.set_schema_fingerprint(plan.schema_fingerprint);
  change.set_fetched_at_ms(fetched_at_ms);

  auto& fields = *change.mutable_fields();
  const int planned = static_cast<int>(plan.fields.size());
  bool have_modstamp = false;
  // Replies list fields in query order, which is the plan's order: try the next planned field
  // before the hash lookup.
  int next = 0;
  for (const auto& [name, value] : record.fields) {
    int i = next < planned && plan.fields[next].name == name ? next : plan.IndexOf(name);
    if (i < 0) continue;
    next = i + 1;
    const PlannedField& field = plan.fields[i];
    v1::FieldValue& out = fields[name];
    if (value.kind == FieldValue::Kind::kNull) {
      out.set_null(true);
    } else if (absl::Status s = Convert(plan, record_id, field, value, out); !s.ok()) {
      return s;
    }
    if (i == plan.modstamp_index && out.kind_case() == v1::FieldValue::kDatetimeMs) {
      change.set_system_modstamp_ms(out.datetime_ms());
      have_modstamp = true;
    } else if (i == plan.is_deleted_index && out.kind_case() == v1::FieldValue::kBoolean) {
      change.set_deleted(out.boolean());
    }
  }
  if (!have_modstamp) {
    return absl::FailedPreconditionError(
        core::StrCat(plan.object_name, " ", record_id, ": no SystemModstamp in the record"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::RecordChange> ToRecordChange(std::string_view org_id, const FieldPlan& plan,
                                                const salesforce::Record& record,
                                                v1::ChangeSource source, int64_t fetched_at_ms) {
  v1::RecordChange change;
  if (absl::Status s = FillRecordChange(org_id, plan, record, source, fetched_at_ms, change);
      !s.ok()) {
    return s;
  }
  return change;
}

absl::Status ConvertPage(std::string_view org_id, const FieldPlan& plan,
                         const std::vector<salesforce::Record>& records, v1::ChangeSource source,
                         int64_t fetched_at_ms, ChangeBatch& batch) {
  const size_t before = batch.size();
  for (const auto& record : records) {
    v1::RecordChange* change = batch.Add();
    if (absl::Status s = FillRecordChange(org_id, plan, record, source, fetched_at_ms, *change);
        !s.ok()) {
      batch.Truncate(before);
      return s;
    }
  }
  return absl::OkStatus();
}

namespace {

google::protobuf::ArenaOptions BatchArenaOptions() {
  google::protobuf::ArenaOptions options;
  // A 2,000-record page of 30 fields takes a few MB: start big, grow in big steps.
  options.start_block_size = 256 << 10;
  options.max_block_size = 4 << 20;
  return options;
}

}  // namespace

ChangeBatch::ChangeBatch()
    : arena_(std::make_unique<google::protobuf::Arena>(BatchArenaOptions())) {}
ChangeBatch::~ChangeBatch() = default;
ChangeBatch::ChangeBatch(ChangeBatch&&) noexcept = default;
ChangeBatch& ChangeBatch::operator=(ChangeBatch&&) noexcept = default;

v1::RecordChange* ChangeBatch::Add() {
  changes_.push_back(google::protobuf::Arena::CreateMessage<v1::RecordChange>(arena_.get()));
  return changes_.back();
}

void ChangeBatch::Truncate(size_t size) {
  if (size < changes_.size()) changes_.resize(size);
}

}  // namespace sfbridge::mapping
