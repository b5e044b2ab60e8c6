// Queries over the org: errors, keyset paging over (SystemModstamp, Id), and queries running
// while other threads change the data.

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sfsim/org/org.h"
#include "sfsim/soql/datetime.h"
#include "tests/sfsim/org/org_test_util.h"

namespace sfbridge::sfsim::org::testing {
namespace {

using ::testing::HasSubstr;

TEST(OrgQueryTest, ErrorsAsSalesforceGivesThem) {
  sfbridge::testing::FakeClock clock;
  auto org = MakeOrg(clock, {{"Contact", 3}, {"Account", 1}});
  const ApiError malformed = QueryError(*org, "SELEC Id FROM Contact");
  EXPECT_EQ(malformed.code, "MALFORMED_QUERY");
  EXPECT_EQ(malformed.http_status, 400);
  const ApiError field = QueryError(*org, "SELECT Foo FROM Contact");
  EXPECT_EQ(field.code, "INVALID_FIELD");
  EXPECT_THAT(field.message, HasSubstr("No such column 'Foo' on entity 'Contact'"));
  EXPECT_EQ(QueryError(*org, "SELECT Id FROM Foo__c").code, "INVALID_TYPE");
  EXPECT_EQ(QueryError(*org, "SELECT Id FROM Account WHERE BillingAddress = 'x'").http_status, 400);
}

TEST(OrgQueryTest, SelectsCountsAndFieldsAll) {
  sfbridge::testing::FakeClock clock;
  auto org = MakeOrg(clock, {{"Account", 7}});
  QueryResult count = MustQuery(*org, "select count() from account");
  EXPECT_TRUE(count.count_only);
  EXPECT_EQ(count.total_size, 7);
  QueryResult all = MustQuery(*org, "SELECT FIELDS(ALL) FROM Account LIMIT 200");
  EXPECT_EQ(all.records.size(), 7u);
  EXPECT_EQ(all.selected.size(), org->FindObject("Account")->fields.size());
  EXPECT_EQ(all.object, org->FindObject("Account"));
  QueryResult custom = MustQuery(*org, "SELECT FIELDS(CUSTOM) FROM Account LIMIT 200");
  EXPECT_EQ(custom.selected.size(), 2u);  // Tier__c, Customer_Since__c
}

// Pages through Contact by (SystemModstamp, Id) the way the fetcher does.
std::vector<std::string> PageThrough(const Org& org, int page_size) {
  std::vector<std::string> seen;
  std::string where;
  for (int pages = 0; pages < 10'000; ++pages) {
    const QueryResult page =
        MustQuery(org, "SELECT Id, SystemModstamp FROM Contact" + where +
                           " ORDER BY SystemModstamp, Id LIMIT " + std::to_string(page_size));
    for (const RecordPtr& record : page.records) seen.push_back(record->id);
    if (page.records.size() < static_cast<std::size_t>(page_size)) break;
    const RecordPtr& last = page.records.back();
    const std::string ts = soql::FormatDateTimeLiteral(last->system_modstamp_ms);
    where = " WHERE SystemModstamp > " + ts + " OR (SystemModstamp = " + ts + " AND Id > '" +
            last->id + "')";
  }
  return seen;
}

TEST(OrgQueryTest, KeysetPagingVisitsEveryRecordOnceAcrossSharedTimestamps) {
  sfbridge::testing::FakeClock clock;
  auto org = MakeOrg(clock, {{"Account", 50}, {"Contact", 3000}}, 7, 700);
  // 700 records share each generated timestamp, so pages of 256 end inside a burst; churn adds
  // bursts of 300 changes at one timestamp.
  for (int step = 0; step < 3; ++step) {
    org->ChurnStep(100 + step, 400, 300);
    clock.Advance(std::chrono::seconds(1));
  }
  const std::vector<std::string> seen = PageThrough(*org, 256);
  const std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a record was returned twice";
  std::set<std::string> expected;
  for (const auto& [id, stamp] : org->Digest("Contact", false)) expected.insert(id);
  EXPECT_EQ(unique, expected);

  std::map<int64_t, int> per_stamp;
  for (const auto& [id, stamp] : org->Digest("Contact", false)) ++per_stamp[stamp];
  int largest = 0;
  for (const auto& [stamp, n] : per_stamp) largest = std::max(largest, n);
  EXPECT_GE(largest, 256) << "no timestamp is shared across a page boundary";
}

TEST(OrgQueryTest, QueriesWhileChurningOnOtherThreads) {
  sfbridge::testing::FakeClock clock;
  auto org = MakeOrg(clock, {{"Account", 200},
                             {"Contact", 2000},
                             {"Opportunity", 500},
                             {"Invoice__c", 300},
                             {"Shipment__c", 300}});
  std::atomic<bool> stop{false};
  std::atomic<int> changes{0}, queries{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int step = 0; step < 40; ++step) {
        changes += org->ChurnStep(1000 * t + step, 100, 25);
        clock.Advance(std::chrono::milliseconds(3));
      }
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      while (!stop) {
        Result<QueryResult> all = org->Query("SELECT Id, IsDeleted FROM Contact", true);
        if (!std::holds_alternative<QueryResult>(all)) {
          ++failures;
          continue;
        }
        std::set<std::string> ids;
        for (const RecordPtr& record : std::get<QueryResult>(all).records) {
          if (!ids.insert(record->id).second) ++failures;
          if (record->values[0].Text() != record->id) ++failures;  // Id is field 0
        }
        ++queries;
      }
    });
  }
  threads[0].join();
  threads[1].join();
  stop = true;
  threads[2].join();
  threads[3].join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(queries.load(), 0);
  EXPECT_GT(changes.load(), 7000);
  for (const char* object : {"Account", "Contact", "Opportunity", "Invoice__c", "Shipment__c"}) {
    const std::string soql = std::string("SELECT COUNT() FROM ") + object;
    EXPECT_EQ(MustQuery(*org, soql).total_size, org->Count(object, false)) << object;
    EXPECT_EQ(MustQuery(*org, soql, true).total_size, org->Count(object, true)) << object;
    EXPECT_EQ(static_cast<int64_t>(org->Digest(object, true).size()), org->Count(object, true));
  }
}

}  // namespace
}  // namespace sfbridge::sfsim::org::testing
