#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "sfsim/soql/object_view.h"
#include "sfsim/soql/record_id.h"
#include "sfsim/soql/value.h"

// In-memory stand-ins for the simulator's org model, used by the SOQL tests and benchmark.
namespace sfbridge::sfsim::soql::testing {

class FakeObject : public ObjectView {
 public:
  FakeObject(std::string name, std::vector<FieldInfo> fields)
      : name_(std::move(name)), fields_(std::move(fields)) {}
  std::string_view Name() const override { return name_; }
  const std::vector<FieldInfo>& Fields() const override { return fields_; }

 private:
  std::string name_;
  std::vector<FieldInfo> fields_;
};

class FakeRecord : public RecordView {
 public:
  explicit FakeRecord(std::vector<Value> values) : values_(std::move(values)) {}
  const Value& Get(std::size_t field_index) const override { return values_[field_index]; }
  Value& Mutable(std::size_t field_index) { return values_[field_index]; }

 private:
  std::vector<Value> values_;
};

class FakeRecordSet : public RecordSet {
 public:
  std::size_t Size() const override { return records_.size(); }
  const RecordView& At(std::size_t index) const override { return records_[index]; }
  void Add(std::vector<Value> values) { records_.emplace_back(std::move(values)); }
  const FakeRecord& Record(std::size_t index) const { return records_[index]; }

 private:
  std::vector<FakeRecord> records_;
};

// Field indexes of the Contact object below.
enum ContactField : std::size_t {
  kIdField,
  kNameField,
  kEmailField,
  kAmountField,
  kSystemModstampField,
  kBirthdateField,
  kIsDeletedField,
  kDescriptionField,
  kScoreField,
  kAccountIdField,
  kWakeUpField,
  kTagsField,
  kContactFieldCount,
};

inline FakeObject MakeContactObject() {
  return FakeObject("Contact", {
                                   {"Id", FieldType::kId, false},
                                   {"Name", FieldType::kString, false},
                                   {"Email", FieldType::kEmail, false},
                                   {"Amount__c", FieldType::kCurrency, true},
                                   {"SystemModstamp", FieldType::kDateTime, false},
                                   {"Birthdate", FieldType::kDate, false},
                                   {"IsDeleted", FieldType::kBoolean, false},
                                   {"Description", FieldType::kLongTextArea, false},
                                   {"Score__c", FieldType::kDouble, true},
                                   {"AccountId", FieldType::kReference, false},
                                   {"Wake_Up__c", FieldType::kTime, true},
                                   {"Tags__c", FieldType::kMultiPicklist, true},
                               });
}

// The canonical 18-character id of the n-th Contact: `003` + n padded to 12 digits + suffix.
inline std::string ContactId(long long n) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "003%012lld", n);
  return *CanonicalId(buffer);
}

}  // namespace sfbridge::sfsim::soql::testing
