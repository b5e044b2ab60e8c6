#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sfsim/soql/value.h"

// What the SOQL evaluator needs to know about an object and its records. The simulator's org
// model implements these; tests use small in-memory fakes.
namespace sfbridge::sfsim::soql {

// Salesforce's describe `type`, reduced to what changes how a field is filtered and sorted.
enum class FieldType : std::uint8_t {
  kId,
  kReference,
  kString,
  kTextArea,
  kLongTextArea,  // also rich text: cannot be filtered or sorted
  kPicklist,
  kMultiPicklist,  // cannot be sorted
  kEmail,
  kPhone,
  kUrl,
  kBoolean,
  kInt,
  kLong,
  kDouble,
  kCurrency,
  kPercent,
  kDate,
  kDateTime,
  kTime,
};

struct FieldInfo {
  std::string name;  // API name as described, e.g. `Amount`, `Region__c`
  FieldType type = FieldType::kString;
  bool custom = false;  // selected by FIELDS(CUSTOM) rather than FIELDS(STANDARD)
};

// An sObject's description. Implementations must be safe to call from several threads at once
// if queries are evaluated concurrently.
class ObjectView {
 public:
  virtual ~ObjectView() = default;
  virtual std::string_view Name() const = 0;
  // In describe order; FIELDS(...) expands in this order. Indexes into this vector are the
  // field indexes passed to RecordView::Get.
  virtual const std::vector<FieldInfo>& Fields() const = 0;
  // Index of the field named `name`, compared case-insensitively; nullopt when there is none.
  // The default scans Fields(); it is called only while binding a query, never per record.
  virtual std::optional<std::size_t> FindField(std::string_view name) const;
};

// One record of an object. Called in the evaluation hot path: Get should be an array access.
class RecordView {
 public:
  virtual ~RecordView() = default;
  // `field_index` < Fields().size(). The value is null or of ValueKindOf(field type); the
  // reference must stay valid while the RecordView does.
  virtual const Value& Get(std::size_t field_index) const = 0;
};

// The records a query runs over, e.g. all live rows of one object.
class RecordSet {
 public:
  virtual ~RecordSet() = default;
  virtual std::size_t Size() const = 0;
  // `index` < Size(); the reference must stay valid during the evaluation.
  virtual const RecordView& At(std::size_t index) const = 0;
};

// The kind of Value a record holds for a field of this type.
ValueKind ValueKindOf(FieldType type);
// The SOAP type name used in Salesforce's messages: string, id, boolean, double, dateTime, ...
std::string_view SoapTypeName(FieldType type);
// Text compared case-sensitively (ids) or not (everything else).
TextCollation CollationOf(FieldType type);
bool IsFilterable(FieldType type);
bool IsSortable(FieldType type);

}  // namespace sfbridge::sfsim::soql
