#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sfsim/soql/value.h"

// The syntax tree of the SOQL subset the simulator answers. Names are kept as written; they are
// resolved against an object's fields by Bind (evaluator.h).
namespace sfbridge::sfsim::soql {

// 1-based row and column of a token in the query text, as in Salesforce's
// `ERROR at Row:1:Column:11`.
struct Position {
  int row = 1;
  int column = 1;
  friend bool operator==(const Position&, const Position&) = default;
};

enum class FieldsFunction : std::uint8_t { kAll, kStandard, kCustom };

struct SelectItem {
  enum class Kind : std::uint8_t { kField, kFields };
  Kind kind = Kind::kField;
  std::string field;                             // kField
  FieldsFunction fields = FieldsFunction::kAll;  // kFields: FIELDS(ALL|STANDARD|CUSTOM)
  Position position;
};

struct Literal {
  Value value;
  // Strings: the text between the quotes, escapes not decoded (LIKE needs `\%` vs `%`).
  // Other literals: the token as written.
  std::string source;
  Position position;
};

enum class ComparisonOp : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kIn, kNotIn };

struct Expr {
  enum class Kind : std::uint8_t { kAnd, kOr, kNot, kComparison };
  Kind kind = Kind::kComparison;
  // kAnd / kOr: two or more operands (a chain of one operator is flat). kNot: exactly one.
  std::vector<Expr> operands;
  // kComparison: `field op value`, or `field [NOT] IN (values...)`.
  std::string field;
  Position position;  // of the field, or of the AND/OR/NOT keyword
  ComparisonOp op = ComparisonOp::kEq;
  std::vector<Literal> values;  // exactly one unless op is kIn / kNotIn
};

enum class NullsOrder : std::uint8_t { kDefault, kFirst, kLast };

struct OrderItem {
  std::string field;
  bool descending = false;
  NullsOrder nulls = NullsOrder::kDefault;  // default: first when ascending, last when descending
  Position position;
};

struct Query {
  bool count = false;              // SELECT COUNT(); `select` is then empty
  std::vector<SelectItem> select;  // in the order written
  std::string object;
  Position object_position;
  std::optional<Expr> where;
  std::vector<OrderItem> order_by;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> offset;
};

// Canonical SOQL text: upper-case keywords, one space between tokens, parentheses only where
// needed, literals in a form Parse accepts back (datetimes in UTC as `...T10:20:30.000Z`).
// The operator as SOQL spells it: "=", "!=", "LIKE", "NOT IN", ...
std::string_view ComparisonOpText(ComparisonOp op);

// Parse(ToSoql(q)) yields a query with the same ToSoql.
std::string ToSoql(const Query& query);
std::string ToSoql(const Expr& expr);
std::string ToSoql(const Literal& literal);

}  // namespace sfbridge::sfsim::soql
