// Org settings and object state against a real PostgreSQL.

#include "common/control/org_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/control/control_test_db.h"

namespace sfbridge::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class OrgSettingsTest : public ControlTest {
 protected:
  ObjectStatus Object(const std::string& name) {
    auto objects = LoadObjects(*conn_, kOrg);
    EXPECT_TRUE(objects.ok()) << objects.status();
    for (auto& o : *objects) {
      if (o.object_name == name) return o;
    }
    ADD_FAILURE() << "no object " << name;
    return {};
  }
};

TEST_F(OrgSettingsTest, SettingsRoundTripAndUpsertReplacesThem) {
  auto loaded = LoadOrg(*conn_, kOrg);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->display_name, "Test org");
  EXPECT_EQ(loaded->objects, std::nullopt) << "every object";
  EXPECT_NEAR(loaded->rate_per_second, 1.0 / 3, 1e-12);
  EXPECT_EQ(loaded->burst, 5);
  EXPECT_EQ(loaded->state, "ok");

  OrgSettings s = *loaded;
  s.api_version = "60.0";
  s.objects = std::vector<std::string>{"Account", "Odd \"name\", with\\stuff", "NULL", ""};
  s.rate_per_second = 2.5;
  s.burst = 40;
  s.daily_quota_share = 0.25;
  s.priority_reserve = 3;
  ASSERT_TRUE(UpsertOrg(*conn_, s).ok());
  auto back = LoadOrg(*conn_, kOrg);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->objects, s.objects);
  EXPECT_EQ(back->api_version, "60.0");
  EXPECT_EQ(back->rate_per_second, 2.5);
  EXPECT_EQ(back->burst, 40);
  EXPECT_EQ(back->daily_quota_share, 0.25);
  EXPECT_EQ(back->priority_reserve, 3);

  ASSERT_TRUE(SetOrgState(*conn_, kOrg, "auth_error", "invalid_grant").ok());
  s.display_name = "Renamed";
  ASSERT_TRUE(UpsertOrg(*conn_, s).ok());
  back = LoadOrg(*conn_, kOrg);
  EXPECT_EQ(back->display_name, "Renamed");
  EXPECT_EQ(back->state, "auth_error") << "UpsertOrg leaves the state alone";
  EXPECT_EQ(back->last_error, "invalid_grant");

  OrgSettings other;
  other.org_id = "another";
  other.objects = std::vector<std::string>{};
  ASSERT_TRUE(UpsertOrg(*conn_, other).ok());
  auto all = LoadOrgs(*conn_);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].org_id, "00D000000000001AAA");
  EXPECT_EQ((*all)[1].objects, std::vector<std::string>{});
}

TEST_F(OrgSettingsTest, BadSettingsAndUnknownOrgsAreRefused) {
  OrgSettings s;
  s.org_id = "x";
  s.burst = 0;
  absl::Status bad = UpsertOrg(*conn_, s);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("burst 0"));
  s.burst = 5;
  s.daily_quota_share = 1.5;
  EXPECT_EQ(UpsertOrg(*conn_, s).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadOrg(*conn_, "x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(SetOrgState(*conn_, "x", "ok").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(SetObjectState(*conn_, "x", "Account", ObjectState::kPending).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(OrgSettingsTest, ObjectStatesStampTheBackfill) {
  ASSERT_TRUE(SetObjectState(*conn_, kOrg, "Contact", ObjectState::kPending).ok());
  ASSERT_TRUE(SetObjectState(*conn_, kOrg, "Account", ObjectState::kBackfilling).ok());
  ObjectStatus a = Object("Account");
  EXPECT_EQ(a.state, ObjectState::kBackfilling);
  ASSERT_TRUE(a.backfill_started_at_ms);
  EXPECT_FALSE(a.backfill_completed_at_ms);

  ASSERT_TRUE(SetObjectState(*conn_, kOrg, "Account", ObjectState::kBackfilling).ok());
  EXPECT_EQ(Object("Account").backfill_started_at_ms, a.backfill_started_at_ms)
      << "still the same backfill";
  ASSERT_TRUE(SetObjectState(*conn_, kOrg, "Account", ObjectState::kLive).ok());
  a = Object("Account");
  EXPECT_EQ(a.state, ObjectState::kLive);
  ASSERT_TRUE(a.backfill_completed_at_ms);
  EXPECT_GE(*a.backfill_completed_at_ms, *a.backfill_started_at_ms);

  ASSERT_TRUE(
      SetObjectState(*conn_, kOrg, "Account", ObjectState::kError, "INVALID_FIELD: Foo").ok());
  EXPECT_EQ(Object("Account").error, "INVALID_FIELD: Foo");
  ASSERT_TRUE(SetObjectState(*conn_, kOrg, "Account", ObjectState::kLive).ok());
  a = Object("Account");
  EXPECT_EQ(a.error, std::nullopt) << "cleared with the error state";
  EXPECT_TRUE(a.backfill_completed_at_ms) << "live after error keeps the completed backfill";

  auto objects = LoadObjects(*conn_, kOrg);
  ASSERT_TRUE(objects.ok());
  ASSERT_EQ(objects->size(), 2u);
  EXPECT_EQ((*objects)[0].object_name, "Account");
  EXPECT_EQ((*objects)[1].state, ObjectState::kPending);
  for (auto s : {ObjectState::kPending, ObjectState::kBackfilling, ObjectState::kLive,
                 ObjectState::kError, ObjectState::kDisabled}) {
    EXPECT_EQ(ParseObjectState(ObjectStateName(s)), s);
  }
}

TEST_F(OrgSettingsTest, TheCursorOnlyMovesForward) {
  ASSERT_TRUE(SetObjectState(*conn_, kOrg, "Contact", ObjectState::kLive).ok());
  EXPECT_EQ(Object("Contact").cursor, std::nullopt);
  EXPECT_EQ(*AdvanceCursor(*conn_, kOrg, "Contact", {1000, "003b"}), true);
  EXPECT_EQ(*AdvanceCursor(*conn_, kOrg, "Contact", {1000, "003b"}), false) << "a replay";
  EXPECT_EQ(*AdvanceCursor(*conn_, kOrg, "Contact", {999, "003z"}), false);
  EXPECT_EQ(*AdvanceCursor(*conn_, kOrg, "Contact", {1000, "003B"}), false)
      << "Ids compare bytewise: 'B' < 'b'";
  EXPECT_EQ(*AdvanceCursor(*conn_, kOrg, "Contact", {1000, "003c"}), true);
  ObjectStatus c = Object("Contact");
  EXPECT_EQ(c.cursor, (Cursor{1000, "003c"}));
  EXPECT_TRUE(c.last_poll_at_ms);
  EXPECT_EQ(AdvanceCursor(*conn_, kOrg, "Nothing", {1, "x"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(OrgSettingsTest, ProgressFingerprintAndPollTime) {
  ASSERT_TRUE(SetObjectState(*conn_, kOrg, "Lead", ObjectState::kBackfilling).ok());
  ASSERT_TRUE(SetBackfillProgress(*conn_, kOrg, "Lead", 2000, 50000, Cursor{77, "00Q1"}).ok());
  ObjectStatus l = Object("Lead");
  EXPECT_EQ(l.records_done, 2000);
  EXPECT_EQ(l.records_estimate, 50000);
  EXPECT_EQ(l.backfill_cursor, (Cursor{77, "00Q1"}));
  ASSERT_TRUE(SetBackfillProgress(*conn_, kOrg, "Lead", 50000, 50000, std::nullopt).ok());
  EXPECT_EQ(Object("Lead").backfill_cursor, std::nullopt);

  EXPECT_FALSE(Object("Lead").last_poll_at_ms);
  ASSERT_TRUE(MarkPolled(*conn_, kOrg, "Lead").ok());
  EXPECT_TRUE(Object("Lead").last_poll_at_ms);
  ASSERT_TRUE(SetSchemaFingerprint(*conn_, kOrg, "Lead", "sha256:abc").ok());
  EXPECT_EQ(Object("Lead").schema_fingerprint, "sha256:abc");

  EXPECT_EQ(SetBackfillProgress(*conn_, kOrg, "Nope", 1, std::nullopt, std::nullopt).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(MarkPolled(*conn_, kOrg, "Nope").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(SetSchemaFingerprint(*conn_, kOrg, "Nope", "x").code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sfbridge::control
