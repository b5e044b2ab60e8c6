#include "sfsim/soql/ast.h"

#include "sfsim/soql/datetime.h"

namespace sfbridge::sfsim::soql {
namespace {

std::string_view FieldsText(FieldsFunction fields) {
  switch (fields) {
    case FieldsFunction::kAll:
      return "FIELDS(ALL)";
    case FieldsFunction::kStandard:
      return "FIELDS(STANDARD)";
    case FieldsFunction::kCustom:
      return "FIELDS(CUSTOM)";
  }
  return "FIELDS(?)";
}

void AppendExpr(const Expr& expr, std::string& out) {
  switch (expr.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      const std::string_view joiner = expr.kind == Expr::Kind::kAnd ? " AND " : " OR ";
      for (std::size_t i = 0; i < expr.operands.size(); ++i) {
        if (i > 0) out.append(joiner);
        const Expr& operand = expr.operands[i];
        const bool parenthesise =
            operand.kind == Expr::Kind::kAnd || operand.kind == Expr::Kind::kOr;
        if (parenthesise) out.push_back('(');
        AppendExpr(operand, out);
        if (parenthesise) out.push_back(')');
      }
      return;
    }
    case Expr::Kind::kNot: {
      out.append("NOT ");
      const Expr& operand = expr.operands.front();
      const bool parenthesise = operand.kind != Expr::Kind::kComparison;
      if (parenthesise) out.push_back('(');
      AppendExpr(operand, out);
      if (parenthesise) out.push_back(')');
      return;
    }
    case Expr::Kind::kComparison:
      out.append(expr.field).push_back(' ');
      out.append(ComparisonOpText(expr.op)).push_back(' ');
      if (expr.op == ComparisonOp::kIn || expr.op == ComparisonOp::kNotIn) {
        out.push_back('(');
        for (std::size_t i = 0; i < expr.values.size(); ++i) {
          if (i > 0) out.append(", ");
          out.append(ToSoql(expr.values[i]));
        }
        out.push_back(')');
      } else {
        out.append(ToSoql(expr.values.front()));
      }
      return;
  }
}

}  // namespace

std::string ToSoql(const Literal& literal) {
  const Value& value = literal.value;
  switch (value.Kind()) {
    case ValueKind::kString:
      // The source keeps its escapes, so LIKE's `\%` survives the round trip.
      return "'" + literal.source + "'";
    case ValueKind::kDateTime:
      return FormatDateTimeLiteral(value.Millis());
    default:
      return value.ToString();
  }
}

std::string ToSoql(const Expr& expr) {
  std::string out;
  AppendExpr(expr, out);
  return out;
}

std::string ToSoql(const Query& query) {
  std::string out = "SELECT ";
  if (query.count) {
    out.append("COUNT()");
  } else {
    for (std::size_t i = 0; i < query.select.size(); ++i) {
      if (i > 0) out.append(", ");
      const SelectItem& item = query.select[i];
      out.append(item.kind == SelectItem::Kind::kField ? std::string_view(item.field)
                                                       : FieldsText(item.fields));
    }
  }
  out.append(" FROM ").append(query.object);
  if (query.where) out.append(" WHERE ").append(ToSoql(*query.where));
  for (std::size_t i = 0; i < query.order_by.size(); ++i) {
    const OrderItem& item = query.order_by[i];
    out.append(i == 0 ? " ORDER BY " : ", ").append(item.field);
    if (item.descending) out.append(" DESC");
    if (item.nulls == NullsOrder::kFirst) out.append(" NULLS FIRST");
    if (item.nulls == NullsOrder::kLast) out.append(" NULLS LAST");
  }
  if (query.limit) out.append(" LIMIT ").append(std::to_string(*query.limit));
  if (query.offset) out.append(" OFFSET ").append(std::to_string(*query.offset));
  return out;
}

std::string_view ComparisonOpText(ComparisonOp op) {
  switch (op) {
    case ComparisonOp::kEq:
      return "=";
    case ComparisonOp::kNe:
      return "!=";
    case ComparisonOp::kLt:
      return "<";
    case ComparisonOp::kLe:
      return "<=";
    case ComparisonOp::kGt:
      return ">";
    case ComparisonOp::kGe:
      return ">=";
    case ComparisonOp::kLike:
      return "LIKE";
    case ComparisonOp::kIn:
      return "IN";
    case ComparisonOp::kNotIn:
      return "NOT IN";
  }
  return "?";
}

}  // namespace sfbridge::sfsim::soql
