// The client's read calls against sfsim: versions, describe, queries and their paging, queryAll,
// limits, getUpdated/getDeleted, and keyset pagination over records sharing a SystemModstamp.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/integration/salesforce/sfsim_fixture.h"

namespace sfbridge::salesforce::integration {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

class QueryTest : public SmallOrgTest {
 protected:
  // Every page of `soql`, following nextRecordsUrl; the number of pages in `pages`.
  std::vector<Record> QueryEverything(const std::string& soql, int batch_size, int* pages) {
    std::vector<Record> records;
    absl::StatusOr<QueryPage> page = client_->Query(soql, batch_size);
    *pages = 0;
    while (true) {
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      ++*pages;
      for (Record& r : page->records) records.push_back(std::move(r));
      if (page->done) {
        EXPECT_TRUE(page->next_records_url.empty());
        break;
      }
      page = client_->QueryMore(page->next_records_url);
    }
    return records;
  }
};

TEST_F(QueryTest, VersionsListTheConfiguredVersions) {
  absl::StatusOr<std::vector<ApiVersion>> versions = client_->Versions();
  ASSERT_TRUE(versions.ok()) << versions.status();
  std::vector<std::string> names;
  for (const ApiVersion& v : *versions) names.push_back(v.version);
  EXPECT_THAT(names, Contains("59.0"));
  auto v59 = std::find_if(versions->begin(), versions->end(),
                          [](const ApiVersion& v) { return v.version == "59.0"; });
  EXPECT_EQ(v59->url, "/services/data/v59.0");
  EXPECT_FALSE(v59->label.empty());
}

TEST_F(QueryTest, DescribeGlobalListsEveryObjectIncludingCustomOnes) {
  absl::StatusOr<std::vector<SObjectSummary>> objects = client_->DescribeGlobal();
  ASSERT_TRUE(objects.ok()) << objects.status();
  std::map<std::string, SObjectSummary> by_name;
  for (const SObjectSummary& o : *objects) by_name[o.name] = o;
  for (const char* name : {"Account", "Contact", "Lead", "Opportunity", "User", "Product2",
                           "Invoice__c", "Shipment__c"}) {
    EXPECT_TRUE(by_name.count(name)) << name;
  }
  EXPECT_EQ(by_name["Account"].key_prefix, "001");
  EXPECT_FALSE(by_name["Account"].custom);
  EXPECT_TRUE(by_name["Invoice__c"].custom);
  EXPECT_TRUE(by_name["Shipment__c"].custom);
  EXPECT_EQ(by_name["Invoice__c"].label, "Invoice");
  EXPECT_EQ(by_name["Invoice__c"].label_plural, "Invoices");
  EXPECT_TRUE(by_name["Contact"].queryable);
  EXPECT_TRUE(by_name["Contact"].replicateable);
  EXPECT_FALSE(by_name["User"].deletable);
}

TEST_F(QueryTest, DescribeReportsFieldTypesFlagsPicklistsAndReferences) {
  absl::StatusOr<SObjectDescribe> opportunity = client_->Describe("Opportunity");
  ASSERT_TRUE(opportunity.ok()) << opportunity.status();
  EXPECT_EQ(opportunity->name, "Opportunity");
  EXPECT_EQ(opportunity->key_prefix, "006");
  ASSERT_FALSE(opportunity->fields.empty());
  EXPECT_EQ(opportunity->fields.front().name, "Id");

  const FieldDescribe* id = opportunity->FindField("Id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->type, "id");
  EXPECT_FALSE(id->createable);
  EXPECT_FALSE(id->updateable);

  const FieldDescribe* expected = opportunity->FindField("ExpectedRevenue");
  ASSERT_NE(expected, nullptr);
  EXPECT_EQ(expected->type, "currency");
  EXPECT_TRUE(expected->calculated);
  EXPECT_FALSE(expected->createable);
  EXPECT_FALSE(expected->updateable);
  EXPECT_THAT(expected->calculated_formula, HasSubstr("Amount"));

  const FieldDescribe* amount = opportunity->FindField("Amount");
  ASSERT_NE(amount, nullptr);
  EXPECT_EQ(amount->type, "currency");
  EXPECT_EQ(amount->precision, 18);
  EXPECT_EQ(amount->scale, 2);
  EXPECT_TRUE(amount->createable);

  const FieldDescribe* account = opportunity->FindField("AccountId");
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->type, "reference");
  EXPECT_EQ(account->reference_to, std::vector<std::string>{"Account"});
  EXPECT_EQ(account->relationship_name, "Account");

  const FieldDescribe* stage = opportunity->FindField("StageName");
  ASSERT_NE(stage, nullptr);
  EXPECT_EQ(stage->type, "picklist");
  EXPECT_TRUE(stage->restricted_picklist);
  EXPECT_FALSE(stage->nillable);
  std::vector<std::string> values;
  for (const PicklistValue& v : stage->picklist_values) values.push_back(v.value);
  EXPECT_THAT(values, Contains("Closed Won"));
  EXPECT_EQ(values.size(), 10u);

  absl::StatusOr<SObjectDescribe> invoice = client_->Describe("Invoice__c");
  ASSERT_TRUE(invoice.ok()) << invoice.status();
  EXPECT_TRUE(invoice->custom);
  const FieldDescribe* ext = invoice->FindField("External_Id__c");
  ASSERT_NE(ext, nullptr);
  EXPECT_TRUE(ext->unique);
  EXPECT_TRUE(ext->external_id);
  EXPECT_TRUE(ext->custom);
  EXPECT_EQ(ext->length, 40);
  EXPECT_EQ(ext->byte_length, 120);
  const FieldDescribe* name = invoice->FindField("Name");
  ASSERT_NE(name, nullptr);
  EXPECT_TRUE(name->auto_number);
  EXPECT_FALSE(name->createable);

  absl::StatusOr<SObjectDescribe> account_describe = client_->Describe("Account");
  ASSERT_TRUE(account_describe.ok());
  const FieldDescribe* city = account_describe->FindField("BillingCity");
  ASSERT_NE(city, nullptr);
  EXPECT_EQ(city->compound_field_name, "BillingAddress");
  ASSERT_NE(account_describe->FindField("BillingAddress"), nullptr);
  EXPECT_EQ(account_describe->FindField("BillingAddress")->type, "address");
}

TEST_F(QueryTest, QueryPagesFollowTheBatchSizeHeader) {
  const std::string soql = "SELECT Id, Name FROM Contact";
  for (auto [batch, expected_pages] : {std::pair{200, 25}, std::pair{2000, 3}, std::pair{0, 3}}) {
    int pages = 0;
    absl::StatusOr<QueryPage> first = client_->Query(soql, batch);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->total_size, 5000);
    EXPECT_FALSE(first->done);
    EXPECT_EQ(first->records.size(), batch == 200 ? 200u : 2000u);
    EXPECT_THAT(first->next_records_url, HasSubstr("/services/data/v59.0/query/"));

    std::vector<Record> all = QueryEverything(soql, batch, &pages);
    EXPECT_EQ(pages, expected_pages) << "batch " << batch;
    std::set<std::string> ids;
    for (const Record& r : all) {
      EXPECT_EQ(r.type, "Contact");
      EXPECT_EQ(r.id.size(), 18u);
      ids.insert(r.id);
    }
    EXPECT_EQ(ids.size(), 5000u) << "batch " << batch;
    EXPECT_EQ(ids, [] {
      std::set<std::string> keys;
      for (const auto& [id, stamp] : org_->Digest("Contact")) keys.insert(id);
      return keys;
    }());
  }
}

TEST_F(QueryTest, QueryMoreOfAnUnknownLocatorIsInvalidQueryLocator) {
  absl::StatusOr<QueryPage> page =
      client_->QueryMore("/services/data/v59.0/query/01gUNKNOWNLOCATOR-2000");
  ASSERT_FALSE(page.ok());
  ApiError error = ExpectApiError(page.status());
  EXPECT_EQ(error.error_code, "INVALID_QUERY_LOCATOR");
  EXPECT_EQ(error.http_status, 400);
  // The client refuses to send its token anywhere else.
  EXPECT_EQ(
      client_->QueryMore("https://evil.example/services/data/v59.0/query/x-1").status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(QueryTest, QueryAllReturnsRecycledRecordsWithIsDeleted) {
  const std::string id = org_->AdminCreate("Account", R"({"Name":"Recycled Ltd"})");
  ASSERT_FALSE(id.empty());
  absl::StatusOr<std::vector<SaveResult>> deleted = client_->DeleteRecords({id}, true);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  ASSERT_TRUE((*deleted)[0].success);

  const std::string soql =
      core::StrCat("SELECT Id, Name, IsDeleted FROM Account WHERE Id = '", id, "'");
  absl::StatusOr<QueryPage> live = client_->Query(soql);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->total_size, 0);
  EXPECT_TRUE(live->records.empty());

  absl::StatusOr<QueryPage> all = client_->QueryAll(soql);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->records.size(), 1u);
  EXPECT_EQ(all->records[0].id, id);
  EXPECT_EQ(FieldText(all->records[0], "Name"), "Recycled Ltd");
  const FieldValue* is_deleted = all->records[0].Find("IsDeleted");
  ASSERT_NE(is_deleted, nullptr);
  EXPECT_EQ(*is_deleted, FieldValue::Bool(true));

  absl::StatusOr<QueryPage> count =
      client_->QueryAll("SELECT Id FROM Account WHERE IsDeleted = true");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_GE(count->total_size, 1);
}

TEST_F(QueryTest, LimitsMatchSfsimsCounterAndTheLimitInfoHeader) {
  absl::StatusOr<std::map<std::string, LimitValue>> limits = client_->Limits();
  ASSERT_TRUE(limits.ok()) << limits.status();
  ASSERT_TRUE(limits->count("DailyApiRequests"));
  const LimitValue daily = limits->at("DailyApiRequests");
  const int64_t used = org_->sim().limits().used();  // the limits call itself is counted
  EXPECT_EQ(daily.max, 100'000);
  EXPECT_EQ(daily.remaining, 100'000 - used);
  EXPECT_TRUE(limits->count("DailyBulkV2QueryJobs"));

  std::optional<LimitInfo> info = client_->last_limit_info();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->max, 100'000);
  EXPECT_EQ(info->used, used);

  ASSERT_TRUE(client_->Query("SELECT Id FROM User").ok());
  info = client_->last_limit_info();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->used, used + 1);
}

TEST_F(QueryTest, GetUpdatedAndGetDeletedSeeRecentChanges) {
  core::Clock& clock = core::SystemClock::Instance();
  const core::Clock::WallTime start = clock.Now() - std::chrono::minutes(2);
  absl::StatusOr<std::vector<SaveResult>> created = client_->CreateRecords(
      "Account", {StringFields({{"Name", "Updated Co"}}), StringFields({{"Name", "Deleted Co"}})},
      true);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string updated_id = (*created)[0].id;
  const std::string deleted_id = (*created)[1].id;
  ASSERT_TRUE(client_->DeleteRecords({deleted_id}, true).ok());
  const core::Clock::WallTime end = clock.Now() + std::chrono::minutes(2);

  absl::StatusOr<UpdatedRecords> updated = client_->GetUpdated("Account", start, end);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_THAT(updated->ids, Contains(updated_id));
  EXPECT_THAT(updated->ids, ::testing::Not(Contains(deleted_id)));
  EXPECT_THAT(updated->latest_date_covered, ::testing::EndsWith("+0000"));

  absl::StatusOr<DeletedRecords> deleted = client_->GetDeleted("Account", start, end);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  std::vector<std::string> ids;
  for (const DeletedRecord& d : deleted->deleted_records) ids.push_back(d.id);
  EXPECT_THAT(ids, Contains(deleted_id));
  EXPECT_FALSE(deleted->earliest_date_available.empty());

  // A window older than the recycle bin keeps is refused.
  absl::StatusOr<DeletedRecords> too_old =
      client_->GetDeleted("Account", clock.Now() - std::chrono::hours(24 * 20), end);
  ASSERT_FALSE(too_old.ok());
  EXPECT_EQ(ExpectApiError(too_old.status()).error_code, "INVALID_REPLICATION_DATE");
}

// Generated Contacts come in bursts of 700 sharing one SystemModstamp, so a page boundary
// (every 2,000 rows) falls inside a burst.
class KeysetPaginationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sfsim::SimulatorOptions options = SmallOrgOptions();
    options.org.burst_size = 700;
    org_ = SfsimOrg::Start(options);
  }
  static void TearDownTestSuite() { org_.reset(); }
  static std::unique_ptr<SfsimOrg> org_;
};

std::unique_ptr<SfsimOrg> KeysetPaginationTest::org_;

// "2024-01-15T10:20:30.123+0000" (JSON) → "2024-01-15T10:20:30.123Z" (a SOQL literal).
std::string SoqlDateTime(std::string json_value) {
  if (json_value.ends_with("+0000")) json_value.replace(json_value.size() - 5, 5, "Z");
  return json_value;
}

TEST_F(KeysetPaginationTest, SeesEveryRecordExactlyOnceAcrossSharedTimestamps) {
  ASSERT_NE(org_, nullptr);
  std::unique_ptr<Client> client = org_->NewClient();
  const std::map<std::string, int64_t> digest = org_->Digest("Contact");
  ASSERT_EQ(digest.size(), 5000u);
  std::map<int64_t, int> per_stamp;
  for (const auto& [id, stamp] : digest) ++per_stamp[stamp];
  EXPECT_GE(std::max_element(per_stamp.begin(), per_stamp.end(),
                             [](auto& a, auto& b) { return a.second < b.second; })
                ->second,
            700);

  std::map<std::string, int> seen;
  std::string ts, last_id;
  int queries = 0;
  while (queries < 20) {
    std::string where;
    if (!ts.empty()) {
      where = core::StrCat(" WHERE SystemModstamp > ", ts, " OR (SystemModstamp = ", ts,
                           " AND Id > '", last_id, "')");
    }
    absl::StatusOr<QueryPage> page =
        client->Query(core::StrCat("SELECT Id, SystemModstamp FROM Contact", where,
                                   " ORDER BY SystemModstamp, Id LIMIT 2000"));
    ASSERT_TRUE(page.ok()) << page.status();
    ++queries;
    EXPECT_TRUE(page->done);
    if (page->records.empty()) break;
    for (const Record& r : page->records) ++seen[r.id];
    const Record& last = page->records.back();
    ts = SoqlDateTime(FieldText(last, "SystemModstamp"));
    last_id = last.id;
  }
  EXPECT_EQ(queries, 4);  // 2000 + 2000 + 1000, then an empty page
  EXPECT_EQ(seen.size(), digest.size());
  for (const auto& [id, n] : seen) {
    EXPECT_EQ(n, 1) << id;
    EXPECT_TRUE(digest.count(id)) << id;
  }

  // The naive cursor (SystemModstamp > last only) loses the rest of a burst at a page boundary.
  absl::StatusOr<QueryPage> first = client->Query(
      "SELECT Id, SystemModstamp FROM Contact ORDER BY SystemModstamp, Id LIMIT 2000");
  ASSERT_TRUE(first.ok());
  const std::string boundary = SoqlDateTime(FieldText(first->records.back(), "SystemModstamp"));
  absl::StatusOr<QueryPage> naive = client->Query(core::StrCat(
      "SELECT Id FROM Contact WHERE SystemModstamp > ", boundary, " ORDER BY SystemModstamp, Id"));
  ASSERT_TRUE(naive.ok());
  EXPECT_LT(naive->total_size + 2000, 5000);
}

}  // namespace
}  // namespace sfbridge::salesforce::integration
