#include "common/postgres/copy_format.h"

#include <gtest/gtest.h>

#include "common/postgres/connection.h"

namespace sfbridge::postgres {
namespace {

TEST(CopyFormatTest, FieldsAreEscapedForCopyText) {
  std::string out;
  AppendCopyRow(out, {"plain", std::nullopt, "tab\there", "new\nline", "back\\slash", "cr\r", ""});
  EXPECT_EQ(out, "plain\t\\N\ttab\\there\tnew\\nline\tback\\\\slash\tcr\\r\t\n");
}

TEST(CopyFormatTest, LiteralBackslashNIsNotNull) {
  std::string out;
  AppendCopyField(out, std::string("\\N"));
  EXPECT_EQ(out, "\\\\N");
}

TEST(CopyFormatTest, TextWithANulIsRefusedAndLeavesNothing) {
  std::string out = "x\t";
  EXPECT_FALSE(AppendCopyText(out, std::string("a\0b", 3)));
  EXPECT_EQ(out, "x\t");
  EXPECT_TRUE(AppendCopyText(out, "a\\b\n"));
  EXPECT_EQ(out, "x\ta\\\\b\\n");
}

TEST(CopyFormatTest, IntegersAndTheNullSpelling) {
  std::string out;
  AppendCopyInt(out, -9223372036854775807 - 1);
  out.push_back('\t');
  out.append(kCopyNull);
  EXPECT_EQ(out, "-9223372036854775808\t\\N");
}

TEST(RedactConninfoTest, PasswordsAreHiddenInUrisAndKeywordStrings) {
  EXPECT_EQ(RedactConninfo("postgresql://app:s3cret@db:5432/x"), "postgresql://app:***@db:5432/x");
  EXPECT_EQ(RedactConninfo("host=db user=app password=s3cret dbname=x"),
            "host=db user=app password=*** dbname=x");
  EXPECT_EQ(RedactConninfo("host=db password='se cret' dbname=x"), "host=db password=*** dbname=x");
  EXPECT_EQ(RedactConninfo("postgresql://db/x?user=a&password=s3cret&sslmode=require"),
            "postgresql://db/x?user=a&password=***&sslmode=require");
  EXPECT_EQ(RedactConninfo("postgresql://app@db/x"), "postgresql://app@db/x");
}

}  // namespace
}  // namespace sfbridge::postgres
