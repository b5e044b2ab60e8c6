// The JSON the write path hands PostgreSQL for RETURNING and sfbridge.pending_write: confirmed
// versions as the table's columns, exact numbers kept as they came.

#include "proxy/writes/write_reply.h"

#include <gtest/gtest.h>

#include "proxy/writes/pending_write_client.h"
#include "tests/proxy/writes/invoice_table.h"

namespace sfbridge::proxy::writes {
namespace {

using testing::Invoice;

std::string ConfirmedRow(const v1::RecordChange& change) {
  core::JsonWriter json;
  json.BeginObject();
  WriteConfirmedRowMembers(json, Invoice(), change);
  json.EndObject();
  return json.Take();
}

TEST(WriteReplyTest, AConfirmedVersionIsARowOfTheTablesColumns) {
  v1::RecordChange change;
  change.set_record_id("a00A\"1");
  change.set_system_modstamp_ms(1'700'000'000'123);
  (*change.mutable_fields())["Id"].set_text("a00A\"1");           // the id member already
  (*change.mutable_fields())["Unsynced__c"].set_text("dropped");  // no column
  EXPECT_EQ(ConfirmedRow(change),
            R"({"id":"a00A\"1","_modstamp_ms":1700000000123,"_synced_at":"now"})");
  (*change.mutable_fields())["Amount__c"].set_number("1234.50");
  EXPECT_EQ(ConfirmedRow(change),
            R"({"id":"a00A\"1","_modstamp_ms":1700000000123,"amount__c":1234.50,)"
            R"("_synced_at":"now"})");
}

TEST(WriteReplyTest, TheRowsToLockAreTheirIds) {
  ServerQuerier::Rows rows;
  rows.rows = {{std::string("a00A"), std::string("x")}, {std::nullopt}, {}};
  EXPECT_EQ(PendingWriteClient::IdRowsJson(rows), R"([{"id":"a00A"},{"id":""},{"id":""}])");
  EXPECT_EQ(PendingWriteClient::IdRowsJson({}), "[]");
}

}  // namespace
}  // namespace sfbridge::proxy::writes
