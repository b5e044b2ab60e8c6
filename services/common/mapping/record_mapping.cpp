#include "common/mapping/record_mapping.h"

#include <cstring>
#include <optional>
#include <string>
#include <utility>

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

// One non-null value converted for its field, before it is stored anywhere: what a
// v1::FieldValue holds. `text` points into the record.
struct Mapped {
  v1::FieldValue::KindCase kind = v1::FieldValue::kNull;
  std::string_view text;  // kText, kNumber, kMulti
  int64_t integer = 0;    // kDatetimeMs, kDateDays, kTimeMs
  bool flag = false;      // kBoolean
};

absl::Status Convert(const FieldPlan& plan, std::string_view record_id, const PlannedField& field,
                     const FieldValue& value, Mapped& out) {
  using Kind = FieldValue::Kind;
  using Out = v1::FieldValue;
  switch (field.kind) {
    case ValueKind::kText:
    case ValueKind::kMulti:
      if (value.kind != Kind::kString)
        return WrongKind(plan, record_id, field, value.kind, "string");
      out.kind = field.kind == ValueKind::kText ? Out::kText : Out::kMulti;
      out.text = value.text;
      return absl::OkStatus();
    case ValueKind::kBoolean:
      if (value.kind != Kind::kBool)
        return WrongKind(plan, record_id, field, value.kind, "boolean");
      out.kind = Out::kBoolean;
      out.flag = value.boolean;
      return absl::OkStatus();
    case ValueKind::kNumber:
      if (value.kind != Kind::kNumber)
        return WrongKind(plan, record_id, field, value.kind, "number");
      out.kind = Out::kNumber;
      out.text = value.text;
      return absl::OkStatus();
    case ValueKind::kDateTime: {
      if (value.kind != Kind::kString)
        return WrongKind(plan, record_id, field, value.kind, "string");
      auto ms = ParseDateTimeMillis(value.text);
      if (!ms) return Mismatch(plan, record_id, field, "holds a string that is not a datetime");
      out.kind = Out::kDatetimeMs;
      out.integer = *ms;
      return absl::OkStatus();
    }
    case ValueKind::kDate: {
      if (value.kind != Kind::kString)
        return WrongKind(plan, record_id, field, value.kind, "string");
      auto days = ParseDateDays(value.text);
      if (!days) return Mismatch(plan, record_id, field, "holds a string that is not a date");
      out.kind = Out::kDateDays;
      out.integer = *days;
      return absl::OkStatus();
    }
    case ValueKind::kTime: {
      if (value.kind != Kind::kString)
        return WrongKind(plan, record_id, field, value.kind, "string");
      auto ms = ParseTimeMillis(value.text);
      if (!ms) return Mismatch(plan, record_id, field, "holds a string that is not a time");
      out.kind = Out::kTimeMs;
      out.integer = *ms;
      return absl::OkStatus();
    }
    case ValueKind::kAny:
      switch (value.kind) {
        case Kind::kBool:
          out.kind = Out::kBoolean;
          out.flag = value.boolean;
          break;
        case Kind::kNumber:
          out.kind = Out::kNumber;
          out.text = value.text;
          break;
        case Kind::kString:
        case Kind::kObject:
          out.kind = Out::kText;
          out.text = value.text;
          break;
        case Kind::kNull:
          out.kind = Out::kNull;
          break;
      }
      return absl::OkStatus();
  }
  return absl::InternalError("unknown value kind");
}

// The record's id: its Id field (Record::id, or looked up when that is empty).
absl::StatusOr<std::string_view> RecordIdOf(const FieldPlan& plan,
                                            const salesforce::Record& record) {
  if (!record.id.empty()) return std::string_view(record.id);
  if (const FieldValue* id = record.Find("Id"); id && id->kind == FieldValue::Kind::kString) {
    return std::string_view(id->text);
  }
  return absl::FailedPreconditionError(core::StrCat(plan.object_name, ": a record without an Id"));
}

// What a record says about itself besides its fields.
struct RecordFacts {
  std::optional<int64_t> modstamp_ms;
  bool deleted = false;
};

// Converts every planned field of `record` in reply order, handing each to
// `emit(name, const Mapped&)`; the last value of a field named twice wins, as in a map.
template <typename Emit>
absl::Status MapFields(const FieldPlan& plan, const salesforce::Record& record,
                       std::string_view record_id, RecordFacts& facts, Emit&& emit) {
  const int planned = static_cast<int>(plan.fields.size());
  // Replies list fields in query order, which is the plan's order: try the next planned field
  // before the hash lookup.
  int next = 0;
  for (const auto& [name, value] : record.fields) {
    int i = next < planned && plan.fields[next].name == name ? next : plan.IndexOf(name);
    if (i < 0) continue;
    next = i + 1;
    Mapped mapped;
    if (value.kind != FieldValue::Kind::kNull) {
      if (absl::Status s = Convert(plan, record_id, plan.fields[i], value, mapped); !s.ok()) {
        return s;
      }
    }
    if (i == plan.modstamp_index && mapped.kind == v1::FieldValue::kDatetimeMs) {
      facts.modstamp_ms = mapped.integer;
    } else if (i == plan.is_deleted_index && mapped.kind == v1::FieldValue::kBoolean) {
      facts.deleted = mapped.flag;
    }
    emit(name, mapped);
  }
  if (!facts.modstamp_ms) {
    return absl::FailedPreconditionError(
        core::StrCat(plan.object_name, " ", record_id, ": no SystemModstamp in the record"));
  }
  return absl::OkStatus();
}

void SetValue(const Mapped& mapped, v1::FieldValue& out) {
  switch (mapped.kind) {
    case v1::FieldValue::kNull:
    case v1::FieldValue::KIND_NOT_SET:
      out.set_null(true);
      break;
    case v1::FieldValue::kText:
      out.set_text(mapped.text.data(), mapped.text.size());
      break;
    case v1::FieldValue::kBoolean:
      out.set_boolean(mapped.flag);
      break;
    case v1::FieldValue::kNumber:
      out.set_number(mapped.text.data(), mapped.text.size());
      break;
    case v1::FieldValue::kDatetimeMs:
      out.set_datetime_ms(mapped.integer);
      break;
    case v1::FieldValue::kDateDays:
      out.set_date_days(static_cast<int32_t>(mapped.integer));
      break;
    case v1::FieldValue::kTimeMs:
      out.set_time_ms(static_cast<int32_t>(mapped.integer));
      break;
    case v1::FieldValue::kMulti:
      out.set_multi(mapped.text.data(), mapped.text.size());
      break;
  }
}

absl::Status FillRecordChange(std::string_view org_id, const FieldPlan& plan,
                              const salesforce::Record& record, v1::ChangeSource source,
                              int64_t fetched_at_ms, v1::RecordChange& change) {
  absl::StatusOr<std::string_view> record_id = RecordIdOf(plan, record);
  if (!record_id.ok()) return record_id.status();
  change.set_org_id(org_id.data(), org_id.size());
  change.set_object_name(plan.object_name);
  change.set_record_id(record_id->data(), record_id->size());
  change.set_source(source);
  change.set_schema_fingerprint(plan.schema_fingerprint);
  change.set_fetched_at_ms(fetched_at_ms);
  auto& fields = *change.mutable_fields();
  RecordFacts facts;
  absl::Status s = MapFields(plan, record, *record_id, facts,
                             [&](const std::string& name, const Mapped& mapped) {
                               v1::FieldValue& out = fields[name];
                               out.Clear();
                               SetValue(mapped, out);
                             });
  if (!s.ok()) return s;
  change.set_system_modstamp_ms(*facts.modstamp_ms);
  change.set_deleted(facts.deleted);
  return absl::OkStatus();
}

// Protocol buffers wire format, as much of it as RecordChange needs.
namespace wire {

enum Type : uint32_t { kVarint = 0, kLengthDelimited = 2 };

constexpr uint8_t Tag(uint32_t field, Type type) {
  return static_cast<uint8_t>((field << 3) | type);
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutVarint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

// int32 and int64 fields: negative values are sign-extended to 64 bits, as protobuf does.
uint64_t AsVarint(int64_t v) { return static_cast<uint64_t>(v); }

void PutBytes(std::string& out, uint32_t field, std::string_view bytes) {
  out.push_back(static_cast<char>(Tag(field, kLengthDelimited)));
  PutVarint(out, bytes.size());
  out.append(bytes);
}

void PutInteger(std::string& out, uint32_t field, uint64_t v) {
  out.push_back(static_cast<char>(Tag(field, kVarint)));
  PutVarint(out, v);
}

// The size of a v1::FieldValue holding `mapped`: one oneof member, tag included.
size_t ValueSize(const Mapped& mapped) {
  switch (mapped.kind) {
    case v1::FieldValue::kText:
    case v1::FieldValue::kNumber:
    case v1::FieldValue::kMulti:
      return 1 + VarintSize(mapped.text.size()) + mapped.text.size();
    case v1::FieldValue::kDatetimeMs:
    case v1::FieldValue::kDateDays:
    case v1::FieldValue::kTimeMs:
      return 1 + VarintSize(AsVarint(mapped.integer));
    default:
      return 2;  // null, boolean
  }
}

// Writers into room already made: each returns the end of what it wrote.
char* WriteVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

char* WriteBytes(char* p, uint32_t field, std::string_view bytes) {
  *p++ = static_cast<char>(Tag(field, kLengthDelimited));
  p = WriteVarint(p, bytes.size());
  std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

char* WriteInteger(char* p, uint32_t field, uint64_t v) {
  *p++ = static_cast<char>(Tag(field, kVarint));
  return WriteVarint(p, v);
}

char* WriteValue(char* p, const Mapped& mapped) {
  switch (mapped.kind) {
    case v1::FieldValue::kText:
    case v1::FieldValue::kNumber:
    case v1::FieldValue::kMulti:
      return WriteBytes(p, static_cast<uint32_t>(mapped.kind), mapped.text);
    case v1::FieldValue::kDatetimeMs:
    case v1::FieldValue::kDateDays:
    case v1::FieldValue::kTimeMs:
      return WriteInteger(p, static_cast<uint32_t>(mapped.kind), AsVarint(mapped.integer));
    case v1::FieldValue::kBoolean:
      return WriteInteger(p, v1::FieldValue::kBooleanFieldNumber, mapped.flag ? 1 : 0);
    default:
      return WriteInteger(p, v1::FieldValue::kNullFieldNumber, 1);
  }
}

// One entry of RecordChange.fields: a message {1: key, 2: value}. Its size is known before it
// is written, so it is written in one piece (the busiest loop of a page's encoding).
void PutFieldEntry(std::string& out, std::string_view name, const Mapped& mapped) {
  const size_t value_size = ValueSize(mapped);
  const size_t entry_size =
      1 + VarintSize(name.size()) + name.size() + 1 + VarintSize(value_size) + value_size;
  const size_t at = out.size();
  out.resize(at + 1 + VarintSize(entry_size) + entry_size);
  char* p = out.data() + at;
  *p++ = static_cast<char>(Tag(v1::RecordChange::kFieldsFieldNumber, kLengthDelimited));
  p = WriteVarint(p, entry_size);
  p = WriteBytes(p, 1, name);
  *p++ = static_cast<char>(Tag(2, kLengthDelimited));
  p = WriteVarint(p, value_size);
  WriteValue(p, mapped);
}

}  // namespace wire

// Appends the serialized RecordChange of `record` to `out`; `id` is set to where the record id's
// bytes lie in `out` (offset, size).
absl::Status EncodeRecordChange(std::string_view org_id, const FieldPlan& plan,
                                const salesforce::Record& record, v1::ChangeSource source,
                                int64_t fetched_at_ms, std::string& out,
                                std::pair<size_t, size_t>& id) {
  using v1::RecordChange;
  absl::StatusOr<std::string_view> record_id = RecordIdOf(plan, record);
  if (!record_id.ok()) return record_id.status();
  // Proto3 leaves out fields at their default value; a parser accepts fields in any order.
  if (!org_id.empty()) wire::PutBytes(out, RecordChange::kOrgIdFieldNumber, org_id);
  if (!plan.object_name.empty()) {
    wire::PutBytes(out, RecordChange::kObjectNameFieldNumber, plan.object_name);
  }
  wire::PutBytes(out, RecordChange::kRecordIdFieldNumber, *record_id);
  id = {out.size() - record_id->size(), record_id->size()};
  if (source != v1::CHANGE_SOURCE_UNSPECIFIED) {
    wire::PutInteger(out, RecordChange::kSourceFieldNumber, static_cast<uint64_t>(source));
  }
  RecordFacts facts;
  absl::Status s = MapFields(plan, record, *record_id, facts,
                             [&](const std::string& name, const Mapped& mapped) {
                               wire::PutFieldEntry(out, name, mapped);
                             });
  if (!s.ok()) return s;
  if (*facts.modstamp_ms != 0) {
    wire::PutInteger(out, RecordChange::kSystemModstampMsFieldNumber,
                     wire::AsVarint(*facts.modstamp_ms));
  }
  if (facts.deleted) wire::PutInteger(out, RecordChange::kDeletedFieldNumber, 1);
  if (!plan.schema_fingerprint.empty()) {
    wire::PutBytes(out, RecordChange::kSchemaFingerprintFieldNumber, plan.schema_fingerprint);
  }
  if (fetched_at_ms != 0) {
    wire::PutInteger(out, RecordChange::kFetchedAtMsFieldNumber, wire::AsVarint(fetched_at_ms));
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

absl::Status EncodePage(std::string_view org_id, const FieldPlan& plan,
                        const std::vector<salesforce::Record>& records, v1::ChangeSource source,
                        int64_t fetched_at_ms, EncodedChanges& out) {
  const size_t bytes_before = out.bytes_.size();
  const size_t messages_before = out.messages_.size();
  for (const auto& record : records) {
    const size_t begin = out.bytes_.size();
    std::pair<size_t, size_t> id;
    if (absl::Status s =
            EncodeRecordChange(org_id, plan, record, source, fetched_at_ms, out.bytes_, id);
        !s.ok()) {
      out.bytes_.resize(bytes_before);
      out.messages_.resize(messages_before);
      return s;
    }
    out.messages_.push_back({begin, out.bytes_.size() - begin, id.first, id.second});
  }
  return absl::OkStatus();
}

}  // namespace sfbridge::mapping
