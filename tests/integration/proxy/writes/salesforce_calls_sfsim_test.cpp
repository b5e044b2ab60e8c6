// The calls layer's upserts against a real sfsim: INSERT ... ON CONFLICT (external id) as the
// statement analysis hands it over (AnalyzedWrite::upsert), sent through the same client,
// budget gate and Composite requests as the write path's.

#include <gtest/gtest.h>

#include "common/core/clock.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/composite_batcher.h"
#include "proxy/writes/salesforce_calls.h"
#include "tests/integration/proxy/writes/write_path_fixture.h"

namespace sfbridge::proxy::testing {
namespace {

using salesforce::FieldValue;
using writes::AnalyzedWrite;
using writes::ChunkOutcome;
using writes::Operation;

class UpsertCallsTest : public ::testing::Test, public WritePathFixture {
 protected:
  void SetUp() override {
    Start({"User", "Invoice__c"});
    catalog_ = std::make_unique<writes::Catalog>(db_.url(), org_id_, core::SystemClock::Instance(),
                                                 std::chrono::milliseconds(1'000));
    const writes::SyncedTable* t = catalog_->Get()->Find("salesforce", "invoice__c");
    ASSERT_NE(t, nullptr);
    table_ = *t;
    client_ = std::make_unique<salesforce::Client>(
        salesforce::ClientOptions{.credentials = Credentials()}, *transport_,
        core::SystemClock::Instance());
    batcher_ = std::make_unique<writes::CompositeBatcher>(*client_, core::SystemClock::Instance(),
                                                          std::chrono::microseconds(0));
    calls_ = std::make_unique<writes::SalesforceCalls>(*batcher_, core::SystemClock::Instance(),
                                                       org_id_);
  }
  void TearDown() override { Stop(); }

  static AnalyzedWrite Upsert(bool do_nothing) {
    AnalyzedWrite w;
    w.operation = Operation::kInsert;
    w.relation = "invoice__c";
    w.columns = {"external_id__c", "notes__c"};
    w.upsert = AnalyzedWrite::Upsert{.column = "external_id__c", .do_nothing = do_nothing};
    return w;
  }
  static salesforce::Fields Keyed(const std::string& key, const std::string& notes) {
    return {{"External_Id__c", FieldValue::String(key)}, {"Notes__c", FieldValue::String(notes)}};
  }
  ChunkOutcome Send(const AnalyzedWrite& w, const std::vector<salesforce::Fields>& records) {
    std::chrono::nanoseconds sf{0};
    return calls_->SendChunk(w, table_, records, &sf);
  }
  std::string Notes(const std::string& id) {
    const sfsim::org::ObjectDef* object = sim_->org().ObjectOfId(id);
    sfsim::org::RecordPtr record = sim_->org().Get(id);
    if (object == nullptr || record == nullptr) return "<gone>";
    for (size_t i = 0; i < object->fields.size(); ++i) {
      if (object->fields[i].name == "Notes__c") return record->values[i].ToString();
    }
    return "<no field>";
  }

  std::unique_ptr<writes::Catalog> catalog_;
  writes::SyncedTable table_;
  std::unique_ptr<salesforce::Client> client_;
  std::unique_ptr<writes::CompositeBatcher> batcher_;
  std::unique_ptr<writes::SalesforceCalls> calls_;
};

TEST_F(UpsertCallsTest, DoUpdateRunTwiceIsOneRecordInOneCallEach) {
  const int64_t before = sim_->org().Count("Invoice__c", false);
  int64_t calls = sim_->limits().used();
  ChunkOutcome first = Send(Upsert(false), {Keyed("UPS-1", "first")});
  ASSERT_TRUE(first.failure.ok()) << first.failure;
  EXPECT_EQ(sim_->limits().used() - calls, 1);
  ASSERT_EQ(first.accepted.size(), 1u);
  EXPECT_EQ(first.created, std::vector<bool>{true});
  ASSERT_TRUE(first.changes.ok()) << first.changes.status();
  ASSERT_EQ(first.changes->size(), 1u);
  EXPECT_EQ((*first.changes)[0].system_modstamp_ms(),
            sim_->org().Get(first.accepted[0])->system_modstamp_ms);

  calls = sim_->limits().used();
  ChunkOutcome again = Send(Upsert(false), {Keyed("UPS-1", "second"), Keyed("UPS-2", "new")});
  ASSERT_TRUE(again.failure.ok()) << again.failure;
  EXPECT_EQ(sim_->limits().used() - calls, 1);
  ASSERT_EQ(again.accepted.size(), 2u);
  EXPECT_EQ(again.accepted[0], first.accepted[0]);
  EXPECT_EQ(again.created, (std::vector<bool>{false, true}));
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), before + 2);
  EXPECT_EQ(Notes(first.accepted[0]), "second");
  ASSERT_TRUE(again.changes.ok());
  EXPECT_EQ(again.changes->size(), 2u);
}

TEST_F(UpsertCallsTest, DoNothingCreatesOnlyWhatIsNotThere) {
  ChunkOutcome made = Send(Upsert(false), {Keyed("DN-1", "kept")});
  ASSERT_TRUE(made.failure.ok()) << made.failure;
  const int64_t before = sim_->org().Count("Invoice__c", false);
  int64_t calls = sim_->limits().used();
  ChunkOutcome out = Send(Upsert(true), {Keyed("dn-1", "ignored"), Keyed("DN-2", "created")});
  ASSERT_TRUE(out.failure.ok()) << out.failure;
  EXPECT_EQ(sim_->limits().used() - calls, 2);  // the query, then the create with its read-back
  EXPECT_EQ(out.skipped, std::vector<size_t>{0});
  ASSERT_EQ(out.accepted.size(), 1u);
  EXPECT_EQ(Notes(out.accepted[0]), "created");
  EXPECT_EQ(Notes(made.accepted[0]), "kept");
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), before + 1);

  calls = sim_->limits().used();
  out = Send(Upsert(true), {Keyed("DN-1", "x"), Keyed("DN-2", "y")});
  ASSERT_TRUE(out.failure.ok()) << out.failure;
  EXPECT_EQ(out.skipped, (std::vector<size_t>{0, 1}));
  EXPECT_TRUE(out.accepted.empty());
  EXPECT_EQ(sim_->limits().used() - calls, 1);
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), before + 1);
}

TEST_F(UpsertCallsTest, ARefusedUpsertChangesNothing) {
  ChunkOutcome made = Send(Upsert(false), {Keyed("REF-1", "kept")});
  ASSERT_TRUE(made.failure.ok()) << made.failure;
  const auto digest = sim_->org().Digest("Invoice__c", true);
  salesforce::Fields bad = Keyed("REF-2", "x");
  bad.emplace_back("Status__c", FieldValue::String("Bogus"));
  ChunkOutcome out = Send(Upsert(false), {Keyed("REF-1", "changed?"), bad});
  ASSERT_FALSE(out.failure.ok());
  EXPECT_TRUE(out.accepted.empty());
  EXPECT_EQ(sim_->org().Digest("Invoice__c", true), digest);
  EXPECT_EQ(Notes(made.accepted[0]), "kept");
}

}  // namespace
}  // namespace sfbridge::proxy::testing
