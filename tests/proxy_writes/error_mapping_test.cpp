// Salesforce's errors as Postgres errors, and the columns a client may not write.

#include "proxy/writes/error_mapping.h"

#include <gtest/gtest.h>

#include "proxy/writes/write_checks.h"

namespace sfbridge::proxy::writes {
namespace {

SyncedTable Invoice() {
  SyncedTable t{.schema = "salesforce", .table = "invoice__c", .object = "Invoice__c"};
  t.fields = {
      {.field = "Id", .column = "id", .column_type = "text", .salesforce_type = "id"},
      {.field = "Name",
       .column = "name",
       .column_type = "text",
       .salesforce_type = "string",
       .createable = false,
       .updateable = false},
      {.field = "Status__c",
       .column = "status__c",
       .column_type = "text",
       .salesforce_type = "picklist",
       .createable = true,
       .updateable = true},
      {.field = "Total__c",
       .column = "total__c",
       .column_type = "numeric",
       .salesforce_type = "currency",
       .createable = false,
       .updateable = false,
       .calculated = true},
      {.field = "Code__c",
       .column = "code__c",
       .column_type = "text",
       .salesforce_type = "string",
       .createable = true,
       .updateable = false},
      {.field = "Legacy__c",
       .column = "legacy__c",
       .column_type = "text",
       .salesforce_type = "string"},
      {.field = "SystemModstamp",
       .column = "system_modstamp",
       .column_type = "timestamp with time zone",
       .salesforce_type = "datetime"},
      {.field = "CreatedDate",
       .column = "created_date",
       .column_type = "timestamp with time zone",
       .salesforce_type = "datetime"},
  };
  return t;
}

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

std::optional<PgError> Check(Operation op, std::vector<std::string> columns) {
  AnalyzedWrite w;
  w.operation = op;
  w.columns = std::move(columns);
  return CheckWritableColumns(w, Invoice());
}

TEST(WriteChecksTest, SystemFormulaReadOnlyAndUnknownColumnsAreRefused) {
  struct Case {
    Operation op;
    std::string column;
    std::string sqlstate;
    std::string says;
  };
  const std::vector<Case> cases = {
      {Operation::kInsert, "id", "428C9", "Salesforce assigns the record Id"},
      {Operation::kUpdate, "id", "428C9", "Salesforce assigns the record Id"},
      {Operation::kUpdate, "_synced_at", "428C9", "kept by sfbridge"},
      {Operation::kInsert, "_modstamp_ms", "428C9", "kept by sfbridge"},
      {Operation::kUpdate, "system_modstamp", "428C9", "system field"},
      {Operation::kInsert, "created_date", "428C9", "system field"},
      {Operation::kInsert, "total__c", "428C9", "formula field"},
      {Operation::kInsert, "name", "428C9", "not createable"},
      {Operation::kUpdate, "code__c", "428C9", "not updateable"},
      {Operation::kUpdate, "nope", "42703", "does not exist"},
  };
  for (const Case& c : cases) {
    std::optional<PgError> e = Check(c.op, {"status__c", c.column});
    ASSERT_TRUE(e.has_value()) << c.column;
    EXPECT_EQ(e->sqlstate, c.sqlstate) << c.column;
    EXPECT_EQ(e->column, c.column);
    EXPECT_NE(e->message.find(c.says), std::string::npos) << e->message;
  }
}

TEST(WriteChecksTest, WritableColumnsPass) {
  EXPECT_FALSE(Check(Operation::kInsert, {"status__c", "code__c", "legacy__c"}).has_value());
  EXPECT_FALSE(Check(Operation::kUpdate, {"status__c", "legacy__c"}).has_value());
  EXPECT_FALSE(Check(Operation::kDelete, {}).has_value());
}

}  // namespace
}  // namespace sfbridge::proxy::writes
