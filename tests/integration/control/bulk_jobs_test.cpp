// Each object's Bulk API job row against a real PostgreSQL.

#include "common/control/bulk_jobs.h"

#include <gtest/gtest.h>

#include "tests/integration/control/control_test_db.h"

namespace sfbridge::control {
namespace {

class BulkJobsTest : public ControlTest {};

TEST_F(BulkJobsTest, RowRoundTripsAndIsReplaced) {
  auto none = LoadBulkJob(*conn_, kOrg, "Contact");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  BulkJobRow row;
  row.object_name = "Contact";
  row.job_id = "750R0000000zlh9IAA";
  row.job_state = "InProgress";
  row.records_processed = 120'000;
  ASSERT_TRUE(SaveBulkJob(*conn_, kOrg, row).ok());
  auto first = LoadBulkJob(*conn_, kOrg, "Contact");
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->job_id, row.job_id);
  EXPECT_EQ((*first)->locator, "");
  EXPECT_FALSE((*first)->max_key);
  EXPECT_FALSE((*first)->fallback_reason);
  EXPECT_TRUE((*first)->updated_at_ms);

  row.locator = "MTAwMDA";
  row.records_done = 10'000;
  row.max_key = Cursor{1'700'000'000'123, "003000000000001AAA"};
  row.job_created_ms = 1'700'000'000'000;
  row.fallback_reason = "Bulk job 750... Failed: it's \"broken\"";
  row.deleted = true;
  ASSERT_TRUE(SaveBulkJob(*conn_, kOrg, row).ok());
  auto all = LoadBulkJobs(*conn_, kOrg);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 1u);
  const BulkJobRow& back = (*all)[0];
  EXPECT_EQ(back.locator, "MTAwMDA");
  EXPECT_EQ(back.records_done, 10'000);
  EXPECT_EQ(back.records_processed, 120'000);
  EXPECT_EQ(back.max_key, row.max_key);
  EXPECT_EQ(back.job_created_ms, row.job_created_ms);
  EXPECT_EQ(back.fallback_reason, row.fallback_reason);
  EXPECT_TRUE(back.deleted);
}

}  // namespace
}  // namespace sfbridge::control
