// Events: the row, and the NOTIFY a listener on another connection receives when (and only
// when) the recording transaction commits.

#include "common/control/events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/core/strings.h"
#include "tests/integration/control/control_test_db.h"

namespace sfbridge::control {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class EventsTest : public ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    listener_ = Connect();
    ASSERT_TRUE(listener_);
    absl::Status s = listener_->Listen(std::string(kEventsChannel));
    ASSERT_TRUE(s.ok()) << s;
  }
  std::vector<postgres::Notification> Heard(milliseconds timeout = milliseconds(2000)) {
    auto n = listener_->WaitForNotifications(timeout);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : std::vector<postgres::Notification>{};
  }
  std::string AsJsonb(const std::string& json) { return Scalar("SELECT $1::jsonb::text", {json}); }

  std::unique_ptr<postgres::Connection> listener_;
};

TEST_F(EventsTest, RecordedEventsAreStoredAndAnnounced) {
  ASSERT_TRUE(RecordEvent(*conn_, kOrg, "Contact", kEventBackfillComplete,
                          R"({"records": 1200, "seconds": 4.5})")
                  .ok());
  ASSERT_TRUE(RecordEvent(*conn_, kOrg, std::nullopt, kEventOrgBackfillComplete, "").ok());

  auto heard = Heard();
  if (heard.size() < 2) {
    auto more = Heard();
    heard.insert(heard.end(), more.begin(), more.end());
  }
  ASSERT_THAT(heard, SizeIs(2));
  EXPECT_EQ(heard[0].channel, "sfbridge_events");
  auto events = LoadEvents(*conn_, kOrg);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(*events, SizeIs(2));
  EXPECT_EQ((*events)[0].object_name, "Contact");
  EXPECT_EQ((*events)[0].kind, "backfill_complete");
  EXPECT_EQ((*events)[1].object_name, std::nullopt);
  EXPECT_EQ((*events)[1].detail_json, "{}");
  EXPECT_GT((*events)[1].id, (*events)[0].id);

  EXPECT_EQ(AsJsonb(heard[0].payload),
            AsJsonb(core::StrCat(R"({"id": )", (*events)[0].id,
                                 R"(, "org_id": "00D000000000001AAA", "object_name": "Contact",)"
                                 R"( "kind": "backfill_complete",)"
                                 R"( "detail": {"records": 1200, "seconds": 4.5}})")));
  EXPECT_THAT(heard[1].payload, HasSubstr(R"("object_name": null)"));

  auto later = LoadEvents(*conn_, kOrg, (*events)[0].id);
  ASSERT_TRUE(later.ok());
  EXPECT_THAT(*later, SizeIs(1));
}

TEST_F(EventsTest, AnEventInARolledBackTransactionNeverHappened) {
  absl::Status s = conn_->InTransaction([](postgres::Transaction& tx) -> absl::Status {
    if (absl::Status r = RecordEvent(tx, kOrg, "Lead", kEventObjectError, R"({"error": "x"})");
        !r.ok()) {
      return r;
    }
    return absl::AbortedError("the state change failed");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(Heard(milliseconds(300)), IsEmpty());
  EXPECT_THAT(*LoadEvents(*conn_, kOrg), IsEmpty());

  // Inside a committed transaction: announced only at the commit.
  s = conn_->InTransaction([&](postgres::Transaction& tx) -> absl::Status {
    if (absl::Status r = RecordEvent(tx, kOrg, "Lead", kEventObjectError, R"({"error": "y"})");
        !r.ok()) {
      return r;
    }
    auto early = listener_->WaitForNotifications(milliseconds(200));
    EXPECT_TRUE(early.ok() && early->empty()) << "announced before the commit";
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(Heard(), SizeIs(1));
}

TEST_F(EventsTest, DetailMustBeAJsonObject) {
  EXPECT_EQ(RecordEvent(*conn_, kOrg, std::nullopt, "x", "{not json").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RecordEvent(*conn_, kOrg, std::nullopt, "x", "[1, 2]").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(*LoadEvents(*conn_, kOrg), IsEmpty());
}

TEST_F(EventsTest, ALargeDetailStaysInTheRowAndIsLeftOutOfTheNotification) {
  std::string big(20000, 'x');
  ASSERT_TRUE(
      RecordEvent(*conn_, kOrg, "Case", kEventObjectError, R"({"error": ")" + big + R"("})").ok());
  auto heard = Heard();
  ASSERT_THAT(heard, SizeIs(1));
  EXPECT_THAT(heard[0].payload, HasSubstr(R"("truncated": true)"));
  EXPECT_LT(heard[0].payload.size(), 8000u);
  auto events = LoadEvents(*conn_, kOrg);
  ASSERT_THAT(*events, SizeIs(1));
  EXPECT_THAT((*events)[0].detail_json, HasSubstr(big));
}

TEST_F(EventsTest, AnEventOnceIsRecordedOnceWhateverTheNumberOfCallers) {
  std::vector<std::thread> callers;
  std::atomic<int> recorded{0};
  for (int i = 0; i < 4; ++i) {
    callers.emplace_back([&] {
      auto conn = Connect();
      for (int j = 0; j < 5; ++j) {
        auto event = RecordEventOnce(*conn, kOrg, std::nullopt, kEventOrgBackfillComplete,
                                     "{\"objects\":2}");
        ASSERT_TRUE(event.ok()) << event.status();
        if (event->has_value()) ++recorded;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(recorded.load(), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM sfbridge.events WHERE kind = 'org_backfill_complete'"),
            "1");
  // Per object, once each.
  auto a = RecordEventOnce(*conn_, kOrg, "Contact", kEventBackfillComplete, "");
  auto b = RecordEventOnce(*conn_, kOrg, "Contact", kEventBackfillComplete, "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->has_value());
  EXPECT_FALSE(b->has_value());
  EXPECT_EQ((*a)->object_name, "Contact");
  EXPECT_THAT(EventJson(**a), HasSubstr("\"kind\":\"backfill_complete\",\"created_at_ms\":"));
}

TEST_F(EventsTest, InsertEventReturnsTheStoredEvent) {
  auto e =
      InsertEvent(*conn_, kOrg, std::nullopt, kEventOrgError, R"({"error":"a \"quoted\" one"})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_GT(e->id, 0);
  EXPECT_EQ(e->object_name, std::nullopt);
  EXPECT_GT(e->created_at_ms, 0);
  EXPECT_EQ(EventJson(*e),
            core::StrCat("{\"id\":", e->id, ",\"org_id\":\"", kOrg,
                         "\",\"object_name\":null,\"kind\":\"org_error\",\"created_at_ms\":",
                         e->created_at_ms, ",\"detail\":", e->detail_json, "}"));
  EXPECT_FALSE(InsertEvent(*conn_, kOrg, std::nullopt, "x", "[1]").ok());
}

}  // namespace
}  // namespace sfbridge::control
