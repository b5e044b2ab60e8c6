// Salesforce's errors as Postgres errors.

#include "proxy/writes/error_mapping.h"

#include <gtest/gtest.h>

#include "tests/proxy/writes/invoice_table.h"

namespace sfbridge::proxy::writes {
namespace {

using testing::Invoice;

TEST(ErrorMappingTest, EveryListedCodeHasItsSqlState) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"REQUIRED_FIELD_MISSING", "23502"},
      {"DUPLICATE_VALUE", "23505"},
      {"FIELD_CUSTOM_VALIDATION_EXCEPTION", "23514"},
      {"STRING_TOO_LONG", "22001"},
      {"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "22023"},
      {"INSUFFICIENT_ACCESS_OR_READONLY", "42501"},
      {"REQUEST_LIMIT_EXCEEDED", "53400"},
      {"INVALID_CROSS_REFERENCE_KEY", "23503"},
      {"MALFORMED_ID", "22P02"},
      {"UNABLE_TO_LOCK_ROW", "55P03"},
      {"ENTITY_IS_DELETED", "40001"},
  };
  for (const auto& [code, state] : cases) EXPECT_EQ(SqlStateFor(code, 400), state) << code;
  EXPECT_EQ(SqlStateFor("SOMETHING_NEW", 400), "22000");
  EXPECT_EQ(SqlStateFor("", 503), "08001");
}

TEST(ErrorMappingTest, RejectionCarriesMessageFieldsAsColumnsAndTable) {
  salesforce::ApiError api{.http_status = 200,
                           .error_code = "REQUIRED_FIELD_MISSING",
                           .message = "Required fields are missing: [Status__c, Other]",
                           .fields = {"Status__c", "Other"}};
  PgError e = SalesforceRejection(api, Invoice(), Operation::kInsert);
  EXPECT_EQ(e.sqlstate, "23502");
  EXPECT_EQ(e.message, "Required fields are missing: [Status__c, Other]");
  EXPECT_EQ(e.column, "status__c");
  EXPECT_EQ(e.table, "invoice__c");
  EXPECT_EQ(e.schema, "salesforce");
  EXPECT_NE(e.detail.find("Status__c (column status__c), Other"), std::string::npos) << e.detail;
  EXPECT_NE(e.detail.find("REQUIRED_FIELD_MISSING"), std::string::npos);
  EXPECT_NE(e.detail.find("Nothing was changed"), std::string::npos);

  PgError later = SalesforceRejection(api, Invoice(), Operation::kUpdate, 400);
  EXPECT_NE(later.detail.find("400 records"), std::string::npos) << later.detail;
}

}  // namespace
}  // namespace sfbridge::proxy::writes
