#include "sfsim/soql/predicate.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "sfsim/soql/errors.h"
#include "sfsim/soql/record_id.h"

namespace sfbridge::sfsim::soql {
namespace {

bool IsIdType(FieldType type) { return type == FieldType::kId || type == FieldType::kReference; }

// Checks `literal` against the field and returns the value to compare with: ids become their
// canonical 18-character form.
absl::StatusOr<Value> ConvertLiteral(const FieldInfo& field, const Literal& literal) {
  const Value& value = literal.value;
  if (value.IsNull()) return value;
  const ValueKind expected = ValueKindOf(field.type);
  if (value.Kind() != expected) {
    const bool quoted = expected == ValueKind::kString;
    return InvalidFilterError("value of filter criterion for field '" + field.name +
                              "' must be of type " + std::string(SoapTypeName(field.type)) +
                              " and should " + (quoted ? "" : "not ") + "be enclosed in quotes");
  }
  if (IsIdType(field.type) && !value.Text().empty()) {
    std::optional<std::string> id = CanonicalId(value.Text());
    if (!id) return InvalidFilterError("invalid ID field: " + std::string(value.Text()));
    return Value::String(*std::move(id));
  }
  return value;
}

}  // namespace

absl::StatusOr<Predicate> Predicate::Compile(const Expr& expr, const ObjectView& object) {
  absl::StatusOr<Node> root = CompileNode(expr, object);
  if (!root.ok()) return root.status();
  Predicate predicate;
  predicate.root_ = *std::move(root);
  return predicate;
}

absl::StatusOr<Predicate::Node> Predicate::CompileNode(const Expr& expr, const ObjectView& object) {
  Node node;
  if (expr.kind != Expr::Kind::kComparison) {
    node.kind = expr.kind == Expr::Kind::kAnd  ? NodeKind::kAnd
                : expr.kind == Expr::Kind::kOr ? NodeKind::kOr
                                               : NodeKind::kNot;
    node.children.reserve(expr.operands.size());
    for (const Expr& operand : expr.operands) {
      absl::StatusOr<Node> child = CompileNode(operand, object);
      if (!child.ok()) return child.status();
      node.children.push_back(*std::move(child));
    }
    return node;
  }

  const std::optional<std::size_t> index = object.FindField(expr.field);
  if (!index) return NoSuchColumnError(expr.field, object.Name());
  const FieldInfo& field = object.Fields()[*index];
  if (!IsFilterable(field.type)) {
    return InvalidFilterError("field '" + field.name + "' can not be filtered in a query call");
  }
  node.field = *index;
  node.op = expr.op;
  node.collation = CollationOf(field.type);
  const bool ordering = expr.op == ComparisonOp::kLt || expr.op == ComparisonOp::kLe ||
                        expr.op == ComparisonOp::kGt || expr.op == ComparisonOp::kGe;
  if (ordering && field.type == FieldType::kBoolean) {
    return InvalidFilterError("invalid operator on boolean field '" + field.name +
                              "': " + std::string(ComparisonOpText(expr.op)));
  }

  switch (expr.op) {
    case ComparisonOp::kLike: {
      if (ValueKindOf(field.type) != ValueKind::kString || IsIdType(field.type)) {
        return InvalidFilterError("invalid operator on " + std::string(SoapTypeName(field.type)) +
                                  " field '" + field.name + "': LIKE");
      }
      const Literal& literal = expr.values.front();
      if (literal.value.Kind() != ValueKind::kString) {
        return InvalidFilterError("value of filter criterion for field '" + field.name +
                                  "' must be of type string and should be enclosed in quotes");
      }
      absl::StatusOr<LikePattern> pattern = LikePattern::Compile(literal.source);
      if (!pattern.ok()) return InvalidFilterError(std::string(pattern.status().message()));
      node.kind = NodeKind::kLike;
      node.like = *std::move(pattern);
      return node;
    }
    case ComparisonOp::kIn:
    case ComparisonOp::kNotIn: {
      node.kind = expr.op == ComparisonOp::kIn ? NodeKind::kIn : NodeKind::kNotIn;
      for (const Literal& literal : expr.values) {
        absl::StatusOr<Value> value = ConvertLiteral(field, literal);
        if (!value.ok()) return value.status();
        if (value->IsNull()) {
          node.set_has_null = true;
        } else {
          node.set.push_back(*std::move(value));
        }
      }
      const TextCollation collation = node.collation;
      std::sort(node.set.begin(), node.set.end(), [collation](const Value& a, const Value& b) {
        return CompareValues(a, b, collation) < 0;
      });
      return node;
    }
    default: {
      absl::StatusOr<Value> value = ConvertLiteral(field, expr.values.front());
      if (!value.ok()) return value.status();
      if (value->IsNull()) {
        node.kind = expr.op == ComparisonOp::kEq   ? NodeKind::kIsNull
                    : expr.op == ComparisonOp::kNe ? NodeKind::kIsNotNull
                                                   : NodeKind::kNever;
        return node;
      }
      node.kind = NodeKind::kCompare;
      node.literal = *std::move(value);
      return node;
    }
  }
}

bool Predicate::Evaluate(const Node& node, const RecordView& record) {
  switch (node.kind) {
    case NodeKind::kAnd:
      for (const Node& child : node.children) {
        if (!Evaluate(child, record)) return false;
      }
      return true;
    case NodeKind::kOr:
      for (const Node& child : node.children) {
        if (Evaluate(child, record)) return true;
      }
      return false;
    case NodeKind::kNot:
      return !Evaluate(node.children.front(), record);
    case NodeKind::kIsNull:
      return record.Get(node.field).IsNull();
    case NodeKind::kIsNotNull:
      return !record.Get(node.field).IsNull();
    case NodeKind::kNever:
      return false;
    case NodeKind::kCompare: {
      const Value& value = record.Get(node.field);
      if (value.IsNull()) return node.op == ComparisonOp::kNe;
      switch (node.op) {
        case ComparisonOp::kEq:
          return ValuesEqual(value, node.literal, node.collation);
        case ComparisonOp::kNe:
          return !ValuesEqual(value, node.literal, node.collation);
        case ComparisonOp::kLt:
          return CompareValues(value, node.literal, node.collation) < 0;
        case ComparisonOp::kLe:
          return CompareValues(value, node.literal, node.collation) <= 0;
        case ComparisonOp::kGt:
          return CompareValues(value, node.literal, node.collation) > 0;
        case ComparisonOp::kGe:
          return CompareValues(value, node.literal, node.collation) >= 0;
        default:
          return false;
      }
    }
    case NodeKind::kIn:
    case NodeKind::kNotIn: {
      const Value& value = record.Get(node.field);
      bool found;
      if (value.IsNull()) {
        found = node.set_has_null;
      } else {
        const TextCollation collation = node.collation;
        found = std::binary_search(node.set.begin(), node.set.end(), value,
                                   [collation](const Value& a, const Value& b) {
                                     return CompareValues(a, b, collation) < 0;
                                   });
      }
      return node.kind == NodeKind::kIn ? found : !found;
    }
    case NodeKind::kLike: {
      const Value& value = record.Get(node.field);
      return value.Kind() == ValueKind::kString && node.like.Matches(value.Text());
    }
  }
  return false;
}

}  // namespace sfbridge::sfsim::soql
