// Leases against a real PostgreSQL with simulated time: the fair split between replicas, the
// hand-over when one dies or leaves, and no object ever owned twice.

#include "common/control/leases.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "tests/fakes/fake_clock.h"
#include "tests/integration/control/control_test_db.h"

namespace sfbridge::control {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr milliseconds kTtl{30'000};

std::vector<std::string> Objects(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("Object" + std::to_string(10 + i) + "__c");
  return out;
}

class LeasesTest : public ControlTest {
 protected:
  LeaseManager& Add(const std::string& holder) {
    managers_.push_back(std::make_unique<LeaseManager>(*conn_, clock_, kOrg, holder, kTtl));
    return *managers_.back();
  }
  std::vector<std::string> Acquire(LeaseManager& m) {
    auto held = m.Acquire(objects_);
    EXPECT_TRUE(held.ok()) << held.status();
    return held.ok() ? *held : std::vector<std::string>{};
  }
  // One round: every manager in `live` acquires once, at the same simulated instant. Checks
  // that no object is on two holders' lists; returns how many each holds.
  std::map<std::string, size_t> Round(const std::vector<LeaseManager*>& live) {
    std::map<std::string, std::string> owner;
    std::map<std::string, size_t> counts;
    for (LeaseManager* m : live) {
      for (const std::string& o : Acquire(*m)) {
        auto [it, inserted] = owner.emplace(o, m->holder());
        EXPECT_TRUE(inserted) << o << " held by " << it->second << " and " << m->holder();
      }
      counts[m->holder()] = 0;
    }
    for (auto& [o, h] : owner) ++counts[h];
    covered_ = owner.size();
    return counts;
  }

  testing::FakeClock clock_;
  std::vector<std::string> objects_ = Objects(10);
  std::vector<std::unique_ptr<LeaseManager>> managers_;
  size_t covered_ = 0;  // objects held by someone after the last Round
};

TEST_F(LeasesTest, AloneAReplicaTakesEverythingAndSharesWithANewcomer) {
  LeaseManager& a = Add("a");
  EXPECT_EQ(Acquire(a), objects_);
  LeaseManager& b = Add("b");
  EXPECT_THAT(Acquire(b), IsEmpty()) << "a's leases are valid; b waits for a to give up";
  auto counts = Round({&a, &b});
  EXPECT_EQ(counts["a"], 5u) << "a gave up what is above its fair share";
  EXPECT_EQ(counts["b"], 5u);
  EXPECT_EQ(covered_, 10u);
  EXPECT_EQ(Round({&a, &b}), counts) << "a fair split is stable";
}

TEST_F(LeasesTest, ThreeReplicasSplitFairlyAndADeadOnesObjectsMoveWithinTheTtl) {
  LeaseManager& a = Add("a");
  LeaseManager& b = Add("b");
  LeaseManager& c = Add("c");
  std::map<std::string, size_t> counts;
  for (int i = 0; i < 3; ++i) counts = Round({&a, &b, &c});
  EXPECT_EQ(covered_, 10u);
  std::multiset<size_t> sizes;
  for (auto& [h, n] : counts) sizes.insert(n);
  EXPECT_THAT(sizes, UnorderedElementsAre(2u, 4u, 4u)) << "fair share ceil(10 / 3) = 4";

  // c dies: it stops heartbeating. a and b go on every ttl / 4.
  const size_t c_held = counts["c"];
  ASSERT_GT(c_held, 0u);
  auto died_at = clock_.Monotonic();
  while (covered_ < 10 || counts["a"] != 5) {
    clock_.Advance(kTtl / 4);
    counts = Round({&a, &b});
    ASSERT_LE(clock_.Monotonic() - died_at, kTtl + kTtl / 4) << "not taken over within ttl";
  }
  EXPECT_EQ(counts["a"], 5u);
  EXPECT_EQ(counts["b"], 5u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM sfbridge.leases WHERE holder = 'c'"), "0");
}

TEST_F(LeasesTest, BeforeItsTtlADeadReplicasObjectsStayItsOwn) {
  LeaseManager& a = Add("a");
  LeaseManager& b = Add("b");
  for (int i = 0; i < 2; ++i) Round({&a, &b});
  ASSERT_EQ(covered_, 10u);
  clock_.Advance(kTtl - milliseconds(1));
  auto counts = Round({&a});
  EXPECT_EQ(counts["a"], 5u) << "b's leases are still valid for 1 ms";
  clock_.Advance(milliseconds(1));
  counts = Round({&a});
  EXPECT_EQ(counts["a"], 10u);
}

TEST_F(LeasesTest, ReleaseHandsOverAtOnce) {
  LeaseManager& a = Add("a");
  LeaseManager& b = Add("b");
  for (int i = 0; i < 2; ++i) Round({&a, &b});
  ASSERT_TRUE(a.Release().ok());
  EXPECT_EQ(Acquire(b), objects_) << "no waiting for a's ttl";
  EXPECT_EQ(Scalar("SELECT count(*) FROM sfbridge.replicas"), "1");
}

TEST_F(LeasesTest, HeartbeatKeepsLeasesAlive) {
  LeaseManager& a = Add("a");
  LeaseManager& b = Add("b");
  ASSERT_EQ(Acquire(a).size(), 10u);
  for (int i = 0; i < 8; ++i) {
    clock_.Advance(kTtl / 2);
    ASSERT_TRUE(a.Heartbeat().ok());
  }
  // a is live with 10 leases: b takes nothing until a gives up the excess.
  EXPECT_THAT(Acquire(b), IsEmpty());
  EXPECT_EQ(Acquire(a).size(), 5u);
  EXPECT_EQ(Acquire(b).size(), 5u);
}

TEST_F(LeasesTest, ObjectsNoLongerReplicatedAreGivenUp) {
  LeaseManager& a = Add("a");
  ASSERT_EQ(Acquire(a).size(), 10u);
  objects_ = {"Account", "Object10__c"};
  EXPECT_THAT(Acquire(a), ElementsAre("Account", "Object10__c"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM sfbridge.leases"), "2");
}

TEST_F(LeasesTest, UnknownOrgIsNotFound) {
  LeaseManager m(*conn_, clock_, "nobody", "a", kTtl);
  EXPECT_EQ(m.Heartbeat().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m.Acquire({"Account"}).status().code(), absl::StatusCode::kNotFound);
}

// Replicas on their own connections acquire at the same time while time moves on and leases
// expire: no statement fails (no deadlock), and afterwards the split is fair and complete.
TEST_F(LeasesTest, ConcurrentReplicasNeverFailAndEndFair) {
  constexpr int kReplicas = 3;
  objects_ = Objects(20);
  std::atomic<int> errors{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&, i] {
      auto conn = Connect();
      LeaseManager m(*conn, clock_, kOrg, "r" + std::to_string(i), kTtl);
      for (int round = 0; round < 60; ++round) {
        auto held = m.Acquire(objects_);
        if (!held.ok()) {
          ++errors;
          ADD_FAILURE() << held.status();
        }
      }
    });
  }
  std::thread ticker([&] {
    while (!done) {
      clock_.Advance(kTtl / 7);
      std::this_thread::sleep_for(milliseconds(2));
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  ticker.join();
  EXPECT_EQ(errors.load(), 0);

  LeaseManager& r0 = Add("r0");
  LeaseManager& r1 = Add("r1");
  LeaseManager& r2 = Add("r2");
  std::map<std::string, size_t> counts;
  for (int i = 0; i < 3; ++i) counts = Round({&r0, &r1, &r2});
  EXPECT_EQ(covered_, 20u);
  for (auto& [h, n] : counts) EXPECT_LE(n, 7u) << h;
}

}  // namespace
}  // namespace sfbridge::control
