#include "sfsim/soql/parser.h"

#include <array>
#include <utility>
#include <vector>

#include "sfsim/soql/errors.h"
#include "sfsim/soql/lexer.h"

#define SOQL_RETURN_IF_ERROR(expr)                      \
  do {                                                  \
    if (absl::Status status_ = (expr); !status_.ok()) { \
      return status_;                                   \
    }                                                   \
  } while (false)

namespace sfbridge::sfsim::soql {
namespace {

// Words that end or structure a clause and therefore cannot name a field.
constexpr std::array<std::string_view, 22> kReservedWords = {
    "AND",   "OR",     "NOT",      "SELECT",   "FROM",  "WHERE", "ORDER", "BY",
    "LIMIT", "OFFSET", "GROUP",    "HAVING",   "WITH",  "NULL",  "TRUE",  "FALSE",
    "LIKE",  "IN",     "INCLUDES", "EXCLUDES", "USING", "FOR"};

constexpr std::array<std::string_view, 6> kAggregateFunctions = {
    "COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"};

constexpr std::array<std::string_view, 28> kDateLiterals = {
    "YESTERDAY",    "TODAY",        "TOMORROW",         "LAST_WEEK",
    "THIS_WEEK",    "NEXT_WEEK",    "LAST_MONTH",       "THIS_MONTH",
    "NEXT_MONTH",   "LAST_90_DAYS", "NEXT_90_DAYS",     "THIS_QUARTER",
    "LAST_QUARTER", "NEXT_QUARTER", "THIS_YEAR",        "LAST_YEAR",
    "NEXT_YEAR",    "LAST_N_DAYS",  "NEXT_N_DAYS",      "N_DAYS_AGO",
    "LAST_N_WEEKS", "NEXT_N_WEEKS", "LAST_N_MONTHS",    "NEXT_N_MONTHS",
    "LAST_N_YEARS", "NEXT_N_YEARS", "THIS_FISCAL_YEAR", "THIS_FISCAL_QUARTER"};

template <std::size_t N>
bool IsOneOf(std::string_view word, const std::array<std::string_view, N>& words) {
  for (std::string_view candidate : words) {
    if (EqualsIgnoreCase(word, candidate)) return true;
  }
  return false;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  absl::StatusOr<Query> Run() {
    Query query;
    SOQL_RETURN_IF_ERROR(ParseSelect(query));
    if (!IsWord(Peek(), "FROM")) return Unexpected(Peek());
    Advance();
    const Token& object = Peek();
    // Reserved words are allowed here: `Order` is a standard object.
    if (object.kind != TokenKind::kIdentifier) return Unexpected(object);
    query.object = std::string(object.text);
    query.object_position = object.position;
    Advance();
    SOQL_RETURN_IF_ERROR(RefuseUnsupportedClause());
    if (AcceptWord("WHERE")) {
      absl::StatusOr<Expr> where = ParseCondition(0);
      if (!where.ok()) return where.status();
      query.where = *std::move(where);
    }
    SOQL_RETURN_IF_ERROR(RefuseUnsupportedClause());
    if (IsWord(Peek(), "ORDER")) {
      Advance();
      if (!AcceptWord("BY")) return Unexpected(Peek());
      SOQL_RETURN_IF_ERROR(ParseOrderBy(query));
    }
    SOQL_RETURN_IF_ERROR(RefuseUnsupportedClause());
    if (AcceptWord("LIMIT")) {
      absl::StatusOr<std::int64_t> limit = ParseCount("LIMIT");
      if (!limit.ok()) return limit.status();
      query.limit = *limit;
    }
    if (AcceptWord("OFFSET")) {
      absl::StatusOr<std::int64_t> offset = ParseCount("OFFSET");
      if (!offset.ok()) return offset.status();
      query.offset = *offset;
    }
    SOQL_RETURN_IF_ERROR(RefuseUnsupportedClause());
    if (Peek().kind != TokenKind::kEnd) return Unexpected(Peek());
    return query;
  }

 private:
  const Token& Peek(std::size_t ahead = 0) const {
    const std::size_t index = pos_ + ahead;
    return index < tokens_.size() ? tokens_[index] : tokens_.back();
  }
  void Advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  static bool IsWord(const Token& token, std::string_view word) {
    return token.kind == TokenKind::kIdentifier && EqualsIgnoreCase(token.text, word);
  }
  bool AcceptWord(std::string_view word) {
    if (!IsWord(Peek(), word)) return false;
    Advance();
    return true;
  }

  static absl::Status Unexpected(const Token& token) {
    return MalformedQueryError("unexpected token: " + DescribeToken(token) + At(token.position));
  }
  static absl::Status Unsupported(std::string_view what, const Token& token) {
    return MalformedQueryError(std::string(what) + At(token.position));
  }
  static absl::Status ExpectingRightParenthesis(const Token& token) {
    return MalformedQueryError("expecting a right parentheses, found " + DescribeToken(token) +
                               At(token.position));
  }

  // `Account.Name`, `Owner.Profile.Name`: the whole dotted path, for the message.
  std::string DottedPath() const {
    std::string path(Peek().text);
    for (std::size_t i = 1;
         Peek(i).kind == TokenKind::kDot && Peek(i + 1).kind == TokenKind::kIdentifier; i += 2) {
      path.append(".").append(Peek(i + 1).text);
    }
    return path;
  }

  // Called where a clause may start: names the unsupported clauses instead of a bare
  // "unexpected token".
  absl::Status RefuseUnsupportedClause() const {
    const Token& token = Peek();
    if (token.kind != TokenKind::kIdentifier) return absl::OkStatus();
    if (IsWord(token, "WITH")) return Unsupported("WITH clauses are not supported", token);
    if (IsWord(token, "GROUP")) return Unsupported("GROUP BY is not supported", token);
    if (IsWord(token, "HAVING")) return Unsupported("HAVING is not supported", token);
    if (IsWord(token, "USING")) return Unsupported("USING SCOPE is not supported", token);
    if (IsWord(token, "ALL")) return Unsupported("ALL ROWS is not supported", token);
    if (IsWord(token, "FOR")) {
      return Unsupported("FOR VIEW, FOR REFERENCE and FOR UPDATE are not supported", token);
    }
    if (IsWord(token, "UPDATE")) {
      return Unsupported("UPDATE TRACKING and UPDATE VIEWSTAT are not supported", token);
    }
    return absl::OkStatus();
  }

  // A function call at the current token (`NAME(`), which the caller has detected.
  absl::Status RefuseFunction(bool in_select) const {
    const Token& token = Peek();
    if (IsOneOf(token.text, kAggregateFunctions)) {
      if (IsWord(token, "COUNT") && Peek(2).kind == TokenKind::kRightParen) {
        return Unsupported(in_select ? "COUNT() must be the only element in the SELECT list"
                                     : "COUNT() is only allowed in the SELECT list",
                           token);
      }
      return Unsupported(
          "aggregate function " + std::string(token.text) + "() is not supported (only COUNT())",
          token);
    }
    return Unsupported("function " + std::string(token.text) + "() is not supported", token);
  }

  absl::Status ParseSelect(Query& query) {
    if (!AcceptWord("SELECT")) return Unexpected(Peek());
    if (IsWord(Peek(), "COUNT") && Peek(1).kind == TokenKind::kLeftParen &&
        Peek(2).kind == TokenKind::kRightParen) {
      Advance();
      Advance();
      Advance();
      query.count = true;
      if (Peek().kind == TokenKind::kComma) {
        return Unsupported("COUNT() must be the only element in the SELECT list", Peek());
      }
      return absl::OkStatus();
    }
    while (true) {
      const Token& token = Peek();
      if (token.kind == TokenKind::kLeftParen && IsWord(Peek(1), "SELECT")) {
        return Unsupported("subqueries are not supported", token);
      }
      if (token.kind != TokenKind::kIdentifier || IsOneOf(token.text, kReservedWords)) {
        return Unexpected(token);
      }
      if (IsWord(token, "TYPEOF")) return Unsupported("TYPEOF is not supported", token);
      SelectItem item;
      item.position = token.position;
      if (Peek(1).kind == TokenKind::kLeftParen) {
        if (!IsWord(token, "FIELDS")) return RefuseFunction(/*in_select=*/true);
        Advance();
        Advance();
        const Token& which = Peek();
        if (IsWord(which, "ALL")) {
          item.fields = FieldsFunction::kAll;
        } else if (IsWord(which, "STANDARD")) {
          item.fields = FieldsFunction::kStandard;
        } else if (IsWord(which, "CUSTOM")) {
          item.fields = FieldsFunction::kCustom;
        } else {
          return Unexpected(which);
        }
        Advance();
        if (Peek().kind != TokenKind::kRightParen) return ExpectingRightParenthesis(Peek());
        item.kind = SelectItem::Kind::kFields;
      } else if (Peek(1).kind == TokenKind::kDot) {
        return Unsupported("relationship paths are not supported: '" + DottedPath() + "'", token);
      } else {
        item.field = std::string(token.text);
      }
      Advance();
      query.select.push_back(std::move(item));
      if (Peek().kind != TokenKind::kComma) return absl::OkStatus();
      Advance();
    }
  }

  absl::StatusOr<Expr> ParseCondition(int depth) {
    absl::StatusOr<Expr> first = ParseTerm(depth);
    if (!first.ok()) return first;
    const bool is_and = IsWord(Peek(), "AND");
    if (!is_and && !IsWord(Peek(), "OR")) return first;
    Expr chain;
    chain.kind = is_and ? Expr::Kind::kAnd : Expr::Kind::kOr;
    chain.position = Peek().position;
    chain.operands.push_back(*std::move(first));
    const std::string_view same = is_and ? "AND" : "OR";
    while (AcceptWord(same)) {
      absl::StatusOr<Expr> next = ParseTerm(depth);
      if (!next.ok()) return next;
      chain.operands.push_back(*std::move(next));
    }
    if (IsWord(Peek(), is_and ? "OR" : "AND")) {
      return MalformedQueryError("unexpected token: " + DescribeToken(Peek()) +
                                 At(Peek().position) + " (use parentheses when mixing AND and OR)");
    }
    return chain;
  }

  absl::StatusOr<Expr> ParseTerm(int depth) {
    const Token& token = Peek();
    const bool is_not = IsWord(token, "NOT");
    if (is_not || token.kind == TokenKind::kLeftParen) {
      if (depth + 1 > kMaxExpressionDepth) {
        return Unsupported("expression nested too deeply (more than " +
                               std::to_string(kMaxExpressionDepth) + " levels)",
                           token);
      }
      Advance();
      if (is_not) {
        absl::StatusOr<Expr> operand = ParseTerm(depth + 1);
        if (!operand.ok()) return operand;
        Expr negation;
        negation.kind = Expr::Kind::kNot;
        negation.position = token.position;
        negation.operands.push_back(*std::move(operand));
        return negation;
      }
      if (IsWord(Peek(), "SELECT")) return Unsupported("subqueries are not supported", token);
      absl::StatusOr<Expr> inner = ParseCondition(depth + 1);
      if (!inner.ok()) return inner;
      if (Peek().kind != TokenKind::kRightParen) return ExpectingRightParenthesis(Peek());
      Advance();
      return inner;
    }
    return ParseComparison();
  }

  // The next token must be a plain field name, as WHERE and ORDER BY expect; functions and
  // relationship paths are refused with a message naming them.
  absl::Status ExpectFieldName() {
    const Token& field = Peek();
    if (field.kind != TokenKind::kIdentifier || IsOneOf(field.text, kReservedWords)) {
      return Unexpected(field);
    }
    if (Peek(1).kind == TokenKind::kLeftParen) return RefuseFunction(/*in_select=*/false);
    if (Peek(1).kind == TokenKind::kDot) {
      return Unsupported("relationship paths are not supported: '" + DottedPath() + "'", field);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Expr> ParseComparison() {
    if (absl::Status s = ExpectFieldName(); !s.ok()) return s;
    const Token& field = Peek();
    Expr comparison;
    comparison.field = std::string(field.text);
    comparison.position = field.position;
    Advance();
    const Token& op = Peek();
    switch (op.kind) {
      case TokenKind::kEq:
        comparison.op = ComparisonOp::kEq;
        break;
      case TokenKind::kNe:
        comparison.op = ComparisonOp::kNe;
        break;
      case TokenKind::kLt:
        comparison.op = ComparisonOp::kLt;
        break;
      case TokenKind::kLe:
        comparison.op = ComparisonOp::kLe;
        break;
      case TokenKind::kGt:
        comparison.op = ComparisonOp::kGt;
        break;
      case TokenKind::kGe:
        comparison.op = ComparisonOp::kGe;
        break;
      default:
        if (IsWord(op, "LIKE")) {
          comparison.op = ComparisonOp::kLike;
        } else if (IsWord(op, "IN")) {
          comparison.op = ComparisonOp::kIn;
        } else if (IsWord(op, "NOT") && IsWord(Peek(1), "IN")) {
          comparison.op = ComparisonOp::kNotIn;
          Advance();
        } else if (IsWord(op, "INCLUDES") || IsWord(op, "EXCLUDES")) {
          return Unsupported("INCLUDES and EXCLUDES are not supported", op);
        } else {
          return Unexpected(op);
        }
    }
    Advance();
    if (comparison.op == ComparisonOp::kIn || comparison.op == ComparisonOp::kNotIn) {
      SOQL_RETURN_IF_ERROR(ParseValueList(comparison));
      return comparison;
    }
    absl::StatusOr<Literal> value = ParseLiteral();
    if (!value.ok()) return value.status();
    if (comparison.op == ComparisonOp::kLike && value->value.Kind() != ValueKind::kString) {
      return MalformedQueryError("LIKE requires a string literal, found '" + value->source + "'" +
                                 At(value->position));
    }
    comparison.values.push_back(*std::move(value));
    return comparison;
  }

  absl::Status ParseValueList(Expr& comparison) {
    if (Peek().kind != TokenKind::kLeftParen) {
      return MalformedQueryError("expecting a left parentheses, found " + DescribeToken(Peek()) +
                                 At(Peek().position));
    }
    Advance();
    if (IsWord(Peek(), "SELECT")) {
      return Unsupported("semi-join and anti-join subqueries are not supported", Peek());
    }
    while (true) {
      absl::StatusOr<Literal> value = ParseLiteral();
      if (!value.ok()) return value.status();
      comparison.values.push_back(*std::move(value));
      if (Peek().kind == TokenKind::kComma) {
        Advance();
        continue;
      }
      if (Peek().kind != TokenKind::kRightParen) return ExpectingRightParenthesis(Peek());
      Advance();
      return absl::OkStatus();
    }
  }

  absl::StatusOr<Literal> ParseLiteral() {
    const Token& token = Peek();
    Literal literal;
    literal.source = std::string(token.text);
    literal.position = token.position;
    switch (token.kind) {
      case TokenKind::kString:
      case TokenKind::kNumber:
      case TokenKind::kDate:
      case TokenKind::kDateTime:
      case TokenKind::kTime:
        literal.value = token.value;
        break;
      case TokenKind::kIdentifier:
        if (IsWord(token, "NULL")) {
          literal.value = Value::Null();
        } else if (IsWord(token, "TRUE") || IsWord(token, "FALSE")) {
          literal.value = Value::Boolean(IsWord(token, "TRUE"));
        } else if (IsOneOf(token.text, kDateLiterals)) {
          return Unsupported("date literal " + std::string(token.text) + " is not supported",
                             token);
        } else {
          return Unexpected(token);
        }
        break;
      case TokenKind::kColon:
        return Unsupported("bind variables are not supported", token);
      default:
        return Unexpected(token);
    }
    Advance();
    return literal;
  }

  absl::Status ParseOrderBy(Query& query) {
    while (true) {
      if (absl::Status s = ExpectFieldName(); !s.ok()) return s;
      const Token& field = Peek();
      OrderItem item;
      item.field = std::string(field.text);
      item.position = field.position;
      Advance();
      if (AcceptWord("DESC")) {
        item.descending = true;
      } else {
        AcceptWord("ASC");
      }
      if (AcceptWord("NULLS")) {
        if (AcceptWord("FIRST")) {
          item.nulls = NullsOrder::kFirst;
        } else if (AcceptWord("LAST")) {
          item.nulls = NullsOrder::kLast;
        } else {
          return Unexpected(Peek());
        }
      }
      query.order_by.push_back(std::move(item));
      if (Peek().kind != TokenKind::kComma) return absl::OkStatus();
      Advance();
    }
  }

  // A non-negative integer for LIMIT / OFFSET.
  absl::StatusOr<std::int64_t> ParseCount(std::string_view clause) {
    const Token& token = Peek();
    bool digits_only = token.kind == TokenKind::kNumber && !token.text.empty();
    std::int64_t value = 0;
    for (char c : token.text) {
      if (!digits_only) break;
      if (c < '0' || c > '9' || value > (INT64_MAX - 9) / 10) {
        digits_only = false;
        break;
      }
      value = value * 10 + (c - '0');
    }
    if (!digits_only) {
      return MalformedQueryError(std::string(clause) + " must be a non-negative integer, found " +
                                 DescribeToken(token) + At(token.position));
    }
    Advance();
    return value;
  }

  std::vector<Token> tokens_;  // never empty: ends with kEnd
  std::size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<Query> Parse(std::string_view soql) {
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(soql);
  if (!tokens.ok()) return tokens.status();
  return Parser(*std::move(tokens)).Run();
}

}  // namespace sfbridge::sfsim::soql

#undef SOQL_RETURN_IF_ERROR
