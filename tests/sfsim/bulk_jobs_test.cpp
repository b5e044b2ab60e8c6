// Bulk API 2.0 query jobs without HTTP: life on simulated time, results paging, snapshots,
// refusals, the daily allocation, abort/delete and injected failures.

#include "sfsim/bulk_jobs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "sfsim/soql/datetime.h"
#include "tests/fakes/fake_clock.h"
#include "tests/sfsim/org/org_test_util.h"

namespace sfbridge::sfsim {
namespace {

using org::testing::Str;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kContacts = 3000;

class BulkJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = org::testing::MakeOrg(clock_, {{"User", 3}, {"Account", 20}, {"Contact", kContacts}});
    ASSERT_NE(org_, nullptr);
    BulkSettings settings;
    settings.records_per_second = 1000;
    settings.pickup_ms = 200;
    settings.daily_max = 50;
    jobs_ = std::make_unique<BulkQueryJobs>(*org_, clock_, settings);
  }

  JobInfo MustCreate(std::string soql, std::string operation = "query",
                     std::string delimiter = "COMMA", std::string line_ending = "LF") {
    CreateJobRequest request;
    request.operation = std::move(operation);
    request.query = std::move(soql);
    request.column_delimiter = std::move(delimiter);
    request.line_ending = std::move(line_ending);
    org::Result<JobInfo> job = jobs_->Create(request, "59.0");
    if (auto* e = std::get_if<org::ApiError>(&job)) {
      ADD_FAILURE() << request.query << ": " << e->code << " " << e->message;
      return {};
    }
    return std::get<JobInfo>(job);
  }

  org::ApiError MustRefuse(std::string soql, std::string operation = "query") {
    CreateJobRequest request;
    request.operation = std::move(operation);
    request.query = std::move(soql);
    org::Result<JobInfo> job = jobs_->Create(request, "59.0");
    if (!std::holds_alternative<org::ApiError>(job)) {
      ADD_FAILURE() << request.query << " was accepted";
      return {};
    }
    return std::get<org::ApiError>(job);
  }

  JobInfo MustGet(const std::string& id) {
    org::Result<JobInfo> job = jobs_->Get(id);
    if (auto* e = std::get_if<org::ApiError>(&job)) {
      ADD_FAILURE() << id << ": " << e->code << " " << e->message;
      return {};
    }
    return std::get<JobInfo>(job);
  }

  ResultPage MustPage(const std::string& id, std::string_view locator = "",
                      std::optional<int64_t> max_records = std::nullopt) {
    org::Result<ResultPage> page = jobs_->Results(id, "59.0", locator, max_records);
    if (auto* e = std::get_if<org::ApiError>(&page)) {
      ADD_FAILURE() << id << ": " << e->code << " " << e->message;
      return {};
    }
    return std::get<ResultPage>(std::move(page));
  }

  org::ApiError ResultsError(const std::string& id, std::string_view version = "59.0") {
    org::Result<ResultPage> page = jobs_->Results(id, version, "", std::nullopt);
    if (!std::holds_alternative<org::ApiError>(page)) {
      ADD_FAILURE() << "results of " << id << " were served";
      return {};
    }
    return std::get<org::ApiError>(page);
  }

  void Advance(int64_t ms) { clock_.Advance(std::chrono::milliseconds(ms)); }

  // Every page from the first, `max_records` at a time; the ids of the first column.
  std::vector<std::string> AllIds(const std::string& id, std::optional<int64_t> max_records,
                                  int* pages = nullptr) {
    std::vector<std::string> ids;
    std::string locator;
    int n = 0;
    do {
      ResultPage page = MustPage(id, locator, max_records);
      std::istringstream lines(page.csv);
      std::string line;
      std::getline(lines, line);
      EXPECT_THAT(line, StartsWith("Id")) << "every page starts with the header row";
      int64_t rows = 0;
      while (std::getline(lines, line)) {
        ids.push_back(line.substr(0, line.find(',')));
        ++rows;
      }
      EXPECT_EQ(rows, page.records);
      locator = page.next_locator;
      if (++n > 100'000) break;
    } while (locator != "null");
    if (pages) *pages = n;
    return ids;
  }

  testing::FakeClock clock_;
  std::unique_ptr<org::Org> org_;
  std::unique_ptr<BulkQueryJobs> jobs_;
};

TEST_F(BulkJobsTest, JobMovesThroughItsStatesOnSimulatedTime) {
  const JobInfo created = MustCreate("SELECT Id, LastName FROM Contact");
  EXPECT_THAT(created.id, StartsWith("750"));
  EXPECT_EQ(created.id.size(), 18u);
  EXPECT_EQ(created.state, JobState::kUploadComplete);
  EXPECT_EQ(created.object, "Contact");
  EXPECT_EQ(created.operation, "query");
  EXPECT_EQ(created.api_version, "59.0");
  EXPECT_EQ(created.created_by_id, "005000000000001AAA");
  EXPECT_EQ(created.created_ms, core::ToUnixMillis(clock_.Now()));

  Advance(199);
  EXPECT_EQ(MustGet(created.id).state, JobState::kUploadComplete);
  Advance(1);
  JobInfo job = MustGet(created.id);
  EXPECT_EQ(job.state, JobState::kInProgress);
  EXPECT_EQ(job.records_processed, 0);
  EXPECT_EQ(job.system_modstamp_ms, created.created_ms + 200);
  Advance(1000);
  job = MustGet(created.id);
  EXPECT_EQ(job.state, JobState::kInProgress);
  EXPECT_EQ(job.records_processed, 1000);
  Advance(1999);  // 1 ms before 3,000 records at 1,000 a second
  EXPECT_EQ(MustGet(created.id).state, JobState::kInProgress);
  EXPECT_EQ(MustGet(created.id).records_processed, 2999);
  Advance(1);
  job = MustGet(created.id);
  EXPECT_EQ(job.state, JobState::kJobComplete);
  EXPECT_EQ(job.records_processed, kContacts);
  EXPECT_EQ(job.total_processing_ms, 3000);
  EXPECT_EQ(job.system_modstamp_ms, created.created_ms + 3200);
  EXPECT_TRUE(job.error_message.empty());
}

TEST_F(BulkJobsTest, TheRateDecidesHowLongAJobTakes) {
  jobs_->set_records_per_second(100);
  const JobInfo job = MustCreate("SELECT Id FROM Contact LIMIT 500");
  Advance(200 + 4999);
  EXPECT_EQ(MustGet(job.id).state, JobState::kInProgress);
  Advance(1);
  EXPECT_EQ(MustGet(job.id).state, JobState::kJobComplete);
  EXPECT_EQ(MustGet(job.id).records_processed, 500);
}

TEST_F(BulkJobsTest, ResultsOnlyOnceComplete) {
  const JobInfo job = MustCreate("SELECT Id FROM Contact");
  org::ApiError e = ResultsError(job.id);
  EXPECT_EQ(e.http_status, 412);
  EXPECT_EQ(e.code, "JOB_NOT_COMPLETE");
  EXPECT_THAT(e.message, HasSubstr("Current status: UPLOAD_COMPLETE"));
  Advance(300);
  EXPECT_THAT(ResultsError(job.id).message, HasSubstr("Current status: IN_PROGRESS"));
  Advance(10'000);
  EXPECT_EQ(MustPage(job.id).records, kContacts);
}

TEST_F(BulkJobsTest, ResultsOfAnAbortedOrFailedJobAreRefused) {
  const JobInfo aborted = MustCreate("SELECT Id FROM Contact");
  ASSERT_TRUE(std::holds_alternative<JobInfo>(jobs_->Abort(aborted.id)));
  const JobInfo failed = MustCreate("SELECT Id FROM Contact");
  ASSERT_TRUE(std::holds_alternative<JobInfo>(jobs_->Fail(failed.id, "boom")));
  Advance(60'000);
  EXPECT_THAT(ResultsError(aborted.id).message, HasSubstr("Current status: ABORTED"));
  EXPECT_THAT(ResultsError(failed.id).message, HasSubstr("Current status: FAILED"));
  EXPECT_EQ(ResultsError("750000000000000AAA").http_status, 404);
}

TEST_F(BulkJobsTest, ResultsThroughAnotherApiVersionAreRefused) {
  const JobInfo job = MustCreate("SELECT Id FROM Contact");
  Advance(60'000);
  org::ApiError e = ResultsError(job.id, "60.0");
  EXPECT_EQ(e.http_status, 409);
  EXPECT_EQ(e.code, "INVALIDJOB");
  EXPECT_THAT(e.message, HasSubstr("59.0"));
}

TEST_F(BulkJobsTest, PagesByMaxRecordsAndLocator) {
  const JobInfo job = MustCreate("SELECT Id, LastName FROM Contact ORDER BY Id");
  Advance(60'000);
  int pages = 0;
  std::vector<std::string> ids = AllIds(job.id, 1000, &pages);
  EXPECT_EQ(pages, 3);
  std::vector<std::string> expected;
  for (const auto& [id, stamp] : org_->Digest("Contact", false)) expected.push_back(id);
  EXPECT_EQ(ids, expected);  // every record once, in ORDER BY order

  ResultPage first = MustPage(job.id, "", 1000);
  EXPECT_EQ(first.next_locator, EncodeLocator(1000));
  ResultPage second = MustPage(job.id, first.next_locator, 1000);
  EXPECT_EQ(second.next_locator, EncodeLocator(2000));
  // A page can be fetched again, with another size.
  EXPECT_EQ(MustPage(job.id, first.next_locator, 1000).csv, second.csv);
  ResultPage tail = MustPage(job.id, first.next_locator, 5000);
  EXPECT_EQ(tail.records, 2000);
  EXPECT_EQ(tail.next_locator, "null");
  // Without maxRecords: everything in one page here.
  EXPECT_EQ(MustPage(job.id).records, kContacts);
}

TEST_F(BulkJobsTest, BadLocatorsAreRefused) {
  const JobInfo job = MustCreate("SELECT Id FROM Contact");
  Advance(60'000);
  for (std::string locator :
       {std::string("garbage!"), std::string("null"), EncodeLocator(kContacts + 1)}) {
    org::Result<ResultPage> page = jobs_->Results(job.id, "59.0", locator, std::nullopt);
    ASSERT_TRUE(std::holds_alternative<org::ApiError>(page)) << locator;
    EXPECT_EQ(std::get<org::ApiError>(page).code, "INVALID_LOCATOR");
    EXPECT_EQ(std::get<org::ApiError>(page).http_status, 400);
  }
  // The locator just past the end is an empty last page.
  ResultPage end = MustPage(job.id, EncodeLocator(kContacts));
  EXPECT_EQ(end.records, 0);
  EXPECT_EQ(end.next_locator, "null");
}

TEST_F(BulkJobsTest, APageStopsAtItsByteBudget) {
  BulkSettings small;
  small.max_page_bytes = 10'000;
  small.pickup_ms = 0;
  jobs_ = std::make_unique<BulkQueryJobs>(*org_, clock_, small);
  const JobInfo job = MustCreate("SELECT Id, LastName FROM Contact");
  Advance(1000);
  ResultPage page = MustPage(job.id);
  EXPECT_GT(page.records, 100);
  EXPECT_LT(page.records, kContacts);
  EXPECT_LT(page.csv.size(), 10'000u + 200);
  int pages = 0;
  EXPECT_EQ(AllIds(job.id, std::nullopt, &pages).size(), static_cast<size_t>(kContacts));
  EXPECT_GT(pages, 1);
}

TEST_F(BulkJobsTest, ValuesAndQuotingInResults) {
  org::SaveResult made = org_->Create("Contact", {{"LastName", Str("O'Brien, \"Jr\"")},
                                                  {"Description", Str("two\nlines")},
                                                  {"DoNotCall", org::testing::Bool(true)},
                                                  {"Birthdate", Str("1980-02-29")}});
  ASSERT_TRUE(made.success);
  const JobInfo job = MustCreate(
      "SELECT Id, LastName, Description, DoNotCall, Birthdate, Title, CreatedDate "
      "FROM Contact WHERE Id = '" +
          made.id + "'",
      "query", "PIPE", "CRLF");
  Advance(1000);
  const org::RecordPtr record = org_->Get(made.id);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(MustPage(job.id).csv,
            "Id|LastName|Description|DoNotCall|Birthdate|Title|CreatedDate\r\n" + made.id +
                "|\"O'Brien, \"\"Jr\"\"\"|\"two\nlines\"|true|1980-02-29||" +
                soql::FormatDateTimeLiteral(record->system_modstamp_ms) + "\r\n");
}

TEST_F(BulkJobsTest, TheSnapshotIsTakenAtCompletion) {
  const JobInfo job = MustCreate("SELECT Id, LastName FROM Contact WHERE LastName = 'Zed'");
  org::SaveResult before = org_->Create("Contact", {{"LastName", Str("Zed")}});
  ASSERT_TRUE(before.success);
  Advance(1000);  // complete: the record made while the job ran is in it
  ASSERT_EQ(MustGet(job.id).state, JobState::kJobComplete);
  EXPECT_EQ(MustGet(job.id).records_processed, 1);
  // Changes after completion do not reach the results.
  ASSERT_TRUE(org_->Update("Contact", before.id, {{"LastName", Str("Changed")}}).success);
  ASSERT_TRUE(org_->Create("Contact", {{"LastName", Str("Zed")}}).success);
  EXPECT_EQ(MustPage(job.id).csv, "Id,LastName\n" + before.id + ",Zed\n");
}

TEST_F(BulkJobsTest, QueryAllIncludesDeletedRecords) {
  const std::string victim = org_->Digest("Contact", false).begin()->first;
  ASSERT_TRUE(org_->Delete(victim).success);
  const std::string soql = "SELECT Id, IsDeleted FROM Contact WHERE Id = '" + victim + "'";
  const JobInfo live = MustCreate(soql, "query");
  const JobInfo all = MustCreate(soql, "queryAll");
  EXPECT_EQ(all.operation, "queryAll");
  Advance(1000);
  EXPECT_EQ(MustPage(live.id).csv, "Id,IsDeleted\n");
  EXPECT_EQ(MustPage(all.id).csv, "Id,IsDeleted\n" + victim + ",true\n");
}

TEST_F(BulkJobsTest, QueriesBulkRefusesAndSpendNothing) {
  struct Case {
    std::string soql;
    std::string message;
  } cases[] = {
      {"SELECT Id, BillingAddress FROM Account", "Selecting compound data not supported"},
      {"SELECT FIELDS(STANDARD) FROM Contact", "FIELDS() not supported"},
      {"SELECT Id, (SELECT Id FROM Contacts) FROM Account", "Aggregate Relationships"},
      {"SELECT COUNT() FROM Contact", "Aggregate functions"},
      {"SELECT COUNT(Id) FROM Contact", "Aggregate functions"},
      {"SELECT MAX(CreatedDate) FROM Contact", "Aggregate functions"},
      {"SELECT LeadSource FROM Contact GROUP BY LeadSource", "GROUP BY not supported"},
      {"SELECT Id FROM Contact OFFSET 10", "OFFSET not supported"},
      {"SELECT TYPEOF What WHEN Account THEN Name END FROM Task", "TYPEOF not supported"},
  };
  const int64_t remaining = jobs_->DailyRemaining();
  for (const Case& c : cases) {
    org::ApiError e = MustRefuse(c.soql);
    EXPECT_EQ(e.http_status, 400) << c.soql;
    EXPECT_EQ(e.code, "API_ERROR") << c.soql;
    EXPECT_THAT(e.message, HasSubstr(c.message)) << c.soql;
  }
  // The engine's own errors, as the REST query gives them.
  EXPECT_EQ(MustRefuse("SELECT Nope FROM Contact").code, "INVALID_FIELD");
  EXPECT_EQ(MustRefuse("SELECT Id FROM Contact WHERE Nope = 1").code, "INVALID_FIELD");
  EXPECT_EQ(MustRefuse("SELECT Id FROM Contact ORDER BY Nope").code, "INVALID_FIELD");
  EXPECT_EQ(MustRefuse("SELECT Id FROM Nope").code, "INVALID_TYPE");
  EXPECT_EQ(MustRefuse("SELECT Id FORM Contact").code, "MALFORMED_QUERY");
  EXPECT_EQ(MustRefuse("SELECT Id FROM Contact", "insert").code, "INVALIDJOB");
  EXPECT_EQ(MustRefuse("", "query").code, "INVALIDJOB");
  EXPECT_EQ(jobs_->DailyRemaining(), remaining);
  EXPECT_TRUE(jobs_->List().empty());
  // Words inside a string literal are only text.
  MustCreate("SELECT Id FROM Contact WHERE LastName = 'GROUP BY (SELECT COUNT( TYPEOF'");
}

TEST_F(BulkJobsTest, RequestOptionsAreChecked) {
  CreateJobRequest request;
  request.operation = "query";
  request.query = "SELECT Id FROM Contact";
  for (auto [member, value, message] :
       {std::tuple{&CreateJobRequest::column_delimiter, "COLON", "Invalid column delimiter"},
        std::tuple{&CreateJobRequest::line_ending, "CR", "Invalid line ending"},
        std::tuple{&CreateJobRequest::content_type, "JSON", "Invalid content type"}}) {
    CreateJobRequest bad = request;
    bad.*member = value;
    org::Result<JobInfo> job = jobs_->Create(bad, "59.0");
    ASSERT_TRUE(std::holds_alternative<org::ApiError>(job)) << value;
    EXPECT_EQ(std::get<org::ApiError>(job).code, "INVALIDJOB");
    EXPECT_THAT(std::get<org::ApiError>(job).message, HasSubstr(message));
  }
}

TEST_F(BulkJobsTest, TheDailyAllocationIsSpentByCreatedJobsAndComesBack) {
  jobs_->SetDaily(2, std::nullopt);
  EXPECT_EQ(jobs_->DailyMax(), 2);
  EXPECT_EQ(jobs_->DailyRemaining(), 2);
  MustCreate("SELECT Id FROM Contact");
  Advance(60'000);
  MustCreate("SELECT Id FROM Account");
  EXPECT_EQ(jobs_->DailyRemaining(), 0);
  org::ApiError e = MustRefuse("SELECT Id FROM Contact");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "LIMIT_EXCEEDED");
  EXPECT_EQ(e.message, "Max bulk v2 query jobs (2) per 24 hrs has been reached");
  // A rolling 24 hours: the first job's slot comes back a day after it was made.
  Advance(86'400'000 - 60'000);
  EXPECT_EQ(jobs_->DailyRemaining(), 1);
  jobs_->SetDaily(std::nullopt, 2);
  EXPECT_EQ(jobs_->DailyRemaining(), 0);
}

TEST_F(BulkJobsTest, AbortAndDelete) {
  const JobInfo job = MustCreate("SELECT Id FROM Contact");
  Advance(500);
  org::Result<JobInfo> aborted = jobs_->Abort(job.id);
  ASSERT_TRUE(std::holds_alternative<JobInfo>(aborted));
  EXPECT_EQ(std::get<JobInfo>(aborted).state, JobState::kAborted);
  Advance(60'000);
  EXPECT_EQ(MustGet(job.id).state, JobState::kAborted);  // stays aborted
  EXPECT_EQ(MustGet(job.id).records_processed, 300);     // what it had done
  org::Result<JobInfo> again = jobs_->Abort(job.id);
  ASSERT_TRUE(std::holds_alternative<org::ApiError>(again));
  EXPECT_EQ(std::get<org::ApiError>(again).code, "INVALIDJOB");
  EXPECT_TRUE(std::holds_alternative<bool>(jobs_->Delete(job.id)));
  EXPECT_EQ(std::get<org::ApiError>(jobs_->Get(job.id)).http_status, 404);
  EXPECT_EQ(std::get<org::ApiError>(jobs_->Delete(job.id)).http_status, 404);
  EXPECT_EQ(std::get<org::ApiError>(jobs_->Abort(job.id)).http_status, 404);

  const JobInfo running = MustCreate("SELECT Id FROM Contact");
  Advance(500);
  org::Result<bool> refused = jobs_->Delete(running.id);
  ASSERT_TRUE(std::holds_alternative<org::ApiError>(refused));
  EXPECT_EQ(std::get<org::ApiError>(refused).code, "INVALIDJOB");
  Advance(60'000);
  org::Result<JobInfo> late = jobs_->Abort(running.id);
  ASSERT_TRUE(std::holds_alternative<org::ApiError>(late));
  EXPECT_THAT(std::get<org::ApiError>(late).message, HasSubstr("JobComplete"));
  EXPECT_TRUE(std::holds_alternative<bool>(jobs_->Delete(running.id)));
  EXPECT_TRUE(jobs_->List().empty());
}

TEST_F(BulkJobsTest, InjectedFailures) {
  BulkFaults faults;
  faults.fail_next = 1;
  faults.error_message = "Retried more than 15 times";
  jobs_->set_faults(faults);
  const JobInfo first = MustCreate("SELECT Id FROM Account");
  const JobInfo second = MustCreate("SELECT Id FROM Account");
  Advance(1000);
  JobInfo failed = MustGet(first.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.error_message, "Retried more than 15 times");
  EXPECT_EQ(MustGet(second.id).state, JobState::kJobComplete);
  EXPECT_TRUE(MustGet(second.id).error_message.empty());

  faults.fail_next = 0;
  faults.failing_objects = {"contact"};
  jobs_->set_faults(faults);
  const JobInfo contacts = MustCreate("SELECT Id FROM Contact");
  const JobInfo accounts = MustCreate("SELECT Id FROM Account");
  Advance(60'000);
  EXPECT_EQ(MustGet(contacts.id).state, JobState::kFailed);
  EXPECT_EQ(MustGet(accounts.id).state, JobState::kJobComplete);

  jobs_->set_faults({});
  const JobInfo now = MustCreate("SELECT Id FROM Contact");
  org::Result<JobInfo> failed_now = jobs_->Fail(now.id, "stopped");
  ASSERT_TRUE(std::holds_alternative<JobInfo>(failed_now));
  EXPECT_EQ(MustGet(now.id).state, JobState::kFailed);
  EXPECT_EQ(MustGet(now.id).error_message, "stopped");
  EXPECT_EQ(std::get<org::ApiError>(jobs_->Fail(accounts.id, "x")).code, "INVALIDJOB");
  EXPECT_EQ(std::get<org::ApiError>(jobs_->Fail("750000000000000AAA", "x")).http_status, 404);
}

TEST_F(BulkJobsTest, JobsAreListedOldestFirstAndDroppedAWeekAfterTheyEnd) {
  const JobInfo a = MustCreate("SELECT Id FROM Account");
  Advance(10);
  const JobInfo b = MustCreate("SELECT Id FROM Contact");
  std::vector<JobInfo> listed = jobs_->List();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, a.id);
  EXPECT_EQ(listed[1].id, b.id);
  EXPECT_NE(a.id, b.id);
  Advance(7LL * 86'400'000);  // both ended seconds after they were made
  EXPECT_EQ(MustGet(b.id).state, JobState::kJobComplete);
  Advance(10'000);
  EXPECT_TRUE(jobs_->List().empty());
  EXPECT_EQ(std::get<org::ApiError>(jobs_->Get(a.id)).http_status, 404);
}

TEST(BulkLocatorTest, Base64OfTheOffsetWithoutPadding) {
  EXPECT_EQ(EncodeLocator(10000), "MTAwMDA");
  EXPECT_EQ(DecodeLocator("MTAwMDA"), 10000);
  EXPECT_EQ(DecodeLocator("MTAwMDA="), 10000);
  for (int64_t n : {1, 9, 10, 123, 50000, 999999, 1000000, 12345678}) {
    EXPECT_EQ(DecodeLocator(EncodeLocator(n)), n) << n;
  }
  EXPECT_EQ(DecodeLocator(""), std::nullopt);
  EXPECT_EQ(DecodeLocator("null"), std::nullopt);  // decodes to bytes that are not digits
  EXPECT_EQ(DecodeLocator("!!"), std::nullopt);
  EXPECT_EQ(DecodeLocator("YWJj"), std::nullopt);  // "abc"
}

}  // namespace
}  // namespace sfbridge::sfsim
