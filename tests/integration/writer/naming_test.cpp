// API names -> Postgres identifiers: the cases DESIGN.md names, acronyms, the 63-byte limit and
// collisions. Pure functions; no database.

#include "writer/naming.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sfbridge::writer {
namespace {

using ::testing::MatchesRegex;

TEST(NamingTest, SnakeCasesTheDesignExamples) {
  EXPECT_EQ(SnakeCaseName("Contact"), "contact");
  EXPECT_EQ(SnakeCaseName("Invoice__c"), "invoice__c");
  EXPECT_EQ(SnakeCaseName("FirstName"), "first_name");
  EXPECT_EQ(SnakeCaseName("SystemModstamp"), "system_modstamp");
  EXPECT_EQ(SnakeCaseName("BillingStreet"), "billing_street");
  EXPECT_EQ(SnakeCaseName("Id"), "id");
  EXPECT_EQ(SnakeCaseName("AccountId"), "account_id");
  EXPECT_EQ(SnakeCaseName("OpportunityLineItem"), "opportunity_line_item");
}

TEST(NamingTest, AcronymsUnderscoresAndDigits) {
  EXPECT_EQ(SnakeCaseName("URL__c"), "url__c");
  EXPECT_EQ(SnakeCaseName("SLAExpirationDate__c"), "sla_expiration_date__c");
  EXPECT_EQ(SnakeCaseName("SLASerialNumber__c"), "sla_serial_number__c");
  EXPECT_EQ(SnakeCaseName("HTMLBody"), "html_body");
  EXPECT_EQ(SnakeCaseName("ShippingGeocodeAccuracy"), "shipping_geocode_accuracy");
  EXPECT_EQ(SnakeCaseName("My_Field__c"), "my_field__c");
  EXPECT_EQ(SnakeCaseName("ns__Field__c"), "ns__field__c");
  EXPECT_EQ(SnakeCaseName("ns__MyObject__c"), "ns__my_object__c");
  EXPECT_EQ(SnakeCaseName("Address2Line__c"), "address2_line__c");
  EXPECT_EQ(SnakeCaseName("Q1Revenue"), "q1_revenue");
  EXPECT_EQ(SnakeCaseName("IsDeleted"), "is_deleted");
  EXPECT_EQ(SnakeCaseName("Weird Name-1"), "weird_name_1");
  EXPECT_EQ(SnakeCaseName(""), "_");
}

TEST(NamingTest, LongNamesAreCutWithAStableHash) {
  const std::string a =
      "ThisIsAVeryLongCustomFieldNameThatGoesOnAndOnPastTheLimit_OfPostgresIdentifiersA__c";
  const std::string b =
      "ThisIsAVeryLongCustomFieldNameThatGoesOnAndOnPastTheLimit_OfPostgresIdentifiersB__c";
  const std::string na = SnakeCaseName(a), nb = SnakeCaseName(b);
  EXPECT_EQ(na.size(), kMaxIdentifierBytes);
  EXPECT_EQ(nb.size(), kMaxIdentifierBytes);
  EXPECT_NE(na, nb) << "same first 54 bytes, different names";
  EXPECT_THAT(na,
              MatchesRegex("this_is_a_very_long_custom_field_name_that_goes_on_and_[0-9a-f]{8}"));
  EXPECT_EQ(na, SnakeCaseName(a)) << "stable";
  // The hash is fixed by the code, not by the process: a known value.
  EXPECT_EQ(StableHash(""), "811c9dc5");
  EXPECT_EQ(StableHash("a"), "e40c292c");
  // A name of exactly 63 bytes is kept as it is.
  const std::string exact(63, 'x');
  EXPECT_EQ(SnakeCaseName(exact), exact);
}

TEST(NamingTest, CollisionsResolveDeterministically) {
  std::set<std::string> taken = {"id", "first_name"};
  const std::string first = UniqueName("First_Name", taken);
  EXPECT_THAT(first, MatchesRegex("first_name_[0-9a-f]{8}"));
  EXPECT_EQ(first, UniqueName("First_Name", taken)) << "same inputs, same name";
  EXPECT_EQ(UniqueName("LastName", taken), "last_name") << "free names stay plain";
  // Even the hashed name taken: a counter follows.
  taken.insert(first);
  EXPECT_EQ(UniqueName("First_Name", taken), first + "_2");
  // A long name that collides stays within the limit.
  const std::string long_name(80, 'Q');
  std::set<std::string> long_taken = {SnakeCaseName(long_name)};
  const std::string other = UniqueName(long_name, long_taken);
  EXPECT_LE(other.size(), kMaxIdentifierBytes);
  EXPECT_FALSE(long_taken.contains(other));
}

}  // namespace
}  // namespace sfbridge::writer
