// Writes of many sessions at the org's default budget (one call every 3 s, burst 5): with the
// default coalescing window they share Composite requests and all succeed. Real PostgreSQL (one
// connection per client), an in-process sfsim and the writer's gRPC service.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/proxy/writes/write_path_fixture.h"

namespace sfbridge::proxy::testing {
namespace {

class CoalescingTest : public ::testing::Test, public WritePathFixture {
 protected:
  void SetUp() override { Start({"User", "Invoice__c"}); }
  void TearDown() override { Stop(); }
};

TEST_F(CoalescingTest, TenClientsFiveUpdatesEachAllSucceedAtTheDefaultBudget) {
  constexpr int kClients = 10;
  constexpr int kUpdatesPerClient = 5;
  // One invoice per client, made while the budget is generous.
  std::string sql = "INSERT INTO invoice__c (notes__c) SELECT 'n' || g FROM generate_series(1, ";
  core::StrAppend(&sql, kClients, ") g RETURNING id");
  Result made = Exec(sql);
  ASSERT_FALSE(made.outcome.error.has_value()) << made.outcome.error->message;
  ASSERT_EQ(made.returning.size(), static_cast<size_t>(kClients));

  // The defaults of sfbridge.orgs: one call every 3 s, a burst of 5, a full bucket.
  control::OrgSettings defaults;
  ASSERT_EQ(
      Scalar("UPDATE sfbridge.orgs SET rate_per_second = $2::float8, burst = $3::int "
             "WHERE org_id = $1 RETURNING 1",
             {org_id_, std::to_string(defaults.rate_per_second), std::to_string(defaults.burst)}),
      "1");
  ASSERT_EQ(Scalar("UPDATE sfbridge.rate_buckets SET tokens = $2::float8 WHERE org_id = $1 "
                   "RETURNING 1",
                   {org_id_, std::to_string(defaults.burst)}),
            "1");
  WritePathOptions o = Options();
  const WritePathOptions built_in;
  o.budget_wait = built_in.budget_wait;
  o.coalesce_window = built_in.coalesce_window;
  auto wp = MakeSalesforceWritePath(o, metrics_);
  ASSERT_TRUE(wp.ok());
  // The catalog loads on first use; statements planned while another thread loads it pass
  // through (catalog.h), so load it first.
  ASSERT_EQ((*wp)->Plan("UPDATE invoice__c SET notes__c = 'x'").kind,
            StatementPlan::Kind::kMutation);

  const int64_t calls_before = sim_->limits().used();
  std::vector<std::vector<double>> latencies(kClients);
  std::vector<std::string> errors(kClients);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      PqQuerier session(db_.url());
      session.Scalar("SET search_path = salesforce, public");
      const std::string id = made.returning[c][0].value_or("");
      for (int i = 0; i < kUpdatesPerClient; ++i) {
        StatementPlan plan = (*wp)->Plan(core::StrCat("UPDATE invoice__c SET notes__c = 'c", c, "-",
                                                      i, "' WHERE id = '", id, "'"));
        if (plan.kind != StatementPlan::Kind::kMutation) {
          errors[c] = "not a mutation";
          return;
        }
        const auto start = std::chrono::steady_clock::now();
        MutationOutcome out = (*wp)->Execute(*plan.mutation, {}, TxStatus::kIdle, session);
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
        if (out.error) {
          errors[c] = core::StrCat(out.error->sqlstate, " ", out.error->message);
        } else if (out.command_tag == "UPDATE 1") {
          ++ok;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(errors[c], "") << "client " << c;
  EXPECT_EQ(ok.load(), kClients * kUpdatesPerClient);

  // Every client's last value is in sfsim and in the table.
  for (int c = 0; c < kClients; ++c) {
    const std::string id = made.returning[c][0].value_or("");
    EXPECT_EQ(Scalar("SELECT notes__c FROM salesforce.invoice__c WHERE id = $1", {id}),
              core::StrCat("c", c, "-", kUpdatesPerClient - 1));
  }
  const int64_t calls = sim_->limits().used() - calls_before;
  const double per_write = static_cast<double>(calls) / (kClients * kUpdatesPerClient);
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[std::min(all.size() - 1, size_t(p * all.size()))]; };
  std::printf(
      "[ figures  ] %d clients x %d single-row UPDATEs at the default budget: %lld API calls, "
      "%.2f per write, %d succeeded; latency p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
      kClients, kUpdatesPerClient, static_cast<long long>(calls), per_write, ok.load(), pct(0.5),
      pct(0.99), all.back());
  EXPECT_LE(per_write, 0.3);
}

}  // namespace
}  // namespace sfbridge::proxy::testing
