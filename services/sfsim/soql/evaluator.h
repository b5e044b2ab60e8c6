#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "sfsim/soql/ast.h"
#include "sfsim/soql/object_view.h"
#include "sfsim/soql/predicate.h"

// Running a parsed query over one object's records:
//
//   absl::StatusOr<Query> query = Parse(soql);
//   absl::StatusOr<BoundQuery> bound = Bind(*query, account_view);
//   std::vector<std::size_t> rows = Execute(*bound, account_records);
namespace sfbridge::sfsim::soql {

// Salesforce refuses OFFSET above this.
inline constexpr std::int64_t kMaxOffset = 2000;
// FIELDS(ALL) and FIELDS(CUSTOM) require a LIMIT of at most this.
inline constexpr std::int64_t kMaxFieldsFunctionLimit = 200;

// One ORDER BY key resolved to a field index.
struct OrderKey {
  std::size_t field = 0;
  bool descending = false;
  bool nulls_first = true;
  TextCollation collation = TextCollation::kCaseInsensitive;
};

// A query resolved against one object. Immutable; all methods are thread-safe and do no
// allocation or string lookup per record.
class BoundQuery {
 public:
  // SELECT COUNT(): SelectedFields() is then empty.
  bool IsCount() const { return count_; }
  // Indexes into ObjectView::Fields() in select order, FIELDS(...) expanded in describe order,
  // each field at most once.
  const std::vector<std::size_t>& SelectedFields() const { return selected_; }
  const std::vector<OrderKey>& OrderBy() const { return order_by_; }
  std::optional<std::int64_t> Limit() const { return limit_; }
  std::int64_t Offset() const { return offset_; }

  // The WHERE clause; true when there is none.
  bool Matches(const RecordView& record) const {
    return !where_.has_value() || where_->Matches(record);
  }

  // ORDER BY: <0 when `a` comes first, >0 when `b` does, 0 when the keys tie (always 0 without
  // ORDER BY). Nulls go first ascending and last descending unless NULLS FIRST/LAST says.
  int Compare(const RecordView& a, const RecordView& b) const;

  // The [begin, end) positions, within `matched` sorted rows, that OFFSET and LIMIT keep.
  std::pair<std::size_t, std::size_t> Window(std::size_t matched) const;

 private:
  friend absl::StatusOr<BoundQuery> Bind(const Query& query, const ObjectView& object);

  bool count_ = false;
  std::vector<std::size_t> selected_;
  std::optional<Predicate> where_;
  std::vector<OrderKey> order_by_;
  std::optional<std::int64_t> limit_;
  std::int64_t offset_ = 0;
};

// Resolves `query` against `object`. Errors, with the messages Salesforce gives:
//  - NotFound (INVALID_TYPE) when query.object is not `object`'s name (case-insensitive).
//  - NotFound (INVALID_FIELD): `No such column 'Foo' on entity 'Contact'. If you are attempting
//    to use a custom field, ...`.
//  - InvalidArgument (MALFORMED_QUERY): FIELDS(ALL|CUSTOM) without LIMIT <= 200, a field
//    selected twice.
//  - InvalidArgument (INVALID_QUERY_FILTER_OPERATOR): literal of the wrong type (`value of
//    filter criterion for field 'SystemModstamp' must be of type dateTime and should not be
//    enclosed in quotes`), malformed id, operator not allowed on the field, unsortable field.
//  - InvalidArgument (NUMBER_OUTSIDE_VALID_RANGE): OFFSET above kMaxOffset.
// `object` is only read during the call.
absl::StatusOr<BoundQuery> Bind(const Query& query, const ObjectView& object);

// Filters `records`, sorts the matches by ORDER BY (ties keep their order in `records`) and
// applies OFFSET and LIMIT. Returns the indexes into `records` of the rows to return, in order.
std::vector<std::size_t> Execute(const BoundQuery& query, const RecordSet& records);

// What SELECT COUNT() answers: the number of matches, after OFFSET and LIMIT. Does not sort.
std::size_t Count(const BoundQuery& query, const RecordSet& records);

}  // namespace sfbridge::sfsim::soql
