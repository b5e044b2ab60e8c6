// The Bulk API 2.0 query calls against sfsim: a job's life, results by locator and maxRecords
// (every record once, the values the REST API shows), and the refusals Salesforce gives.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "common/salesforce/bulk_query.h"
#include "tests/integration/salesforce/sfsim_fixture.h"

namespace sfbridge::salesforce::integration {
namespace {

using ::testing::HasSubstr;

class BulkTest : public SmallOrgTest {
 protected:
  // Polls until the job has left UploadComplete/InProgress (sfsim runs jobs in real time here).
  BulkJob AwaitJob(BulkQuery& bulk, const std::string& id) {
    for (int i = 0; i < 200; ++i) {
      absl::StatusOr<BulkJob> job = bulk.Get(id);
      EXPECT_TRUE(job.ok()) << job.status();
      if (!job.ok()) return {};
      if (job->state != BulkJobState::kUploadComplete && job->state != BulkJobState::kInProgress) {
        return *job;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job " << id << " never ended";
    return {};
  }
};

TEST_F(BulkTest, EveryContactOnceThroughPagesMatchingRest) {
  BulkQuery bulk(*client_);
  auto job = bulk.Create("SELECT Id, SystemModstamp, LastName, Email FROM Contact",
                         BulkOperation::kQueryAll);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state, BulkJobState::kUploadComplete);
  EXPECT_EQ(job->object, "Contact");
  BulkJob done = AwaitJob(bulk, job->id);
  ASSERT_EQ(done.state, BulkJobState::kJobComplete);

  std::map<std::string, Record> by_id;
  std::string locator;
  std::vector<std::string> columns;
  int pages = 0;
  do {
    auto page = bulk.Results(
        job->id, "Contact", locator, 1200, 500,
        [&](std::vector<Record>& batch) {
          EXPECT_LE(batch.size(), 500u);
          for (Record& r : batch) {
            EXPECT_TRUE(by_id.emplace(r.id, std::move(r)).second) << "twice: " << r.id;
          }
          return absl::OkStatus();
        },
        columns);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->records, 1200);
    locator = page->next_locator;
    columns = page->columns;
    ++pages;
  } while (!locator.empty());
  EXPECT_EQ(pages, 5);  // 5,000 contacts at 1,200 a page
  EXPECT_EQ(org_->Digest("Contact", true).size(), by_id.size());

  // The values are the REST API's (datetimes in the CSV's own form).
  auto rest = client_->Query("SELECT Id, LastName, Email FROM Contact ORDER BY Id LIMIT 50");
  ASSERT_TRUE(rest.ok());
  for (const Record& r : rest->records) {
    ASSERT_TRUE(by_id.count(r.id));
    const Record& b = by_id[r.id];
    for (const char* field : {"LastName", "Email"}) {
      const FieldValue* rv = r.Find(field);
      const FieldValue* bv = b.Find(field);
      ASSERT_TRUE(rv && bv);
      EXPECT_EQ(rv->kind == FieldValue::Kind::kNull, bv->kind == FieldValue::Kind::kNull);
      if (rv->kind == FieldValue::Kind::kString) EXPECT_EQ(rv->text, bv->text);
    }
  }
  EXPECT_TRUE(bulk.Delete(job->id).ok());
  EXPECT_EQ(bulk.Get(job->id).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BulkTest, ResultsBeforeCompletionAndAbort) {
  BulkQuery bulk(*client_);
  auto job = bulk.Create("SELECT Id FROM Contact", BulkOperation::kQuery);
  ASSERT_TRUE(job.ok()) << job.status();
  auto early = bulk.Results(job->id, "Contact", "", 0, 100,
                            [](std::vector<Record>&) { return absl::OkStatus(); });
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ExpectApiError(early.status()).error_code, "JOB_NOT_COMPLETE");
  auto aborted = bulk.Abort(job->id);
  ASSERT_TRUE(aborted.ok()) << aborted.status();
  EXPECT_EQ(aborted->state, BulkJobState::kAborted);
  EXPECT_TRUE(bulk.Delete(job->id).ok());
}

TEST_F(BulkTest, RefusalsAtCreation) {
  BulkQuery bulk(*client_);
  auto compound = bulk.Create("SELECT Id, BillingAddress FROM Account", BulkOperation::kQuery);
  EXPECT_EQ(ExpectApiError(compound.status()).error_code, "API_ERROR");
  auto count = bulk.Create("SELECT COUNT() FROM Account", BulkOperation::kQuery);
  EXPECT_EQ(ExpectApiError(count.status()).error_code, "API_ERROR");
  org_->Admin("POST", "bulk", R"({"dailyUsed":10000})");
  auto spent = bulk.Create("SELECT Id FROM Account", BulkOperation::kQuery);
  EXPECT_EQ(ExpectApiError(spent.status()).error_code, "LIMIT_EXCEEDED");
  org_->Admin("POST", "bulk", R"({"dailyUsed":0})");
}

TEST_F(BulkTest, FailedJobShowsItsErrorMessage) {
  BulkQuery bulk(*client_);
  org_->Admin("POST", "bulk", R"({"failNext":1})");
  auto job = bulk.Create("SELECT Id FROM Invoice__c", BulkOperation::kQuery);
  ASSERT_TRUE(job.ok()) << job.status();
  BulkJob failed = AwaitJob(bulk, job->id);
  EXPECT_EQ(failed.state, BulkJobState::kFailed);
  EXPECT_THAT(failed.error_message, HasSubstr("InternalServerError"));
  EXPECT_TRUE(bulk.Delete(job->id).ok());
}

}  // namespace
}  // namespace sfbridge::salesforce::integration
