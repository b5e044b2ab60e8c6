#include "sfsim/soql/evaluator.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sfsim/soql/datetime.h"
#include "sfsim/soql/errors.h"
#include "sfsim/soql/parser.h"
#include "tests/sfsim/soql/fake_object.h"

namespace sfbridge::sfsim::soql {
namespace {

using testing::ContactId;
using ::testing::ElementsAre;
using testing::FakeRecordSet;
using ::testing::IsEmpty;
using testing::MakeContactObject;

constexpr std::int64_t kT0 = 1705314030000;  // 2024-01-15T10:20:30Z

Value Number(std::string_view text) { return *Value::ParseNumber(text); }
Value Date(std::string_view text) { return *Value::ParseDate(text); }
Value Time(std::string_view text) { return *Value::ParseTime(text); }
std::string Message(const absl::Status& status) { return std::string(status.message()); }

class EvaluatorTest : public ::testing::Test {
 protected:
  EvaluatorTest() {
    // Record n (1-based) has id ContactId(n).
    Add(1, Value::String("Alice Smith"), Value::String("alice@x.com"), Number("1234.50"),
        Value::DateTime(kT0), Date("1990-05-01"), false, Number("9.5"), Time("08:00:00Z"));
    Add(2, Value::String("bob jones"), Value(), Number("0.10"), Value::DateTime(kT0), Value(),
        false, Value(), Time("06:30:00Z"));
    Add(3, Value::String("Carol"), Value::String("carol@y.org"), Value(),
        Value::DateTime(kT0 + 1000), Date("1985-12-31"), true, Number("3"), Value());
    Add(4, Value::String("ALICE cooper"), Value::String("ac@x.com"), Number("99999999999999.99"),
        Value::DateTime(kT0 + 1000), Date("2000-02-29"), false, Number("-1"),
        Time("23:59:59.999Z"));
    Add(5, Value(), Value::String("e@x.com"), Number("-5"), Value::DateTime(kT0 + kMillisPerDay),
        Date("1990-05-01"), false, Number("0"), Time("00:00:00Z"));
    Add(6, Value::String("Dave_underscore"), Value::String("d@x.com"), Number("100"),
        Value::DateTime(kT0), Date("1970-01-01"), false, Number("2.5"), Time("12:00:00Z"));
  }

  void Add(int n, Value name, Value email, Value amount, Value modstamp, Value birthdate,
           bool deleted, Value score, Value wake_up) {
    std::vector<Value> values(testing::kContactFieldCount);
    values[testing::kIdField] = Value::String(ContactId(n));
    values[testing::kNameField] = std::move(name);
    values[testing::kEmailField] = std::move(email);
    values[testing::kAmountField] = std::move(amount);
    values[testing::kSystemModstampField] = std::move(modstamp);
    values[testing::kBirthdateField] = std::move(birthdate);
    values[testing::kIsDeletedField] = Value::Boolean(deleted);
    values[testing::kDescriptionField] = Value::String("long text " + std::to_string(n));
    values[testing::kScoreField] = std::move(score);
    values[testing::kAccountIdField] =
        Value::String(n % 2 == 1 ? "001000000000001AAA" : "001000000000002AAA");
    values[testing::kWakeUpField] = std::move(wake_up);
    values[testing::kTagsField] = Value::String("a;b");
    records_.Add(std::move(values));
  }

  absl::StatusOr<BoundQuery> BindSoql(std::string_view soql) {
    absl::StatusOr<Query> query = Parse(soql);
    if (!query.ok()) return query.status();
    return Bind(*query, contact_);
  }

  // The numbers n of the records `soql` returns, in order.
  std::vector<int> Rows(std::string_view soql) {
    absl::StatusOr<BoundQuery> bound = BindSoql(soql);
    EXPECT_TRUE(bound.ok()) << soql << ": " << bound.status();
    if (!bound.ok()) return {};
    std::vector<int> rows;
    for (std::size_t index : Execute(*bound, records_)) rows.push_back(static_cast<int>(index) + 1);
    return rows;
  }

  absl::Status BindError(std::string_view soql) {
    absl::StatusOr<BoundQuery> bound = BindSoql(soql);
    EXPECT_FALSE(bound.ok()) << soql;
    return bound.status();
  }

  testing::FakeObject contact_ = MakeContactObject();
  FakeRecordSet records_;
};

TEST_F(EvaluatorTest, NoWhereReturnsEverythingInStoredOrder) {
  EXPECT_THAT(Rows("SELECT Id FROM Contact"), ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST_F(EvaluatorTest, StringEqualityIsCaseInsensitive) {
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name = 'BOB JONES'"), ElementsAre(2));
  EXPECT_THAT(Rows("select id from contact where NAME = 'carol'"), ElementsAre(3));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name > 'bob'"), ElementsAre(2, 3, 6));
}

TEST_F(EvaluatorTest, NotEqualMatchesNullsButOtherComparisonsDoNot) {
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Email != 'ALICE@x.com'"),
              ElementsAre(2, 3, 4, 5, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Email = null"), ElementsAre(2));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Amount__c != null"), ElementsAre(1, 2, 4, 5, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Amount__c < 1000000000000000"),
              ElementsAre(1, 2, 4, 5, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Amount__c > null"), IsEmpty());
}

TEST_F(EvaluatorTest, NumberComparisons) {
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Amount__c > 100"), ElementsAre(1, 4));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Amount__c >= 100"), ElementsAre(1, 4, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Amount__c = 0.1"), ElementsAre(2));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Amount__c = 1234.5000"), ElementsAre(1));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Amount__c < 0"), ElementsAre(5));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Score__c <= 2.5"), ElementsAre(4, 5, 6));
}

TEST_F(EvaluatorTest, InAndNotIn) {
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name IN ('carol', 'BOB JONES', 'nobody')"),
              ElementsAre(2, 3));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name NOT IN ('carol')"),
              ElementsAre(1, 2, 4, 5, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Email IN (null, 'AC@x.com')"), ElementsAre(2, 4));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Email NOT IN (null, 'AC@x.com')"),
              ElementsAre(1, 3, 5, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Amount__c IN (100, -5.0, 7)"), ElementsAre(5, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Birthdate IN (1990-05-01)"), ElementsAre(1, 5));
}

TEST_F(EvaluatorTest, Like) {
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name LIKE 'alice%'"), ElementsAre(1, 4));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name LIKE '%SMITH'"), ElementsAre(1));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name LIKE '_ob%'"), ElementsAre(2));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name LIKE 'carol'"), ElementsAre(3));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name LIKE '%\\_%'"), ElementsAre(6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name LIKE '%_%'"), ElementsAre(1, 2, 3, 4, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Email LIKE '%@x.%'"), ElementsAre(1, 4, 5, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Name LIKE '%o%o%'"), ElementsAre(2, 4));
}

TEST_F(EvaluatorTest, LikePatternEdgeCases) {
  auto like = [](std::string_view pattern, std::string_view text) {
    absl::StatusOr<LikePattern> compiled = LikePattern::Compile(pattern);
    EXPECT_TRUE(compiled.ok()) << pattern;
    return compiled.ok() && compiled->Matches(text);
  };
  EXPECT_TRUE(like("", ""));
  EXPECT_FALSE(like("", "a"));
  EXPECT_TRUE(like("%", ""));
  EXPECT_TRUE(like("%%a%%", "bab"));
  EXPECT_TRUE(like("a_c", "aéc"));  // `_` is one character, not one byte
  EXPECT_FALSE(like("a_c", "ac"));
  EXPECT_TRUE(like("50\\%", "50%"));
  EXPECT_FALSE(like("50\\%", "500"));
  EXPECT_TRUE(like("%aab", "aaaab"));  // needs backtracking
  EXPECT_TRUE(like("\\\\%", "\\x"));   // escaped backslash then wildcard
  EXPECT_FALSE(LikePattern::Compile("a\\").ok());
  EXPECT_FALSE(LikePattern::Compile("a\\q").ok());
}

TEST_F(EvaluatorTest, IdsCompareCaseSensitivelyAndAcceptFifteenCharacters) {
  const std::string id3 = ContactId(3);
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Id = '" + id3.substr(0, 15) + "'"),
              ElementsAre(3));
  std::string lower_suffix = id3;
  for (int i = 15; i < 18; ++i) lower_suffix[i] = FoldCase(lower_suffix[i]);
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Id IN ('" + lower_suffix + "')"), ElementsAre(3));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE AccountId = '001000000000002'"),
              ElementsAre(2, 4, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE AccountId = '001000000000002aaa'"),
              ElementsAre(2, 4, 6));
  absl::Status bad = BindError("SELECT Id FROM Contact WHERE AccountId = 'bad'");
  EXPECT_EQ(Message(bad), "invalid ID field: bad");
  EXPECT_EQ(SalesforceErrorCode(bad), "INVALID_QUERY_FILTER_OPERATOR");
}

TEST_F(EvaluatorTest, DatesDateTimesTimesAndBooleans) {
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Birthdate < 1989-01-01"), ElementsAre(3, 6));
  // 15:50:30 at +05:30 is 10:20:30 UTC.
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE SystemModstamp = 2024-01-15T15:50:30+05:30"),
              ElementsAre(1, 2, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE SystemModstamp = 2024-01-15T10:20:31.000+0000"),
              ElementsAre(3, 4));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-15T02:20:31-08:00"),
              ElementsAre(5));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE Wake_Up__c >= 08:00:00.000Z"),
              ElementsAre(1, 4, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE IsDeleted = TRUE"), ElementsAre(3));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE IsDeleted != true"), ElementsAre(1, 2, 4, 5, 6));
}

TEST_F(EvaluatorTest, BooleanStructure) {
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE NOT (Name LIKE 'a%' OR Amount__c > 50)"),
              ElementsAre(2, 3, 5));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE (Name LIKE 'a%' OR Amount__c > 50) AND "
                   "Score__c > 0"),
              ElementsAre(1, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE NOT NOT IsDeleted = true"), ElementsAre(3));
}

TEST_F(EvaluatorTest, OrderByNullsDefaultFirstAscendingLastDescending) {
  EXPECT_THAT(Rows("SELECT Id FROM Contact ORDER BY Name"), ElementsAre(5, 4, 1, 2, 3, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact ORDER BY Name DESC"), ElementsAre(6, 3, 2, 1, 4, 5));
  EXPECT_THAT(Rows("SELECT Id FROM Contact ORDER BY Name DESC NULLS FIRST"),
              ElementsAre(5, 6, 3, 2, 1, 4));
  EXPECT_THAT(Rows("SELECT Id FROM Contact ORDER BY Name ASC NULLS LAST"),
              ElementsAre(4, 1, 2, 3, 6, 5));
}

TEST_F(EvaluatorTest, OrderBySeveralKeys) {
  EXPECT_THAT(
      Rows("SELECT Id FROM Contact ORDER BY SystemModstamp DESC, Amount__c ASC NULLS LAST, Id"),
      ElementsAre(5, 4, 3, 2, 6, 1));
  EXPECT_THAT(Rows("SELECT Id FROM Contact ORDER BY Birthdate, Id DESC"),
              ElementsAre(2, 6, 3, 5, 1, 4));
  // Ties without a final unique key keep the stored order.
  EXPECT_THAT(Rows("SELECT Id FROM Contact ORDER BY IsDeleted"), ElementsAre(1, 2, 4, 5, 6, 3));
}

TEST_F(EvaluatorTest, LimitAndOffset) {
  EXPECT_THAT(Rows("SELECT Id FROM Contact ORDER BY Name LIMIT 2 OFFSET 1"), ElementsAre(4, 1));
  EXPECT_THAT(Rows("SELECT Id FROM Contact ORDER BY Name LIMIT 0"), IsEmpty());
  EXPECT_THAT(Rows("SELECT Id FROM Contact ORDER BY Name OFFSET 4"), ElementsAre(3, 6));
  EXPECT_THAT(Rows("SELECT Id FROM Contact OFFSET 10"), IsEmpty());
  EXPECT_THAT(Rows("SELECT Id FROM Contact WHERE IsDeleted = false LIMIT 3"), ElementsAre(1, 2, 4));
}

TEST_F(EvaluatorTest, Count) {
  absl::StatusOr<BoundQuery> count =
      BindSoql("SELECT COUNT() FROM Contact WHERE IsDeleted = false");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_TRUE(count->IsCount());
  EXPECT_THAT(count->SelectedFields(), IsEmpty());
  EXPECT_EQ(Count(*count, records_), 5u);
  absl::StatusOr<BoundQuery> limited = BindSoql("SELECT COUNT() FROM Contact LIMIT 4");
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(Count(*limited, records_), 4u);
}

TEST_F(EvaluatorTest, SelectedFieldsInSelectOrderWithFieldsExpanded) {
  auto selected = [this](std::string_view soql) {
    absl::StatusOr<BoundQuery> bound = BindSoql(soql);
    EXPECT_TRUE(bound.ok()) << bound.status();
    return bound.ok() ? bound->SelectedFields() : std::vector<std::size_t>{};
  };
  EXPECT_THAT(selected("SELECT Email, id, NAME FROM Contact"), ElementsAre(2, 0, 1));
  EXPECT_THAT(selected("SELECT FIELDS(STANDARD) FROM Contact"),
              ElementsAre(0, 1, 2, 4, 5, 6, 7, 9));
  EXPECT_THAT(selected("SELECT FIELDS(CUSTOM) FROM Contact LIMIT 200"), ElementsAre(3, 8, 10, 11));
  EXPECT_THAT(selected("SELECT Score__c, FIELDS(ALL) FROM Contact LIMIT 1"),
              ElementsAre(8, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11));
}

TEST_F(EvaluatorTest, CurrencyTextIsEchoedExactly) {
  absl::StatusOr<BoundQuery> bound =
      BindSoql("SELECT Amount__c FROM Contact WHERE Amount__c > 1000");
  ASSERT_TRUE(bound.ok());
  std::vector<std::string> amounts;
  for (std::size_t index : Execute(*bound, records_)) {
    amounts.push_back(records_.At(index).Get(bound->SelectedFields()[0]).ToString());
  }
  EXPECT_THAT(amounts, ElementsAre("1234.50", "99999999999999.99"));
  // A double alone cannot carry these digits.
  EXPECT_NE(Value::Number(Number("12345678901234567.89").Double()).Text(), "12345678901234567.89");
  EXPECT_EQ(Number("12345678901234567.89").ToString(), "12345678901234567.89");
  EXPECT_EQ(Number("0.10").ToString(), "0.10");
}

TEST_F(EvaluatorTest, ValueTextForms) {
  EXPECT_EQ(Value().ToString(), "null");
  EXPECT_EQ(Value::Boolean(true).ToString(), "true");
  EXPECT_EQ(Value::DateTime(kT0 + 7).ToString(), "2024-01-15T10:20:30.007+0000");
  EXPECT_EQ(Value::DateTime(-1).ToString(), "1969-12-31T23:59:59.999+0000");
  EXPECT_EQ(Date("2024-01-15").ToString(), "2024-01-15");
  EXPECT_EQ(Time("10:20:30.5").ToString(), "10:20:30.500Z");
  EXPECT_EQ(Value::Number(0.1).ToString(), "0.1");
  EXPECT_EQ(Value::Integer(-42).ToString(), "-42");
  EXPECT_FALSE(Value::ParseNumber("1.2.3").ok());
  EXPECT_FALSE(Value::ParseNumber("").ok());
  EXPECT_FALSE(Value::ParseNumber("abc").ok());
  EXPECT_TRUE(Value::ParseNumber("1e5").ok());
}

TEST_F(EvaluatorTest, UnknownFieldsUseSalesforcesMessage) {
  const std::string expected =
      "No such column 'Foo' on entity 'Contact'. If you are attempting to use a custom field, be "
      "sure to append the '__c' after the custom field name. Please reference your WSDL or the "
      "describe call for the appropriate names.";
  for (const char* soql : {"SELECT Id, Foo FROM Contact", "SELECT Id FROM Contact WHERE Foo = 1",
                           "SELECT Id FROM Contact ORDER BY Foo"}) {
    absl::Status status = BindError(soql);
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << soql;
    EXPECT_EQ(Message(status), expected) << soql;
    EXPECT_EQ(SalesforceErrorCode(status), "INVALID_FIELD");
  }
}

TEST_F(EvaluatorTest, FieldsAllAndCustomNeedASmallLimit) {
  const std::string expected = "The SOQL FIELDS function must have a LIMIT of at most 200";
  for (const char* soql :
       {"SELECT FIELDS(ALL) FROM Contact", "SELECT FIELDS(CUSTOM) FROM Contact LIMIT 201",
        "SELECT Id, FIELDS(ALL) FROM Contact WHERE Name = 'a'"}) {
    absl::Status status = BindError(soql);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Message(status), expected);
    EXPECT_EQ(SalesforceErrorCode(status), "MALFORMED_QUERY");
  }
  EXPECT_TRUE(BindSoql("SELECT FIELDS(ALL) FROM Contact LIMIT 200").ok());
  EXPECT_TRUE(BindSoql("SELECT FIELDS(STANDARD) FROM Contact").ok());
}

TEST_F(EvaluatorTest, LiteralTypesMustMatchFieldTypes) {
  const std::pair<const char*, const char*> cases[] = {
      {"SELECT Id FROM Contact WHERE SystemModstamp > '2024-01-15T10:20:30Z'",
       "value of filter criterion for field 'SystemModstamp' must be of type dateTime and should "
       "not be enclosed in quotes"},
      {"SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-15",
       "value of filter criterion for field 'SystemModstamp' must be of type dateTime and should "
       "not be enclosed in quotes"},
      {"SELECT Id FROM Contact WHERE Name = 5",
       "value of filter criterion for field 'Name' must be of type string and should be enclosed "
       "in quotes"},
      {"SELECT Id FROM Contact WHERE Birthdate = 2024-01-15T00:00:00Z",
       "value of filter criterion for field 'Birthdate' must be of type date and should not be "
       "enclosed in quotes"},
      {"SELECT Id FROM Contact WHERE IsDeleted = 'true'",
       "value of filter criterion for field 'IsDeleted' must be of type boolean and should not be "
       "enclosed in quotes"},
      {"SELECT Id FROM Contact WHERE Amount__c IN (1, '2')",
       "value of filter criterion for field 'Amount__c' must be of type double and should not be "
       "enclosed in quotes"},
      {"SELECT Id FROM Contact WHERE Id = 5",
       "value of filter criterion for field 'Id' must be of type id and should be enclosed in "
       "quotes"},
      {"SELECT Id FROM Contact WHERE Description = 'x'",
       "field 'Description' can not be filtered in a query call"},
      {"SELECT Id FROM Contact ORDER BY Tags__c",
       "field 'Tags__c' can not be sorted in a query call"},
      {"SELECT Id FROM Contact WHERE Amount__c LIKE '1%'",
       "invalid operator on double field 'Amount__c': LIKE"},
      {"SELECT Id FROM Contact WHERE Id LIKE '003%'", "invalid operator on id field 'Id': LIKE"},
      {"SELECT Id FROM Contact WHERE IsDeleted > false",
       "invalid operator on boolean field 'IsDeleted': >"},
  };
  for (const auto& [soql, message] : cases) {
    absl::Status status = BindError(soql);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << soql;
    EXPECT_EQ(Message(status), message) << soql;
    EXPECT_EQ(SalesforceErrorCode(status), "INVALID_QUERY_FILTER_OPERATOR") << soql;
  }
}

TEST_F(EvaluatorTest, OtherBindErrors) {
  absl::Status wrong_object = BindError("SELECT Id FROM Account");
  EXPECT_EQ(wrong_object.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(SalesforceErrorCode(wrong_object), "INVALID_TYPE");
  EXPECT_THAT(Message(wrong_object),
              ::testing::StartsWith("sObject type 'Account' is not supported."));
  EXPECT_EQ(Message(BindError("SELECT Name, name FROM Contact")), "duplicate field selected: name");
  absl::Status offset = BindError("SELECT Id FROM Contact OFFSET 2001");
  EXPECT_EQ(Message(offset), "Maximum SOQL offset allowed is 2000");
  EXPECT_EQ(SalesforceErrorCode(offset), "NUMBER_OUTSIDE_VALID_RANGE");
  EXPECT_TRUE(BindSoql("SELECT Id FROM CONTACT OFFSET 2000").ok());
}

// Many records share each timestamp, stored in no particular order: walking pages with the
// (SystemModstamp, Id) cursor must return every record exactly once.
TEST(KeysetPaginationTest, VisitsEveryRecordOnceAcrossSharedTimestamps) {
  testing::FakeObject contact = MakeContactObject();
  FakeRecordSet records;
  std::mt19937 random(7);
  std::vector<std::pair<std::int64_t, std::string>> expected;
  for (int n = 0; n < 300; ++n) {
    std::vector<Value> values(testing::kContactFieldCount);
    const std::int64_t modstamp = kT0 + 1000 * static_cast<std::int64_t>(random() % 9);
    values[testing::kIdField] = Value::String(ContactId(random() % 1'000'000'000));
    values[testing::kSystemModstampField] = Value::DateTime(modstamp);
    expected.emplace_back(modstamp, std::string(values[testing::kIdField].Text()));
    records.Add(std::move(values));
  }
  std::sort(expected.begin(), expected.end());

  auto walk = [&](bool with_tie_break) {
    std::vector<std::pair<std::int64_t, std::string>> seen;
    std::string where;
    for (int page = 0; page < 1000; ++page) {
      const std::string soql = "SELECT Id, SystemModstamp FROM Contact" + where +
                               " ORDER BY SystemModstamp, Id LIMIT 17";
      absl::StatusOr<Query> query = Parse(soql);
      EXPECT_TRUE(query.ok()) << soql << query.status();
      absl::StatusOr<BoundQuery> bound = Bind(*query, contact);
      EXPECT_TRUE(bound.ok()) << soql << bound.status();
      const std::vector<std::size_t> rows = Execute(*bound, records);
      if (rows.empty()) break;
      for (std::size_t index : rows) {
        const RecordView& record = records.At(index);
        seen.emplace_back(record.Get(testing::kSystemModstampField).Millis(),
                          std::string(record.Get(testing::kIdField).Text()));
      }
      const std::string ts = FormatDateTime(seen.back().first);
      where = " WHERE SystemModstamp > " + ts;
      if (with_tie_break) {
        where += " OR (SystemModstamp = " + ts + " AND Id > '" + seen.back().second + "')";
      }
    }
    return seen;
  };
  EXPECT_EQ(walk(/*with_tie_break=*/true), expected);
  // The naive cursor drops the rows that share a timestamp with a page's last row.
  EXPECT_LT(walk(/*with_tie_break=*/false).size(), expected.size());
}

// Execute sorts with an integer prefix of the first key; its order must be exactly that of
// BoundQuery::Compare, including nulls, negative numbers, -0.0, case and shared text prefixes.
TEST(OrderByTest, MatchesAStableSortByCompare) {
  testing::FakeObject contact = MakeContactObject();
  FakeRecordSet records;
  std::mt19937 random(99);
  const char* const names[] = {
      "abcdefgh", "ABCDEFGH", "abcdefghi", "abcdefgh\x01",      "abc",
      "",         "Zed",      "zed",       "\xC3\xA9t\xC3\xA9", "abcdefgZ"};
  const char* const amounts[] = {"-0.0", "0", "-1", "1", "-1e300", "1e300", "0.1", "-0.1", "5"};
  for (int n = 0; n < 3000; ++n) {
    std::vector<Value> values(testing::kContactFieldCount);
    values[testing::kIdField] = Value::String(ContactId(random() % 50));
    if (random() % 6 != 0) values[testing::kNameField] = Value::String(names[random() % 10]);
    if (random() % 6 != 0) values[testing::kAmountField] = Number(amounts[random() % 9]);
    if (random() % 6 != 0) {
      values[testing::kSystemModstampField] =
          Value::DateTime(static_cast<std::int64_t>(random() % 7) * 1000 - 3000);
    }
    records.Add(std::move(values));
  }
  for (const char* order : {"Name", "Name DESC", "Name NULLS LAST, Id DESC", "Amount__c",
                            "Amount__c DESC NULLS FIRST, Name", "SystemModstamp, Id",
                            "SystemModstamp DESC, Name DESC, Amount__c", "Id, Name"}) {
    absl::StatusOr<Query> query = Parse(std::string("SELECT Id FROM Contact ORDER BY ") + order);
    ASSERT_TRUE(query.ok());
    absl::StatusOr<BoundQuery> bound = Bind(*query, contact);
    ASSERT_TRUE(bound.ok());
    std::vector<std::size_t> expected(records.Size());
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = i;
    std::stable_sort(expected.begin(), expected.end(), [&](std::size_t a, std::size_t b) {
      return bound->Compare(records.At(a), records.At(b)) < 0;
    });
    EXPECT_EQ(Execute(*bound, records), expected) << order;
    // With a small LIMIT the partial sort must agree too.
    absl::StatusOr<Query> limited =
        Parse(std::string("SELECT Id FROM Contact ORDER BY ") + order + " LIMIT 40 OFFSET 5");
    ASSERT_TRUE(limited.ok());
    absl::StatusOr<BoundQuery> limited_bound = Bind(*limited, contact);
    ASSERT_TRUE(limited_bound.ok());
    EXPECT_EQ(Execute(*limited_bound, records),
              std::vector<std::size_t>(expected.begin() + 5, expected.begin() + 45))
        << order;
  }
}

// A generous floor, far below the real rate, so that it holds on a loaded machine.
TEST(EvaluatorSpeedTest, FiltersAndSortsAtLeastTwentyThousandRecordsPerSecond) {
  testing::FakeObject contact = MakeContactObject();
  FakeRecordSet records;
  constexpr int kRecords = 200'000;
  for (int n = 0; n < kRecords; ++n) {
    std::vector<Value> values(testing::kContactFieldCount);
    values[testing::kIdField] = Value::String(ContactId(n * 7919 % kRecords));
    values[testing::kNameField] = Value::String("Name " + std::to_string(n % 1000));
    values[testing::kSystemModstampField] = Value::DateTime(kT0 + (n % 5000) * 1000);
    records.Add(std::move(values));
  }
  absl::StatusOr<Query> query = Parse(
      "SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-15T10:20:30Z OR "
      "(SystemModstamp = 2024-01-15T10:20:30Z AND Id > '003000000000000AAA') "
      "ORDER BY SystemModstamp, Id");
  ASSERT_TRUE(query.ok());
  absl::StatusOr<BoundQuery> bound = Bind(*query, contact);
  ASSERT_TRUE(bound.ok());
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::size_t> rows = Execute(*bound, records);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(kRecords - 1));
  EXPECT_LT(seconds, kRecords / 20'000.0);
}

}  // namespace
}  // namespace sfbridge::sfsim::soql
