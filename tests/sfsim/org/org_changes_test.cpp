// Changes and their bookkeeping: SystemModstamp, recycle bin, getUpdated/getDeleted, formulas,
// upsert and all-or-none batches.

#include <chrono>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sfsim/org/org.h"
#include "tests/sfsim/org/org_test_util.h"

namespace sfbridge::sfsim::org::testing {
namespace {

using ::testing::ElementsAre;

class OrgChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = MakeOrg(clock_, {{"Account", 10}, {"Contact", 20}, {"Invoice__c", 5}});
  }
  int64_t NowMs() const { return core::ToUnixMillis(clock_.Now()); }
  std::string AnyId(const std::string& object) {
    return MustQuery(*org_, "SELECT Id FROM " + object + " ORDER BY Id LIMIT 1").records.at(0)->id;
  }

  sfbridge::testing::FakeClock clock_;
  std::unique_ptr<Org> org_;
};

TEST_F(OrgChangesTest, DeleteMovesToRecycleBinUntilPurged) {
  const std::string id = AnyId("Contact");
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(org_->Delete(id).success);
  const int64_t deleted_at = NowMs();

  EXPECT_EQ(org_->Get(id), nullptr);
  ASSERT_NE(org_->Get(id, true), nullptr);
  EXPECT_TRUE(org_->Get(id, true)->is_deleted);
  EXPECT_EQ(org_->Get(id, true)->system_modstamp_ms, deleted_at);
  EXPECT_EQ(org_->Count("Contact", false), 19);
  EXPECT_EQ(org_->Count("Contact", true), 20);

  const std::string by_id = "SELECT Id, IsDeleted FROM Contact WHERE Id = '" + id + "'";
  EXPECT_TRUE(MustQuery(*org_, by_id).records.empty());
  QueryResult all = MustQuery(*org_, by_id, true);
  ASSERT_EQ(all.records.size(), 1u);
  EXPECT_EQ(ValueOf(*org_, all.records[0], "IsDeleted"), "true");
  EXPECT_EQ(MustQuery(*org_, "SELECT COUNT() FROM Contact WHERE IsDeleted = true", true).total_size,
            1);

  auto deleted = org_->DeletedRecords("Contact", deleted_at - 60'000, deleted_at + 60'000);
  ASSERT_TRUE(std::holds_alternative<std::vector<DeletedRecord>>(deleted));
  ASSERT_EQ(std::get<0>(deleted).size(), 1u);
  EXPECT_EQ(std::get<0>(deleted)[0].id, id);
  EXPECT_EQ(std::get<0>(deleted)[0].deleted_date_ms, deleted_at);

  EXPECT_EQ(org_->PurgeRecycleBin("Contact"), 1);
  EXPECT_EQ(org_->Get(id, true), nullptr);
  EXPECT_TRUE(MustQuery(*org_, by_id, true).records.empty());
  EXPECT_EQ(org_->Count("Contact", true), 19);
  // getDeleted still reports it within its window.
  deleted = org_->DeletedRecords("Contact", deleted_at - 60'000, deleted_at + 60'000);
  ASSERT_EQ(std::get<0>(deleted).size(), 1u);
  EXPECT_EQ(org_->Undelete(id).errors.at(0).code, "NOT_FOUND");
}

TEST_F(OrgChangesTest, UndeleteRestoresAndLeavesGetDeleted) {
  const std::string id = AnyId("Account");
  ASSERT_TRUE(org_->Delete(id).success);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(org_->Undelete(id).success);
  ASSERT_NE(org_->Get(id), nullptr);
  EXPECT_EQ(org_->Get(id)->system_modstamp_ms, NowMs());
  EXPECT_EQ(ValueOf(*org_, org_->Get(id), "IsDeleted"), "false");
  auto deleted = org_->DeletedRecords("Account", NowMs() - 600'000, NowMs() + 60'000);
  EXPECT_TRUE(std::get<0>(deleted).empty());
  EXPECT_EQ(org_->Undelete(id).errors.at(0).code, "UNDELETE_FAILED");
}

TEST_F(OrgChangesTest, ReplicationWindows) {
  const std::string id = AnyId("Contact");
  clock_.Advance(std::chrono::minutes(3));
  const int64_t before = NowMs();
  ASSERT_TRUE(org_->Update("Contact", id, {{"Title", Str("CTO")}}).success);
  auto updated = org_->UpdatedIds("Contact", before - 60'000, before + 120'000);
  ASSERT_TRUE(std::holds_alternative<std::vector<std::string>>(updated));
  EXPECT_THAT(std::get<0>(updated), ElementsAre(id));

  auto backwards = org_->UpdatedIds("Contact", before, before - 120'000);
  ASSERT_TRUE(std::holds_alternative<ApiError>(backwards));
  EXPECT_EQ(std::get<ApiError>(backwards).code, "INVALID_REPLICATION_DATE");
  auto too_old = org_->DeletedRecords("Contact", before - 16LL * 86'400'000, before);
  EXPECT_EQ(std::get<ApiError>(too_old).code, "INVALID_REPLICATION_DATE");
  EXPECT_EQ(std::get<ApiError>(org_->UpdatedIds("Nope", before, before)).http_status, 404);
}

TEST_F(OrgChangesTest, SystemModstampNeverGoesBackwards) {
  const std::string a = AnyId("Account");
  clock_.Advance(std::chrono::milliseconds(1500));
  ASSERT_TRUE(org_->Update("Account", a, {{"Phone", Str("1")}}).success);
  const int64_t first = org_->Get(a)->system_modstamp_ms;
  EXPECT_EQ(first, NowMs());
  EXPECT_EQ(ValueOf(*org_, org_->Get(a), "LastModifiedDate"),
            ValueOf(*org_, org_->Get(a), "SystemModstamp"));

  clock_.Advance(-std::chrono::hours(1));  // the clock steps back
  const SaveResult created = org_->Create("Contact", {{"LastName", Str("Later")}});
  ASSERT_TRUE(created.success);
  EXPECT_GE(org_->Get(created.id)->system_modstamp_ms, first);
  ASSERT_TRUE(org_->Update("Account", a, {{"Phone", Str("2")}}).success);
  EXPECT_GE(org_->Get(a)->system_modstamp_ms, first);
  const auto before = org_->Digest("Contact", true);
  EXPECT_GE(org_->ChurnStep(3, 50, 10), 1);
  int changed = 0;
  for (const auto& [id, stamp] : org_->Digest("Contact", true)) {
    auto it = before.find(id);
    if (it != before.end() && it->second == stamp) continue;
    ++changed;
    EXPECT_GE(stamp, first) << id;
  }
  EXPECT_GT(changed, 0);
  clock_.Advance(std::chrono::hours(2));
  ASSERT_TRUE(org_->Update("Account", a, {{"Phone", Str("3")}}).success);
  EXPECT_EQ(org_->Get(a)->system_modstamp_ms, NowMs());
}

TEST_F(OrgChangesTest, ARecordsVersionsWithinOneMillisecondStillMoveForward) {
  const std::string a = AnyId("Account");
  std::string b;
  for (const auto& [id, stamp] : org_->Digest("Account", false)) {
    if (id != a) b = id;
  }
  ASSERT_FALSE(b.empty());
  clock_.Advance(std::chrono::milliseconds(10));
  ASSERT_TRUE(org_->Update("Account", a, {{"Phone", Str("1")}}).success);
  const int64_t first = org_->Get(a)->system_modstamp_ms;
  EXPECT_EQ(first, NowMs());
  // The same millisecond: the record's next version is later all the same, so that the version
  // order never rests on which arrives last; another record's stamp is the clock's.
  ASSERT_TRUE(org_->Update("Account", a, {{"Phone", Str("2")}}).success);
  EXPECT_EQ(org_->Get(a)->system_modstamp_ms, first + 1);
  EXPECT_EQ(ValueOf(*org_, org_->Get(a), "LastModifiedDate"),
            ValueOf(*org_, org_->Get(a), "SystemModstamp"));
  ASSERT_TRUE(org_->Update("Account", b, {{"Phone", Str("3")}}).success);
  EXPECT_EQ(org_->Get(b)->system_modstamp_ms, NowMs());
}

TEST_F(OrgChangesTest, ChangesAtMillisecondPrecision) {
  const std::string a = AnyId("Account");
  clock_.Advance(std::chrono::microseconds(1'234'567));
  ASSERT_TRUE(org_->Update("Account", a, {{"Phone", Str("1")}}).success);
  EXPECT_EQ(org_->Get(a)->system_modstamp_ms % 1000, (NowMs() % 1000));
  EXPECT_EQ(org_->Get(a)->system_modstamp_ms, NowMs());
}

TEST_F(OrgChangesTest, FormulaRecomputedOnEveryWrite) {
  const SaveResult created = org_->Create("Opportunity", {{"Name", Str("Deal")},
                                                          {"StageName", Str("Prospecting")},
                                                          {"CloseDate", Str("2024-03-01")},
                                                          {"Amount", Num("1000")},
                                                          {"Probability", Num("50")}});
  ASSERT_TRUE(created.success);
  EXPECT_EQ(ValueOf(*org_, org_->Get(created.id), "ExpectedRevenue"), "500.00");
  ASSERT_TRUE(org_->Update("Opportunity", created.id, {{"Probability", Num("10")}}).success);
  EXPECT_EQ(ValueOf(*org_, org_->Get(created.id), "ExpectedRevenue"), "100.00");
  ASSERT_TRUE(org_->Update("Opportunity", created.id,
                           {{"Amount", Null()}, {"StageName", Str("Closed Won")}})
                  .success);
  EXPECT_EQ(ValueOf(*org_, org_->Get(created.id), "ExpectedRevenue"), "null");
  EXPECT_EQ(ValueOf(*org_, org_->Get(created.id), "IsWon"), "true");

  const SaveResult contact =
      org_->Create("Contact", {{"FirstName", Str("Zoë")}, {"LastName", Str("O'Brien")}});
  EXPECT_EQ(ValueOf(*org_, org_->Get(contact.id), "Name"), "Zoë O'Brien");
}

TEST_F(OrgChangesTest, UpsertCreatesUpdatesAndRefusesAmbiguity) {
  const SaveResult created =
      org_->Upsert("Invoice__c", "External_Id__c", "U-1", {{"Amount__c", Num("10.5")}});
  ASSERT_TRUE(created.success);
  EXPECT_TRUE(created.created);
  EXPECT_EQ(ValueOf(*org_, org_->Get(created.id), "External_Id__c"), "U-1");

  const SaveResult updated =
      org_->Upsert("Invoice__c", "external_id__c", "u-1", {{"Amount__c", Num("11")}});
  ASSERT_TRUE(updated.success);
  EXPECT_FALSE(updated.created);
  EXPECT_EQ(updated.id, created.id);
  EXPECT_EQ(ValueOf(*org_, org_->Get(created.id), "Amount__c"), "11");

  ASSERT_TRUE(
      org_->Create("Contact", {{"LastName", Str("A")}, {"Legacy_Id__c", Str("DUP")}}).success);
  ASSERT_TRUE(
      org_->Create("Contact", {{"LastName", Str("B")}, {"Legacy_Id__c", Str("DUP")}}).success);
  const SaveResult ambiguous =
      org_->Upsert("Contact", "Legacy_Id__c", "DUP", {{"Title", Str("X")}});
  ASSERT_FALSE(ambiguous.success);
  EXPECT_EQ(ambiguous.errors.at(0).http_status, 300);
  EXPECT_EQ(ambiguous.errors.at(0).code, "MULTIPLE_CHOICES");

  const SaveResult bad_field = org_->Upsert("Contact", "LastName", "A", {});
  EXPECT_EQ(bad_field.errors.at(0).http_status, 404);
  // Validation applies to the created record too.
  const SaveResult missing = org_->Upsert("Contact", "Legacy_Id__c", "NEW", {});
  EXPECT_EQ(missing.errors.at(0).code, "REQUIRED_FIELD_MISSING");
}

// Salesforce keeps no empty text: "" is stored as null, clears a value, and misses a required
// field.
TEST_F(OrgChangesTest, EmptyTextIsStoredAsNull) {
  auto title_is_null = [&](const std::string& id) {
    const RecordPtr record = org_->Get(id);
    const ObjectDef* object = org_->ObjectOfId(id);
    for (std::size_t i = 0; i < object->fields.size(); ++i) {
      if (object->fields[i].name == "Title") return record->values[i].IsNull();
    }
    ADD_FAILURE() << "no Title";
    return false;
  };
  const SaveResult created = org_->Create("Contact", {{"LastName", Str("A")}, {"Title", Str("")}});
  ASSERT_TRUE(created.success);
  EXPECT_TRUE(title_is_null(created.id));

  ASSERT_TRUE(org_->Update("Contact", created.id, {{"Title", Str("Buyer")}}).success);
  EXPECT_FALSE(title_is_null(created.id));
  ASSERT_TRUE(org_->Update("Contact", created.id, {{"Title", Str("")}}).success);
  EXPECT_TRUE(title_is_null(created.id));

  const SaveResult missing = org_->Create("Contact", {{"LastName", Str("")}});
  ASSERT_FALSE(missing.success);
  EXPECT_EQ(missing.errors.at(0).code, "REQUIRED_FIELD_MISSING");
  const SaveResult cleared = org_->Update("Contact", created.id, {{"LastName", Str("")}});
  ASSERT_FALSE(cleared.success);
  EXPECT_EQ(cleared.errors.at(0).code, "REQUIRED_FIELD_MISSING");
}

TEST_F(OrgChangesTest, AllOrNoneRollsBackEverything) {
  const auto before = org_->Digest("Contact", true);
  const auto accounts_before = org_->Digest("Account", true);
  const std::string contact = AnyId("Contact");
  const std::string account = AnyId("Account");
  clock_.Advance(std::chrono::seconds(10));
  std::vector<Org::Operation> ops = {
      {Org::Operation::Kind::kCreate, "Contact", "", {{"LastName", Str("New")}}},
      {Org::Operation::Kind::kUpdate, "Contact", contact, {{"Title", Str("Changed")}}},
      {Org::Operation::Kind::kDelete, "", account, {}},
      {Org::Operation::Kind::kCreate, "Contact", "", {{"FirstName", Str("NoLastName")}}},
  };
  const std::vector<SaveResult> results = org_->Apply(ops, true);
  ASSERT_EQ(results.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(results[i].success);
    EXPECT_EQ(results[i].errors.at(0).code, "ALL_OR_NONE_OPERATION_ROLLED_BACK") << i;
  }
  EXPECT_EQ(results[3].errors.at(0).code, "REQUIRED_FIELD_MISSING");
  EXPECT_EQ(org_->Digest("Contact", true), before);
  EXPECT_EQ(org_->Digest("Account", true), accounts_before);
  EXPECT_NE(ValueOf(*org_, org_->Get(contact), "Title"), "Changed");
  auto deleted = org_->DeletedRecords("Account", NowMs() - 600'000, NowMs() + 60'000);
  EXPECT_TRUE(std::get<0>(deleted).empty());

  // Without all-or-none each stands alone, and one batch shares one SystemModstamp.
  const std::vector<SaveResult> alone = org_->Apply(ops, false);
  EXPECT_TRUE(alone[0].success && alone[1].success && alone[2].success);
  EXPECT_FALSE(alone[3].success);
  EXPECT_EQ(org_->Get(alone[0].id)->system_modstamp_ms, NowMs());
  EXPECT_EQ(org_->Get(contact)->system_modstamp_ms, NowMs());
  EXPECT_EQ(org_->Count("Contact", false), static_cast<int64_t>(before.size()) + 1);
}

TEST_F(OrgChangesTest, AllOrNoneSeesEarlierOperationsOfTheBatch) {
  std::vector<Org::Operation> ops = {
      {Org::Operation::Kind::kCreate, "Invoice__c", "", {{"External_Id__c", Str("B-1")}}},
      {Org::Operation::Kind::kCreate, "Invoice__c", "", {{"External_Id__c", Str("B-1")}}},
  };
  const std::vector<SaveResult> results = org_->Apply(ops, true);
  EXPECT_EQ(results[0].errors.at(0).code, "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  EXPECT_EQ(results[1].errors.at(0).code, "DUPLICATE_VALUE");
  EXPECT_EQ(org_->Count("Invoice__c", true), 5);
  // The value is free again after the rollback.
  EXPECT_TRUE(org_->Create("Invoice__c", {{"External_Id__c", Str("B-1")}}).success);
}

TEST_F(OrgChangesTest, QueryResultKeepsTheVersionsItMatched) {
  const std::string id = AnyId("Contact");
  QueryResult result = MustQuery(*org_, "SELECT Id, Title FROM Contact WHERE Id = '" + id + "'");
  ASSERT_EQ(result.records.size(), 1u);
  const std::string title = ValueOf(*org_, result.records[0], "Title");
  ASSERT_TRUE(org_->Update("Contact", id, {{"Title", Str("Brand new")}}).success);
  EXPECT_EQ(ValueOf(*org_, result.records[0], "Title"), title);
  EXPECT_EQ(ValueOf(*org_, org_->Get(id), "Title"), "Brand new");
}

}  // namespace
}  // namespace sfbridge::sfsim::org::testing
