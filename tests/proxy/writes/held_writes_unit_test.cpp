// How a unit of held writes is laid out in one all-or-none Composite request, and how its reply
// is read (held_writes.h): no servers.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "proxy/writes/held_writes.h"

namespace sfbridge::proxy::writes {
namespace {

using salesforce::CompositeSubresponse;
using salesforce::Fields;
using salesforce::FieldValue;
using ::testing::HasSubstr;
using ::testing::Not;

SyncedTable Table(std::string object, std::string table) {
  SyncedTable t{.schema = "salesforce", .table = std::move(table), .object = std::move(object)};
  t.fields = {
      {.field = "Id", .column = "id", .column_type = "text", .salesforce_type = "id"},
      {.field = "Name", .column = "name", .column_type = "text", .salesforce_type = "string"},
      {.field = "AccountId",
       .column = "account_id",
       .column_type = "text",
       .salesforce_type = "reference"},
      {.field = "SystemModstamp",
       .column = "system_modstamp",
       .column_type = "timestamp with time zone",
       .salesforce_type = "datetime"},
  };
  return t;
}

const SyncedTable kAccount = Table("Account", "account");
const SyncedTable kContact = Table("Contact", "contact");

HeldStatement Insert(const SyncedTable& table, std::vector<Fields> records) {
  HeldStatement st{.table = &table};
  st.write.operation = Operation::kInsert;
  for (size_t i = 0; i < records.size(); ++i) st.ids.push_back(NewProvisionalId());
  st.records = std::move(records);
  return st;
}

HeldStatement ById(Operation op, const SyncedTable& table, std::vector<std::string> ids,
                   std::string name = "") {
  HeldStatement st{.table = &table};
  st.write.operation = op;
  for (const std::string& id : ids) {
    Fields record = {{"Id", FieldValue::String(id)}};
    if (op == Operation::kUpdate) record.emplace_back("Name", FieldValue::String(name));
    st.records.push_back(std::move(record));
  }
  st.ids = std::move(ids);
  return st;
}

Fields Named(std::string name) { return {{"Name", FieldValue::String(std::move(name))}}; }

TEST(HeldWritesUnitTest, ProvisionalIdsAreUniqueAndNeverSalesforceIds) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewProvisionalId();
    EXPECT_EQ(id.size(), 18u);
    EXPECT_TRUE(IsProvisionalId(id)) << id;
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
  EXPECT_FALSE(IsProvisionalId("001000000000001AAA"));
  EXPECT_FALSE(IsProvisionalId("000p00000000000"));     // too short
  EXPECT_FALSE(IsProvisionalId("000pABCDEFGHIJKLMN"));  // upper case is Salesforce's
}

TEST(HeldWritesUnitTest, ConsecutiveStatementsOfOneOperationOnOneObjectShareACollection) {
  std::vector<HeldStatement> unit = {
      Insert(kAccount, {Named("a1")}), Insert(kAccount, {Named("a2"), Named("a3")}),
      ById(Operation::kUpdate, kAccount, {"001000000000001AAA"}, "u"),
      Insert(kContact, {Named("c1")}), Insert(kAccount, {Named("a4")})};
  UnitShape shape = ShapeOf(unit);
  ASSERT_EQ(shape.parts.size(), 4u);
  EXPECT_EQ(shape.parts[0].members.size(), 3u);
  EXPECT_EQ(shape.parts[0].members[2], std::make_pair(size_t{1}, size_t{1}));
  EXPECT_EQ(shape.parts[1].operation, Operation::kUpdate);
  EXPECT_EQ(shape.parts[2].table, &kContact);
  EXPECT_EQ(shape.records, 6u);
  EXPECT_EQ(shape.subrequests, 8u) << "a write and its read-back per part";
  EXPECT_TRUE(UnitFits(shape).ok());
}

TEST(HeldWritesUnitTest, AnUpdateOfARecordCreatedInTheUnitRefersToItsCreate) {
  HeldStatement account = Insert(kAccount, {Named("parent")});
  const std::string provisional = account.ids[0];
  HeldStatement contact = Insert(kContact, {{{"Name", FieldValue::String("child")},
                                             {"AccountId", FieldValue::String(provisional)}}});
  std::vector<HeldStatement> unit = {account, contact,
                                     ById(Operation::kUpdate, kAccount, {provisional}, "renamed")};
  absl::StatusOr<UnitRequest> request = BuildUnitRequest(unit, "u1_");
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_EQ(request->subrequests.size(), 6u);
  EXPECT_EQ(request->subrequests[0].reference_id, "u1_p0_w");
  // The child's AccountId and the update's Id become references to the create's result.
  EXPECT_THAT(request->subrequests[2].body, HasSubstr(R"("AccountId":"@{u1_p0_w[0].id}")"));
  EXPECT_THAT(request->subrequests[4].body, HasSubstr(R"("Id":"@{u1_p0_w[0].id}")"));
  EXPECT_THAT(request->subrequests[4].body, Not(HasSubstr(provisional)));
  EXPECT_EQ(request->subrequests[4].method, "PATCH");
}

TEST(HeldWritesUnitTest, ARecordTwiceOrAReferenceToASiblingStartsANewCollection) {
  std::vector<HeldStatement> twice = {
      ById(Operation::kUpdate, kAccount, {"001000000000001AAA"}, "one"),
      ById(Operation::kUpdate, kAccount, {"001000000000001AAA"}, "two")};
  EXPECT_EQ(ShapeOf(twice).parts.size(), 2u);

  HeldStatement parent = Insert(kAccount, {Named("parent")});
  HeldStatement child = Insert(kAccount, {{{"Name", FieldValue::String("child")},
                                           {"AccountId", FieldValue::String(parent.ids[0])}}});
  EXPECT_EQ(ShapeOf({parent, child}).parts.size(), 2u);
}

TEST(HeldWritesUnitTest, DeletesOfRecordsCreatedInTheUnitNeedNoReadBack) {
  HeldStatement created = Insert(kAccount, {Named("short-lived")});
  std::vector<HeldStatement> unit = {created, ById(Operation::kDelete, kAccount, {created.ids[0]})};
  absl::StatusOr<UnitRequest> request = BuildUnitRequest(unit, "u_");
  ASSERT_TRUE(request.ok());
  ASSERT_EQ(request->subrequests.size(), 3u);
  EXPECT_EQ(request->queries, 0);
  EXPECT_EQ(request->subrequests[2].method, "DELETE");
  EXPECT_THAT(request->subrequests[2].url, HasSubstr("ids=@{u_p0_w[0].id}"));
}

TEST(HeldWritesUnitTest, AUnitThatDoesNotFitOneRequestIsRefusedSayingWhy) {
  std::vector<Fields> many(kMaxUnitRecords + 1, Named("n"));
  std::vector<HeldStatement> big;
  for (size_t i = 0; i < many.size(); i += 200) {
    big.push_back(Insert(
        kAccount,
        std::vector<Fields>(many.begin() + i, many.begin() + std::min(many.size(), i + 200))));
  }
  absl::Status status = UnitFits(ShapeOf(big));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()), HasSubstr("at most 500"));

  // Alternating objects: a part each, two subrequests each.
  std::vector<HeldStatement> alternating;
  for (int i = 0; i < 13; ++i) {
    alternating.push_back(Insert(i % 2 ? kContact : kAccount, {Named("x")}));
  }
  status = UnitFits(ShapeOf(alternating));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()), HasSubstr("26 Composite subrequests"));
}

TEST(HeldWritesUnitTest, TheRefusedRecordNamesItsStatement) {
  std::vector<HeldStatement> unit = {Insert(kAccount, {Named("ok")}),
                                     Insert(kAccount, {Named("ok2"), Named("")})};
  absl::StatusOr<UnitRequest> request = BuildUnitRequest(unit, "r_");
  ASSERT_TRUE(request.ok());
  ASSERT_EQ(request->subrequests.size(), 2u);
  std::vector<CompositeSubresponse> replies = {
      {.http_status = 400,
       .body = R"([{"success":false,"errors":[{"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK",)"
               R"("message":"rolled back","fields":[]}]},)"
               R"({"success":false,"errors":[{"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK",)"
               R"("message":"rolled back","fields":[]}]},)"
               R"({"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING",)"
               R"("message":"Required fields are missing: [Name]","fields":["Name"]}]}])"},
      {.http_status = 400, .body = R"([{"errorCode":"PROCESSING_HALTED","message":"halted"}])"}};
  UnitOutcome outcome = ReadUnitReply(*request, unit, replies, "org", 0);
  ASSERT_FALSE(outcome.failure.ok());
  EXPECT_EQ(outcome.failed_statement, 1u);
  EXPECT_THAT(std::string(outcome.failure.message()), HasSubstr("Required fields are missing"));
}

TEST(HeldWritesUnitTest, RowsById) {
  absl::StatusOr<std::map<std::string, std::string>> rows =
      RowsById(R"([{"id": "b", "n": 2}, {"id": "a", "n": 1.50}])");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  // As written: an exact numeric stays exact.
  EXPECT_EQ(rows->at("a"), R"({"id": "a", "n": 1.50})");
  EXPECT_EQ(RowsById(R"([{"id": "c", "n": 12345678901234567890.123456789}])")->at("c"),
            R"({"id": "c", "n": 12345678901234567890.123456789})");
  EXPECT_FALSE(RowsById(R"([{"n": 1}])").ok());
  EXPECT_FALSE(RowsById("{").ok());
}

}  // namespace
}  // namespace sfbridge::proxy::writes
