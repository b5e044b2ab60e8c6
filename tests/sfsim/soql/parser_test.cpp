#include "sfsim/soql/parser.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sfsim/soql/errors.h"

namespace sfbridge::sfsim::soql {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// The error message of a query that must not parse.
std::string ParseError(std::string_view soql) {
  absl::StatusOr<Query> query = Parse(soql);
  if (query.ok()) return "<parsed: " + ToSoql(*query) + ">";
  EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument) << soql;
  EXPECT_EQ(SalesforceErrorCode(query.status()), "MALFORMED_QUERY");
  return Message(query.status());
}

TEST(ParserTest, ParsesTheKeysetPaginationQuery) {
  absl::StatusOr<Query> query = Parse(
      "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > 2024-01-15T10:20:30.000+0000 "
      "OR (SystemModstamp = 2024-01-15T10:20:30.000+0000 AND Id > '003000000000001AAA') "
      "ORDER BY SystemModstamp, Id LIMIT 2000");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_FALSE(query->count);
  ASSERT_EQ(query->select.size(), 2u);
  EXPECT_EQ(query->select[0].field, "Id");
  EXPECT_EQ(query->select[1].field, "SystemModstamp");
  EXPECT_EQ(query->object, "Contact");
  EXPECT_EQ(query->object_position, (Position{1, 32}));
  ASSERT_TRUE(query->where.has_value());
  const Expr& where = *query->where;
  EXPECT_EQ(where.kind, Expr::Kind::kOr);
  ASSERT_EQ(where.operands.size(), 2u);
  const Expr& newer = where.operands[0];
  EXPECT_EQ(newer.kind, Expr::Kind::kComparison);
  EXPECT_EQ(newer.field, "SystemModstamp");
  EXPECT_EQ(newer.op, ComparisonOp::kGt);
  ASSERT_EQ(newer.values.size(), 1u);
  EXPECT_EQ(newer.values[0].value, Value::DateTime(1705314030000));
  const Expr& tie = where.operands[1];
  EXPECT_EQ(tie.kind, Expr::Kind::kAnd);
  ASSERT_EQ(tie.operands.size(), 2u);
  EXPECT_EQ(tie.operands[0].op, ComparisonOp::kEq);
  EXPECT_EQ(tie.operands[1].field, "Id");
  EXPECT_EQ(tie.operands[1].values[0].value, Value::String("003000000000001AAA"));
  ASSERT_EQ(query->order_by.size(), 2u);
  EXPECT_EQ(query->order_by[0].field, "SystemModstamp");
  EXPECT_FALSE(query->order_by[0].descending);
  EXPECT_EQ(query->order_by[1].field, "Id");
  EXPECT_EQ(query->limit, 2000);
  EXPECT_FALSE(query->offset.has_value());
  EXPECT_EQ(ToSoql(*query),
            "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > "
            "2024-01-15T10:20:30.000Z OR (SystemModstamp = 2024-01-15T10:20:30.000Z AND Id > "
            "'003000000000001AAA') ORDER BY SystemModstamp, Id LIMIT 2000");
}

TEST(ParserTest, KeywordsAreCaseInsensitive) {
  absl::StatusOr<Query> query = Parse(
      "select name from account where name like 'A%' and not (x in (1, 2)) and y not in ('a') "
      "order by name desc nulls last, id asc nulls first limit 10 offset 5");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(ToSoql(*query),
            "SELECT name FROM account WHERE name LIKE 'A%' AND NOT x IN (1, 2) AND y NOT IN "
            "('a') ORDER BY name DESC NULLS LAST, id NULLS FIRST LIMIT 10 OFFSET 5");
  EXPECT_EQ(query->order_by[0].nulls, NullsOrder::kLast);
  EXPECT_TRUE(query->order_by[0].descending);
  EXPECT_EQ(query->order_by[1].nulls, NullsOrder::kFirst);
  EXPECT_EQ(query->offset, 5);
}

TEST(ParserTest, SelectListForms) {
  absl::StatusOr<Query> count = Parse("SELECT COUNT() FROM Contact WHERE IsDeleted = false");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_TRUE(count->count);
  EXPECT_TRUE(count->select.empty());
  EXPECT_EQ(count->where->values[0].value, Value::Boolean(false));

  absl::StatusOr<Query> fields =
      Parse("SELECT Id, FIELDS(standard), FIELDS(CUSTOM), FIELDS(ALL) FROM Contact LIMIT 200");
  ASSERT_TRUE(fields.ok()) << fields.status();
  ASSERT_EQ(fields->select.size(), 4u);
  EXPECT_EQ(fields->select[0].kind, SelectItem::Kind::kField);
  EXPECT_EQ(fields->select[1].kind, SelectItem::Kind::kFields);
  EXPECT_EQ(fields->select[1].fields, FieldsFunction::kStandard);
  EXPECT_EQ(fields->select[2].fields, FieldsFunction::kCustom);
  EXPECT_EQ(fields->select[3].fields, FieldsFunction::kAll);
}

TEST(ParserTest, LiteralsOfEveryKind) {
  absl::StatusOr<Query> query = Parse(
      "SELECT Id FROM X WHERE a = null AND b != NULL AND c = TRUE AND d = 'x\\'y' AND "
      "e = 1234.50 AND f = 2024-01-15 AND g = 10:20:30.000Z AND h IN (null, 'a', 2)");
  ASSERT_TRUE(query.ok()) << query.status();
  const std::vector<Expr>& terms = query->where->operands;
  ASSERT_EQ(terms.size(), 8u);
  EXPECT_TRUE(terms[0].values[0].value.IsNull());
  EXPECT_EQ(terms[1].op, ComparisonOp::kNe);
  EXPECT_EQ(terms[2].values[0].value, Value::Boolean(true));
  EXPECT_EQ(terms[3].values[0].value, Value::String("x'y"));
  EXPECT_EQ(terms[3].values[0].source, "x\\'y");
  EXPECT_EQ(terms[4].values[0].value.Text(), "1234.50");
  EXPECT_EQ(terms[5].values[0].value, Value::Date(19737));
  EXPECT_EQ(terms[6].values[0].value.Kind(), ValueKind::kTime);
  ASSERT_EQ(terms[7].values.size(), 3u);
  EXPECT_EQ(ToSoql(*query->where),
            "a = null AND b != null AND c = true AND d = 'x\\'y' AND e = 1234.50 AND "
            "f = 2024-01-15 AND g = 10:20:30.000Z AND h IN (null, 'a', 2)");
}

TEST(ParserTest, NotBindsToTheNextTerm) {
  absl::StatusOr<Query> query =
      Parse("SELECT Id FROM X WHERE NOT a = 1 AND NOT NOT (b = 2 OR c = 3)");
  ASSERT_TRUE(query.ok()) << query.status();
  const Expr& where = *query->where;
  ASSERT_EQ(where.kind, Expr::Kind::kAnd);
  EXPECT_EQ(where.operands[0].kind, Expr::Kind::kNot);
  EXPECT_EQ(where.operands[0].operands[0].field, "a");
  EXPECT_EQ(where.operands[1].kind, Expr::Kind::kNot);
  EXPECT_EQ(where.operands[1].operands[0].kind, Expr::Kind::kNot);
  EXPECT_EQ(where.operands[1].operands[0].operands[0].kind, Expr::Kind::kOr);
}

TEST(ParserTest, OrderIsAnObjectName) {
  absl::StatusOr<Query> query = Parse("SELECT Id FROM Order ORDER BY Id LIMIT 1");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->object, "Order");
  EXPECT_EQ(query->order_by.size(), 1u);
}

TEST(ParserTest, SyntaxErrorsNameTheTokenAndPosition) {
  EXPECT_EQ(ParseError("SELECT Id FORM Account"), "unexpected token: 'FORM' at Row:1:Column:11");
  EXPECT_EQ(ParseError("SELECT Id FROM Account WHERE (Name = 'a' WHERE"),
            "expecting a right parentheses, found 'WHERE' at Row:1:Column:42");
  EXPECT_EQ(ParseError("SELECT Id FROM Account WHERE Name IN 'a'"),
            "expecting a left parentheses, found ''a'' at Row:1:Column:38");
  EXPECT_EQ(ParseError("SELECT Id FROM Account WHERE"),
            "unexpected token: '<EOF>' at Row:1:Column:29");
  EXPECT_EQ(ParseError("SELECT FROM Account"), "unexpected token: 'FROM' at Row:1:Column:8");
  EXPECT_EQ(ParseError("SELECT * FROM Account"), "unexpected token: '*' at Row:1:Column:8");
  EXPECT_EQ(ParseError("SELECT Id, FROM Account"), "unexpected token: 'FROM' at Row:1:Column:12");
  EXPECT_EQ(ParseError("SELECT Id FROM Account;"), "unexpected token: ';' at Row:1:Column:23");
  EXPECT_EQ(ParseError("SELECT Id FROM Account a"), "unexpected token: 'a' at Row:1:Column:24");
  EXPECT_EQ(ParseError("SELECT Id FROM Account WHERE Name IN ()"),
            "unexpected token: ')' at Row:1:Column:39");
  EXPECT_EQ(ParseError("SELECT Id FROM Account WHERE Name NOT LIKE 'a'"),
            "unexpected token: 'NOT' at Row:1:Column:35");
  EXPECT_EQ(ParseError("SELECT Id FROM Account WHERE Name LIKE 5"),
            "LIKE requires a string literal, found '5' at Row:1:Column:40");
  EXPECT_EQ(ParseError("SELECT Id FROM Account LIMIT -1"),
            "LIMIT must be a non-negative integer, found '-1' at Row:1:Column:30");
  EXPECT_EQ(ParseError("SELECT Id FROM Account LIMIT 1.5"),
            "LIMIT must be a non-negative integer, found '1.5' at Row:1:Column:30");
  EXPECT_EQ(ParseError("SELECT Id FROM Account LIMIT 99999999999999999999"),
            "LIMIT must be a non-negative integer, found '99999999999999999999' at "
            "Row:1:Column:30");
  EXPECT_EQ(ParseError("SELECT Id FROM Account ORDER Name"),
            "unexpected token: 'Name' at Row:1:Column:30");
  EXPECT_EQ(ParseError("SELECT Id FROM Account ORDER BY Name NULLS"),
            "unexpected token: '<EOF>' at Row:1:Column:43");
  EXPECT_EQ(ParseError("SELECT Id FROM Account OFFSET 5 LIMIT 5"),
            "unexpected token: 'LIMIT' at Row:1:Column:33");
  EXPECT_EQ(ParseError("SELECT Id FROM Account\nWHERE Name = 'a' Name"),
            "unexpected token: 'Name' at Row:2:Column:18");
}

TEST(ParserTest, MixingAndWithOrNeedsParentheses) {
  EXPECT_EQ(ParseError("SELECT Id FROM X WHERE a = 1 AND b = 2 OR c = 3"),
            "unexpected token: 'OR' at Row:1:Column:40 (use parentheses when mixing AND and OR)");
  EXPECT_EQ(ParseError("SELECT Id FROM X WHERE a = 1 OR b = 2 AND c = 3"),
            "unexpected token: 'AND' at Row:1:Column:39 (use parentheses when mixing AND and OR)");
  EXPECT_TRUE(Parse("SELECT Id FROM X WHERE a = 1 OR (b = 2 AND c = 3)").ok());
}

struct UnsupportedCase {
  const char* soql;
  const char* message;
};

class UnsupportedTest : public ::testing::TestWithParam<UnsupportedCase> {};

TEST_P(UnsupportedTest, IsRefusedByName) {
  EXPECT_THAT(ParseError(GetParam().soql), StartsWith(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Constructs, UnsupportedTest,
    ::testing::Values(
        UnsupportedCase{"SELECT Name FROM Account GROUP BY Name", "GROUP BY is not supported"},
        UnsupportedCase{"SELECT Name FROM Account WHERE Name = 'a' GROUP BY Name",
                        "GROUP BY is not supported"},
        UnsupportedCase{"SELECT Name FROM Account HAVING Name = 'a'", "HAVING is not supported"},
        UnsupportedCase{"SELECT Id FROM Account WITH SECURITY_ENFORCED",
                        "WITH clauses are not supported"},
        UnsupportedCase{"SELECT Id FROM Account LIMIT 1 FOR UPDATE",
                        "FOR VIEW, FOR REFERENCE and FOR UPDATE are not supported"},
        UnsupportedCase{"SELECT Id FROM Account UPDATE TRACKING",
                        "UPDATE TRACKING and UPDATE VIEWSTAT are not supported"},
        UnsupportedCase{"SELECT Id FROM Account USING SCOPE mine", "USING SCOPE is not supported"},
        UnsupportedCase{"SELECT Id FROM Account ALL ROWS", "ALL ROWS is not supported"},
        UnsupportedCase{"SELECT Id, (SELECT Id FROM Contacts) FROM Account",
                        "subqueries are not supported"},
        UnsupportedCase{"SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)",
                        "semi-join and anti-join subqueries are not supported"},
        UnsupportedCase{"SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)",
                        "semi-join and anti-join subqueries are not supported"},
        UnsupportedCase{"SELECT TYPEOF What WHEN Account THEN Name END FROM Event",
                        "TYPEOF is not supported"},
        UnsupportedCase{"SELECT Account.Name FROM Contact",
                        "relationship paths are not supported: 'Account.Name'"},
        UnsupportedCase{"SELECT Id FROM Contact WHERE Account.Owner.Name = 'x'",
                        "relationship paths are not supported: 'Account.Owner.Name'"},
        UnsupportedCase{"SELECT Id FROM Contact ORDER BY Account.Name",
                        "relationship paths are not supported: 'Account.Name'"},
        UnsupportedCase{"SELECT COUNT(Id) FROM Contact",
                        "aggregate function COUNT() is not supported (only COUNT())"},
        UnsupportedCase{"SELECT MAX(Amount) FROM Opportunity",
                        "aggregate function MAX() is not supported (only COUNT())"},
        UnsupportedCase{"SELECT Id, COUNT() FROM Contact",
                        "COUNT() must be the only element in the SELECT list"},
        UnsupportedCase{"SELECT COUNT(), Id FROM Contact",
                        "COUNT() must be the only element in the SELECT list"},
        UnsupportedCase{"SELECT toLabel(Status) FROM Case", "function toLabel() is not supported"},
        UnsupportedCase{"SELECT Id FROM Case WHERE CALENDAR_YEAR(CreatedDate) = 2024",
                        "function CALENDAR_YEAR() is not supported"},
        UnsupportedCase{"SELECT Id FROM Case ORDER BY MAX(CreatedDate)",
                        "aggregate function MAX() is not supported"},
        UnsupportedCase{"SELECT Id FROM Case WHERE Tags__c INCLUDES ('a')",
                        "INCLUDES and EXCLUDES are not supported"},
        UnsupportedCase{"SELECT Id FROM Case WHERE Name = :name",
                        "bind variables are not supported"},
        UnsupportedCase{"SELECT Id FROM Case WHERE CreatedDate > TODAY",
                        "date literal TODAY is not supported"},
        UnsupportedCase{"SELECT Id FROM Case WHERE CreatedDate = LAST_N_DAYS:7",
                        "date literal LAST_N_DAYS is not supported"},
        UnsupportedCase{"SELECT Id FROM Case WHERE (SELECT Id FROM X)",
                        "subqueries are not supported"}));

TEST(ParserTest, NestingIsBounded) {
  const auto nested = [](int depth, std::string_view open) {
    std::string soql = "SELECT Id FROM X WHERE ";
    for (int i = 0; i < depth; ++i) soql.append(open);
    soql.append("a = 1");
    if (open == "(") soql.append(std::string(depth, ')'));
    return soql;
  };
  EXPECT_TRUE(Parse(nested(kMaxExpressionDepth, "(")).ok());
  EXPECT_TRUE(Parse(nested(kMaxExpressionDepth, "NOT ")).ok());
  EXPECT_THAT(ParseError(nested(kMaxExpressionDepth + 1, "(")),
              StartsWith("expression nested too deeply (more than 100 levels)"));
  EXPECT_THAT(ParseError(nested(kMaxExpressionDepth + 1, "NOT ")),
              StartsWith("expression nested too deeply (more than 100 levels)"));
  EXPECT_THAT(ParseError(nested(40'000, "(")), HasSubstr("nested too deeply"));
}

TEST(ParserTest, LongFlatChainsAreNotNesting) {
  std::string soql = "SELECT Id FROM X WHERE a = 0";
  for (int i = 1; i < 5000; ++i) soql.append(" OR a = " + std::to_string(i));
  absl::StatusOr<Query> query = Parse(soql);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->where->operands.size(), 5000u);
}

TEST(ParserTest, RefusesOverlongQueries) {
  std::string soql = "SELECT Id FROM X WHERE a IN (1";
  while (soql.size() <= 100'000) soql.append(", 1");
  soql.append(")");
  EXPECT_THAT(ParseError(soql), HasSubstr("the maximum is 100000"));
}

TEST(ParserTest, ToSoqlRoundTrips) {
  for (const char* soql : {
           "SELECT Id FROM X WHERE (a = 1 OR b = 2) AND NOT (c LIKE 'x\\%y%' AND d <= 3.0)",
           "SELECT COUNT() FROM X WHERE t >= 2024-01-15T10:20:30+05:30 LIMIT 5",
           "SELECT FIELDS(ALL) FROM X WHERE d IN (2024-01-01, 2024-02-29) LIMIT 200 OFFSET 10",
       }) {
    absl::StatusOr<Query> first = Parse(soql);
    ASSERT_TRUE(first.ok()) << soql << ": " << first.status();
    absl::StatusOr<Query> second = Parse(ToSoql(*first));
    ASSERT_TRUE(second.ok()) << ToSoql(*first) << ": " << second.status();
    EXPECT_EQ(ToSoql(*first), ToSoql(*second));
  }
}

}  // namespace
}  // namespace sfbridge::sfsim::soql
