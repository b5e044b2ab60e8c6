#include "sfsim/soql/lexer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sfsim/soql/datetime.h"
#include "sfsim/soql/errors.h"

namespace sfbridge::sfsim::soql {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<TokenKind> Kinds(const std::vector<Token>& tokens) {
  std::vector<TokenKind> kinds;
  for (const Token& token : tokens) kinds.push_back(token.kind);
  return kinds;
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(LexerTest, SplitsAQueryIntoTokens) {
  auto tokens = Tokenize("SELECT Id, Name FROM Contact WHERE Amount__c >= -12.50 AND (X <> 'a')");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_THAT(Kinds(*tokens),
              ElementsAre(TokenKind::kIdentifier, TokenKind::kIdentifier, TokenKind::kComma,
                          TokenKind::kIdentifier, TokenKind::kIdentifier, TokenKind::kIdentifier,
                          TokenKind::kIdentifier, TokenKind::kIdentifier, TokenKind::kGe,
                          TokenKind::kNumber, TokenKind::kIdentifier, TokenKind::kLeftParen,
                          TokenKind::kIdentifier, TokenKind::kNe, TokenKind::kString,
                          TokenKind::kRightParen, TokenKind::kEnd));
  EXPECT_EQ((*tokens)[9].text, "-12.50");
  EXPECT_EQ((*tokens)[9].value.Text(), "-12.50");
  EXPECT_DOUBLE_EQ((*tokens)[9].value.Double(), -12.5);
}

TEST(LexerTest, AllComparisonOperators) {
  auto tokens = Tokenize("= != <> < <= > >=");
  ASSERT_TRUE(tokens.ok());
  EXPECT_THAT(Kinds(*tokens),
              ElementsAre(TokenKind::kEq, TokenKind::kNe, TokenKind::kNe, TokenKind::kLt,
                          TokenKind::kLe, TokenKind::kGt, TokenKind::kGe, TokenKind::kEnd));
}

TEST(LexerTest, DecodesStringEscapesButKeepsLikeWildcardEscapes) {
  auto tokens = Tokenize(R"('it\'s a \\ \n\t\"q\" 50\% off\_')");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ((*tokens)[0].kind, TokenKind::kString);
  EXPECT_EQ((*tokens)[0].value.Text(), "it's a \\ \n\t\"q\" 50\\% off\\_");
  EXPECT_EQ((*tokens)[0].text, R"(it\'s a \\ \n\t\"q\" 50\% off\_)");
}

TEST(LexerTest, RefusesAnIllegalEscapeTheWaySalesforceDoes) {
  auto tokens = Tokenize(R"(WHERE Name = 'ab\qc')");
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(tokens.status()),
            "Invalid string literal 'ab\\qc'. Illegal character sequence '\\q' in string "
            "literal. at Row:1:Column:14");
  EXPECT_EQ(SalesforceErrorCode(tokens.status()), "MALFORMED_QUERY");
}

TEST(LexerTest, RefusesAnUnterminatedString) {
  auto tokens = Tokenize("WHERE Name = 'abc");
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(Message(tokens.status()), "unterminated string literal at Row:1:Column:14");
  EXPECT_FALSE(Tokenize("'abc\\").ok());
}

TEST(LexerTest, DateAndDateTimeLiterals) {
  auto tokens = Tokenize(
      "2024-01-15 2024-01-15T10:20:30Z 2024-01-15T10:20:30.000Z 2024-01-15T10:20:30.000+0000 "
      "2024-01-15T10:20:30+05:30 2024-01-15T10:20:30.123-0800 10:20:30.000Z");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_THAT(Kinds(*tokens),
              ElementsAre(TokenKind::kDate, TokenKind::kDateTime, TokenKind::kDateTime,
                          TokenKind::kDateTime, TokenKind::kDateTime, TokenKind::kDateTime,
                          TokenKind::kTime, TokenKind::kEnd));
  const std::int64_t base = 1705314030000;  // 2024-01-15T10:20:30Z
  EXPECT_EQ((*tokens)[0].value.Days(), 19737);
  EXPECT_EQ((*tokens)[1].value.Millis(), base);
  EXPECT_EQ((*tokens)[2].value.Millis(), base);
  EXPECT_EQ((*tokens)[3].value.Millis(), base);
  // 10:20:30 at +05:30 is 04:50:30 UTC.
  EXPECT_EQ((*tokens)[4].value.Millis(), base - (5 * 60 + 30) * 60'000);
  EXPECT_EQ(FormatDateTime((*tokens)[4].value.Millis()), "2024-01-15T04:50:30.000+0000");
  // 10:20:30.123 at -08:00 is 18:20:30.123 UTC.
  EXPECT_EQ(FormatDateTime((*tokens)[5].value.Millis()), "2024-01-15T18:20:30.123+0000");
  EXPECT_EQ((*tokens)[6].value.Millis(), (10 * 3600 + 20 * 60 + 30) * 1000);
}

TEST(LexerTest, DateTimeAcrossMidnightAndLeapDay) {
  auto tokens = Tokenize("2024-03-01T01:00:00+02:00 2024-02-29");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(FormatDateTime((*tokens)[0].value.Millis()), "2024-02-29T23:00:00.000+0000");
  EXPECT_EQ((*tokens)[1].value.Text(), "2024-02-29");
}

TEST(LexerTest, RefusesMalformedTemporalLiterals) {
  for (const char* bad : {"2024-13-01", "2023-02-29", "2024-01-15T25:00:00Z", "2024-01-15T10:20",
                          "2024-01-15T10:20:30", "2024-01-15T10:20:30+5", "99:00:00Z"}) {
    auto tokens = Tokenize(std::string("X = ") + bad);
    ASSERT_FALSE(tokens.ok()) << bad;
    EXPECT_THAT(Message(tokens.status()), HasSubstr(bad));
    EXPECT_THAT(Message(tokens.status()), HasSubstr("at Row:1:Column:5"));
  }
}

TEST(LexerTest, TracksRowsAndColumns) {
  auto tokens = Tokenize("SELECT Id\n  FROM Contact\n WHERE");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ((*tokens)[1].position, (Position{1, 8}));
  EXPECT_EQ((*tokens)[2].position, (Position{2, 3}));
  EXPECT_EQ((*tokens)[3].position, (Position{2, 8}));
  EXPECT_EQ((*tokens)[4].position, (Position{3, 2}));
}

TEST(LexerTest, UnknownCharactersBecomeOtherTokens) {
  auto tokens = Tokenize("SELECT * FROM X; é");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ((*tokens)[1].kind, TokenKind::kOther);
  EXPECT_EQ((*tokens)[1].text, "*");
  EXPECT_EQ((*tokens)[4].text, ";");
  EXPECT_EQ((*tokens)[5].text, "é");
  EXPECT_EQ(DescribeToken((*tokens)[1]), "'*'");
  EXPECT_EQ(DescribeToken(tokens->back()), "'<EOF>'");
}

TEST(LexerTest, RefusesOverlongInput) {
  std::string soql =
      "SELECT Id FROM Contact WHERE Name = '" + std::string(kMaxQueryLength, 'a') + "'";
  auto tokens = Tokenize(soql);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(tokens.status()), HasSubstr("the maximum is 100000"));
}

TEST(LexerTest, NumbersKeepTheirText) {
  auto tokens = Tokenize("0.10 1234.5000 +3 .5 -0.25");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ((*tokens)[0].value.Text(), "0.10");
  EXPECT_EQ((*tokens)[1].value.Text(), "1234.5000");
  EXPECT_EQ((*tokens)[2].value.Text(), "+3");
  EXPECT_DOUBLE_EQ((*tokens)[3].value.Double(), 0.5);
  EXPECT_DOUBLE_EQ((*tokens)[4].value.Double(), -0.25);
}

}  // namespace
}  // namespace sfbridge::sfsim::soql
