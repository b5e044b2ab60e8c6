// Deterministic mutation fuzzing of the parser and binder: whatever the input, the engine
// answers with a query or an error status, never a crash, a hang or a stack overflow.

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "sfsim/soql/evaluator.h"
#include "sfsim/soql/parser.h"
#include "tests/sfsim/soql/fake_object.h"

namespace sfbridge::sfsim::soql {
namespace {

constexpr std::string_view kCorpus[] = {
    "SELECT Id, Name FROM Contact",
    "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > 2024-01-15T10:20:30.000+0000 OR "
    "(SystemModstamp = 2024-01-15T10:20:30.000+0000 AND Id > '003000000000001AAA') ORDER BY "
    "SystemModstamp, Id LIMIT 2000",
    "SELECT COUNT() FROM Contact WHERE IsDeleted = false AND Amount__c >= 10.50",
    "SELECT FIELDS(ALL) FROM Contact WHERE Name LIKE 'a\\%b_%' LIMIT 200 OFFSET 10",
    "SELECT FIELDS(STANDARD), Score__c FROM Contact WHERE Email IN ('a@b.c', null, 'x\\'y')",
    "select name from contact where not (name = 'x' or birthdate < 2000-01-01) order by name desc "
    "nulls last, id",
    "SELECT Id FROM Contact WHERE Wake_Up__c > 10:20:30.000Z AND AccountId NOT IN "
    "('001000000000001', '001000000000002AAA')",
    "SELECT Id FROM Contact WHERE SystemModstamp <= 2024-01-15T10:20:30+05:30 AND Score__c != -1",
    "SELECT Id FROM Contact WHERE ((Name = 'a' AND Email = 'b') OR (Name = 'c' AND NOT Email = "
    "null)) ORDER BY Birthdate ASC NULLS FIRST LIMIT 5",
    "SELECT FIELDS(CUSTOM) FROM Contact LIMIT 10",
};

constexpr std::string_view kTokens[] = {
    "(",
    ")",
    "AND",
    "OR",
    "NOT",
    "'",
    "\\",
    "''",
    "=",
    "!=",
    "<>",
    "<=",
    ">",
    "IN",
    "LIKE",
    ",",
    "SELECT",
    "FROM",
    "WHERE",
    "ORDER BY",
    "LIMIT",
    "OFFSET",
    "null",
    "true",
    "2024-01-15T10:20:30Z",
    "2024-13",
    "-",
    ".",
    ":",
    "FIELDS(",
    "COUNT()",
    "99999999999999999999",
    "\n",
    "\xC3\xA9",
    std::string_view("\0", 1),
    "NULLS",
    "FIRST",
    "DESC",
    "GROUP BY",
    "Account.Name",
    "Id",
    "Name",
    "SystemModstamp",
    "12:00:00Z",
    "1e5",
    "'\\%'",
    "TODAY",
    " ",
    "%",
    "_",
};

std::string Mutate(std::string_view seed, std::mt19937& random) {
  std::string text(seed);
  const int mutations = 1 + static_cast<int>(random() % 4);
  for (int m = 0; m < mutations; ++m) {
    const std::size_t pos = text.empty() ? 0 : random() % (text.size() + 1);
    switch (random() % 5) {
      case 0:  // flip a byte to any value
        if (!text.empty()) text[random() % text.size()] = static_cast<char>(random() % 256);
        break;
      case 1:  // truncate
        text.resize(pos);
        break;
      case 2:  // insert a token
        text.insert(pos, kTokens[random() % std::size(kTokens)]);
        break;
      case 3: {  // delete a range
        const std::size_t length = random() % 12;
        text.erase(pos, length);
        break;
      }
      case 4: {  // duplicate a range
        const std::size_t length = random() % 24;
        text.insert(pos, text.substr(pos, length));
        break;
      }
    }
  }
  return text;
}

TEST(SoqlFuzzTest, MutatedQueriesParseOrFailCleanly) {
  const testing::FakeObject contact = testing::MakeContactObject();
  testing::FakeRecordSet records;
  for (int n = 0; n < 4; ++n) {
    std::vector<Value> values(testing::kContactFieldCount);
    values[testing::kIdField] = Value::String(testing::ContactId(n));
    values[testing::kNameField] = n == 0 ? Value() : Value::String("a" + std::to_string(n));
    values[testing::kAmountField] = Value::Integer(n * 10);
    values[testing::kSystemModstampField] = Value::DateTime(1705314030000 + n);
    records.Add(std::move(values));
  }

  std::mt19937 random(20240115);
  constexpr int kInputs = 200'000;
  int parsed = 0, bound = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kInputs; ++i) {
    const std::string input = Mutate(kCorpus[random() % std::size(kCorpus)], random);
    absl::StatusOr<Query> query = Parse(input);
    if (!query.ok()) {
      ASSERT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument) << input;
      ASSERT_FALSE(query.status().message().empty()) << input;
      continue;
    }
    ++parsed;
    // What parses prints back to text that parses to the same query.
    const std::string canonical = ToSoql(*query);
    absl::StatusOr<Query> reparsed = Parse(canonical);
    ASSERT_TRUE(reparsed.ok()) << input << "\n" << canonical << "\n" << reparsed.status();
    ASSERT_EQ(ToSoql(*reparsed), canonical) << input;

    absl::StatusOr<BoundQuery> bound_query = Bind(*query, contact);
    if (!bound_query.ok()) {
      const absl::StatusCode code = bound_query.status().code();
      ASSERT_TRUE(code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kNotFound)
          << input << "\n"
          << bound_query.status();
      continue;
    }
    ++bound;
    const std::vector<std::size_t> rows = Execute(*bound_query, records);
    ASSERT_LE(rows.size(), records.Size());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d inputs: %d parsed, %d bound and executed, %.2f s\n", kInputs, parsed, bound,
              seconds);
  // Both outcomes must be exercised for the test to mean anything.
  EXPECT_GT(parsed, kInputs / 20);
  EXPECT_GT(bound, kInputs / 50);
  EXPECT_LT(parsed, kInputs);
  EXPECT_LT(seconds, 30.0);
}

TEST(SoqlFuzzTest, TenThousandLevelsOfNestingAreRefusedWithoutRecursingThatDeep) {
  const int kDepth = 10'000;
  const std::string opens(kDepth, '(');
  const std::string closes(kDepth, ')');
  std::string nots;
  for (int i = 0; i < kDepth; ++i) nots += "NOT ";
  const std::string inputs[] = {
      "SELECT Id FROM Contact WHERE " + opens + "Name = 'a'" + closes,
      "SELECT Id FROM Contact WHERE " + opens,
      "SELECT Id FROM Contact WHERE " + nots + "Name = 'a'",
      "SELECT Id FROM Contact WHERE " + opens + "NOT " + opens + "Name = 'a'",
      "SELECT Id FROM Contact WHERE Name IN " + opens + "'a'" + closes,
      opens + "SELECT Id FROM Contact" + closes,
  };
  for (const std::string& input : inputs) {
    absl::StatusOr<Query> query = Parse(input);
    ASSERT_FALSE(query.ok());
    EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(SoqlFuzzTest, EveryPrefixOfEveryCorpusQueryIsHandled) {
  for (std::string_view seed : kCorpus) {
    ASSERT_TRUE(Parse(seed).ok()) << seed;
    for (std::size_t length = 0; length < seed.size(); ++length) {
      absl::StatusOr<Query> query = Parse(seed.substr(0, length));
      if (!query.ok()) {
        EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
      }
    }
  }
}

}  // namespace
}  // namespace sfbridge::sfsim::soql
