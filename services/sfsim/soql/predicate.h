#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "sfsim/soql/ast.h"
#include "sfsim/soql/like.h"
#include "sfsim/soql/object_view.h"
#include "sfsim/soql/value.h"

namespace sfbridge::sfsim::soql {

// A WHERE expression resolved against one object: field names replaced by indexes, literals
// checked against field types and converted once (ids to their 18-character form, IN lists
// sorted, LIKE patterns compiled), so that Matches does no lookups and no allocations.
//
// SOQL semantics: text compares case-insensitively except ids; a null field satisfies `!=` and
// NOT IN but no other comparison with a non-null value; `= null` / `!= null` test for null.
// Immutable after Compile; Matches is thread-safe.
class Predicate {
 public:
  // Errors: NotFound (INVALID_FIELD) for an unknown field; InvalidArgument
  // (INVALID_QUERY_FILTER_OPERATOR) for a literal of the wrong type, a malformed id, an operator
  // the field type does not allow, or a field that cannot be filtered.
  static absl::StatusOr<Predicate> Compile(const Expr& expr, const ObjectView& object);

  bool Matches(const RecordView& record) const { return Evaluate(root_, record); }

 private:
  enum class NodeKind : std::uint8_t {
    kAnd,
    kOr,
    kNot,
    kIsNull,
    kIsNotNull,
    kCompare,
    kIn,
    kNotIn,
    kLike,
    kNever,  // `Amount > null`: no record satisfies it
  };
  struct Node {
    NodeKind kind = NodeKind::kNever;
    ComparisonOp op = ComparisonOp::kEq;
    TextCollation collation = TextCollation::kCaseInsensitive;
    bool set_has_null = false;  // kIn / kNotIn: the list contains null
    std::size_t field = 0;
    Value literal;               // kCompare
    std::vector<Value> set;      // kIn / kNotIn: non-null values sorted by CompareValues
    LikePattern like;            // kLike
    std::vector<Node> children;  // kAnd / kOr / kNot
  };

  static absl::StatusOr<Node> CompileNode(const Expr& expr, const ObjectView& object);
  static bool Evaluate(const Node& node, const RecordView& record);

  Node root_;
};

}  // namespace sfbridge::sfsim::soql
