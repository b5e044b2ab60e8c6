#pragma once

// Test doubles for the fetcher's interfaces: an org that answers the fetcher's own keyset SOQL
// (parsed back from the text it sends), a Kafka sink, a control-plane store and a budget.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/core/clock.h"
#include "common/mapping/datetime.h"
#include "common/salesforce/json_records.h"
#include "fetcher/object_sync.h"
#include "fetcher/scheduler.h"

namespace sfbridge::fetcher::testing {

struct FakeRow {
  std::string id;
  int64_t modstamp_ms = 0;
  bool deleted = false;
  salesforce::Fields values;  // other fields; a selected field missing here comes back null
};

// The time the FakeClock starts at (UTC ms), and one before any backfill.
inline constexpr int64_t kFakeStartMs = 1'700'000'000'000;
inline constexpr int64_t kFakeOldMs = 1'699'990'000'000;

inline std::string ContactId(int i) {
  char id[32];
  std::snprintf(id, sizeof id, "003D%011dAAA", i);
  return id;
}

// Contact's plan in the tests: Id, IsDeleted, Name, Amount__c (currency), SystemModstamp.
inline mapping::FieldPlan ContactPlan() {
  mapping::FieldPlan plan;
  plan.object_name = "Contact";
  plan.schema_fingerprint = "fp1";
  plan.fields = {{"Id", "id", mapping::ValueKind::kText},
                 {"IsDeleted", "boolean", mapping::ValueKind::kBoolean},
                 {"Name", "string", mapping::ValueKind::kText},
                 {"Amount__c", "currency", mapping::ValueKind::kNumber},
                 {"SystemModstamp", "datetime", mapping::ValueKind::kDateTime}};
  plan.Reindex();
  return plan;
}

// `n` contacts in `rows`; four at a time share one SystemModstamp (from kFakeOldMs on), so page
// boundaries cut through them.
inline void AddContacts(std::vector<FakeRow>& rows, int n) {
  for (int i = 0; i < n; ++i) {
    rows.push_back(
        FakeRow{ContactId(i),
                kFakeOldMs + (i / 4) * 1000,
                false,
                {{"Name", salesforce::FieldValue::String("Contact " + std::to_string(i))},
                 {"Amount__c", salesforce::FieldValue::Number(std::to_string(i) + ".50")}}});
  }
}

// Answers BuildKeysetQuery's text over rows held per object, with queryAll's semantics (deleted
// rows included), pages of min(batch_size, max_batch) and nextRecordsUrl for the rest.
class FakeReader : public SalesforceReader {
 public:
  std::map<std::string, std::vector<FakeRow>> objects;
  std::vector<std::string> calls;  // every SOQL, QueryMore URL or "COUNT <object>", in order
  // The next calls fail with these, in order (front first); an OK entry lets a call through.
  std::deque<absl::Status> failures;
  // Calls on these objects fail with the status, every time.
  std::map<std::string, absl::Status> failing_objects;
  int max_batch = 0;  // > 0: pages no larger than this (Salesforce cutting a page short)
  // Runs before every call answers (to change the org between calls); gets the call's index.
  std::function<void(size_t)> before_call;

  FakeRow* Find(const std::string& object, const std::string& id) {
    for (auto& r : objects[object]) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }

  absl::StatusOr<salesforce::QueryPage> QueryAll(std::string_view soql_view, int batch_size,
                                                 ReadPhase /*phase*/) override {
    std::string soql(soql_view);
    calls.push_back(soql);
    if (auto s = Prelude(ObjectOf(soql)); !s.ok()) return s;
    std::smatch m;
    if (!std::regex_search(soql, m, std::regex("^SELECT (.*) FROM (\\w+)"))) {
      return absl::InvalidArgumentError("MALFORMED_QUERY: " + soql);
    }
    std::vector<std::string> fields;
    {
      std::string list = m[1];
      size_t start = 0;
      while (true) {
        size_t comma = list.find(", ", start);
        fields.push_back(list.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 2;
      }
    }
    const std::string object = m[2];
    std::optional<int64_t> at_most;
    if (std::regex_search(soql, m, std::regex("SystemModstamp <= (\\S+Z)"))) {
      at_most = *mapping::ParseDateTimeMillis(m[1].str());
    }
    std::optional<control::Cursor> after, through;
    if (std::regex_search(soql, m,
                          std::regex("\\(SystemModstamp > (\\S+) OR \\(SystemModstamp = \\S+ "
                                     "AND Id > '([^']*)'\\)\\)"))) {
      after = control::Cursor{*mapping::ParseDateTimeMillis(m[1].str()), m[2]};
    }
    if (std::regex_search(soql, m,
                          std::regex("\\(SystemModstamp < (\\S+) OR \\(SystemModstamp = \\S+ "
                                     "AND Id <= '([^']*)'\\)\\)"))) {
      through = control::Cursor{*mapping::ParseDateTimeMillis(m[1].str()), m[2]};
    }
    size_t limit = SIZE_MAX;
    if (std::regex_search(soql, m, std::regex("LIMIT (\\d+)$"))) limit = std::stoul(m[1]);

    std::vector<FakeRow> rows = objects[object];
    std::sort(rows.begin(), rows.end(), [](const FakeRow& a, const FakeRow& b) {
      return std::tie(a.modstamp_ms, a.id) < std::tie(b.modstamp_ms, b.id);
    });
    std::vector<salesforce::Record> out;
    for (const auto& row : rows) {
      const control::Cursor key{row.modstamp_ms, row.id};
      if (at_most && row.modstamp_ms > *at_most) continue;
      if (after && !(*after < key)) continue;
      if (through && *through < key) continue;
      if (out.size() == limit) break;
      out.push_back(ToRecord(object, row, fields));
    }
    size_t batch = batch_size > 0 ? batch_size : 2000;
    if (max_batch > 0) batch = std::min<size_t>(batch, max_batch);
    return Paginate(std::move(out), batch);
  }

  absl::StatusOr<salesforce::QueryPage> QueryMore(std::string_view url,
                                                  ReadPhase /*phase*/) override {
    calls.push_back(std::string(url));
    auto it = more_.find(std::string(url));
    if (it == more_.end()) return absl::NotFoundError("INVALID_QUERY_LOCATOR");
    if (auto s = Prelude(it->second.object); !s.ok()) return s;
    auto rest = std::move(it->second);
    more_.erase(it);
    return Paginate(std::move(rest.records), rest.batch);
  }

  absl::StatusOr<int64_t> Count(std::string_view object) override {
    calls.push_back("COUNT " + std::string(object));
    if (auto s = Prelude(std::string(object)); !s.ok()) return s;
    return static_cast<int64_t>(objects[std::string(object)].size());
  }

  size_t api_calls() const { return calls.size(); }

 private:
  struct Rest {
    std::string object;
    std::vector<salesforce::Record> records;
    size_t batch;
  };

  static std::string ObjectOf(const std::string& soql) {
    std::smatch m;
    if (std::regex_search(soql, m, std::regex(" FROM (\\w+)"))) return m[1];
    return "";
  }

  absl::Status Prelude(const std::string& object) {
    if (before_call) before_call(calls.size() - 1);
    if (auto it = failing_objects.find(object); it != failing_objects.end()) return it->second;
    if (!failures.empty()) {
      absl::Status s = failures.front();
      failures.pop_front();
      return s;
    }
    return absl::OkStatus();
  }

  static salesforce::Record ToRecord(const std::string& object, const FakeRow& row,
                                     const std::vector<std::string>& fields) {
    salesforce::Record record;
    record.type = object;
    record.id = row.id;
    for (const auto& f : fields) {
      if (f == "Id") {
        record.fields.emplace_back(f, salesforce::FieldValue::String(row.id));
      } else if (f == "SystemModstamp") {
        record.fields.emplace_back(
            f, salesforce::FieldValue::String(mapping::FormatApiDateTime(row.modstamp_ms)));
      } else if (f == "IsDeleted") {
        record.fields.emplace_back(f, salesforce::FieldValue::Bool(row.deleted));
      } else {
        salesforce::FieldValue value;
        for (const auto& [name, v] : row.values) {
          if (name == f) value = v;
        }
        record.fields.emplace_back(f, value);
      }
    }
    return record;
  }

  salesforce::QueryPage Paginate(std::vector<salesforce::Record> records, size_t batch) {
    salesforce::QueryPage page;
    page.total_size = static_cast<int64_t>(records.size());
    if (records.size() <= batch) {
      page.records = std::move(records);
      return page;
    }
    page.done = false;
    page.next_records_url = "/services/data/v59.0/query/01gFAKE-" + std::to_string(++locators_);
    page.records.assign(std::make_move_iterator(records.begin()),
                        std::make_move_iterator(records.begin() + batch));
    Rest rest{
        page.records.front().type,
        {std::make_move_iterator(records.begin() + batch), std::make_move_iterator(records.end())},
        batch};
    more_.emplace(page.next_records_url, std::move(rest));
    return page;
  }

  int locators_ = 0;
  std::map<std::string, Rest> more_;
};

// Kafka: keeps every acknowledged change. A page is acknowledged as it is sent, unless `hold`
// keeps it in flight: then it is acknowledged when waited for, or when the test resolves it.
class FakeSink : public RecordSink {
 public:
  std::vector<v1::RecordChange> acknowledged;
  int publish_calls = 0;
  // The next pages sent fail; each first acknowledges `partial` of its changes.
  int fail_next = 0;
  size_t partial = 0;
  bool hold = false;

  Ticket Send(std::string_view, const mapping::EncodedChanges& changes) override {
    ++publish_calls;
    const Ticket ticket = next_ticket_++;
    Page& page = pages_[ticket];
    for (size_t i = 0; i < changes.size(); ++i) {
      v1::RecordChange& change = page.changes.emplace_back();
      EXPECT_TRUE(change.ParseFromString(std::string(changes.value(i))));
      EXPECT_EQ(changes.key(i), change.record_id());
    }
    if (fail_next > 0) {
      --fail_next;
      Resolve(ticket, absl::UnavailableError("Local: Message timed out"), partial);
    } else if (!hold) {
      Resolve(ticket, absl::OkStatus());
    }
    return ticket;
  }
  std::optional<absl::Status> Outcome(Ticket ticket, bool wait) override {
    auto it = pages_.find(ticket);
    if (it == pages_.end()) return absl::NotFoundError("no such page in flight");
    if (!it->second.outcome) {
      if (!wait) return std::nullopt;
      Resolve(ticket, absl::OkStatus());
    }
    absl::Status outcome = *it->second.outcome;
    pages_.erase(it);
    return outcome;
  }
  void Forget(Ticket ticket) override { pages_.erase(ticket); }

  // Pages sent and not yet resolved, oldest first.
  std::vector<Ticket> InFlight() const {
    std::vector<Ticket> tickets;
    for (const auto& [ticket, page] : pages_) {
      if (!page.outcome) tickets.push_back(ticket);
    }
    return tickets;
  }
  // What Kafka did with a page in flight: acknowledged all of it (OK), or failed after
  // acknowledging its first `acknowledged_first` changes.
  void Resolve(Ticket ticket, absl::Status outcome, size_t acknowledged_first = 0) {
    Page& page = pages_.at(ticket);
    const size_t n =
        outcome.ok() ? page.changes.size() : std::min(acknowledged_first, page.changes.size());
    acknowledged.insert(acknowledged.end(), page.changes.begin(), page.changes.begin() + n);
    page.outcome = std::move(outcome);
  }

  // How many times each record id was acknowledged.
  std::map<std::string, int> Counts() const {
    std::map<std::string, int> counts;
    for (const auto& c : acknowledged) ++counts[c.record_id()];
    return counts;
  }

 private:
  struct Page {
    std::vector<v1::RecordChange> changes;
    std::optional<absl::Status> outcome;
  };
  Ticket next_ticket_ = 1;
  std::map<Ticket, Page> pages_;
};

// sfbridge.objects and sfbridge.events, with org_settings.h's rules.
class FakeStateStore : public StateStore {
 public:
  struct EventRow {
    std::string object, kind, detail;
  };

  explicit FakeStateStore(core::Clock& clock) : clock_(clock) {}

  std::map<std::string, control::ObjectStatus> rows;
  std::vector<EventRow> events;
  int fail_next = 0;  // the next writes fail
  int writes = 0;
  // Called with every backfill cursor and polling cursor stored.
  std::function<void(std::string_view object, const control::Cursor&)> on_cursor;

  absl::StatusOr<std::optional<control::ObjectStatus>> Load(std::string_view object) override {
    auto it = rows.find(std::string(object));
    if (it == rows.end()) return std::optional<control::ObjectStatus>();
    return std::optional<control::ObjectStatus>(it->second);
  }
  absl::StatusOr<int64_t> BeginBackfill(std::string_view object) override {
    if (auto s = Write(); !s.ok()) return s;
    auto& row = Row(object);
    row.state = control::ObjectState::kBackfilling;
    row.error.reset();
    row.backfill_started_at_ms = Now();
    row.backfill_completed_at_ms.reset();
    return *row.backfill_started_at_ms;
  }
  absl::Status SaveBackfillProgress(std::string_view object, int64_t records_done,
                                    std::optional<int64_t> estimate,
                                    std::optional<control::Cursor> resume_after) override {
    if (auto s = Write(); !s.ok()) return s;
    auto& row = Row(object);
    row.records_done = records_done;
    row.records_estimate = estimate;
    row.backfill_cursor = resume_after;
    if (on_cursor && resume_after) on_cursor(object, *resume_after);
    return absl::OkStatus();
  }
  absl::Status AdvanceCursor(std::string_view object, const control::Cursor& to) override {
    if (auto s = Write(); !s.ok()) return s;
    auto& row = Row(object);
    if (!row.cursor || *row.cursor < to) row.cursor = to;
    row.last_poll_at_ms = Now();
    if (on_cursor) on_cursor(object, to);
    return absl::OkStatus();
  }
  absl::Status MarkPolled(std::string_view object) override {
    if (auto s = Write(); !s.ok()) return s;
    Row(object).last_poll_at_ms = Now();
    return absl::OkStatus();
  }
  absl::Status SetState(std::string_view object, control::ObjectState state,
                        std::optional<std::string_view> error) override {
    if (auto s = Write(); !s.ok()) return s;
    auto& row = Row(object);
    if (state == control::ObjectState::kLive && row.state == control::ObjectState::kBackfilling) {
      row.backfill_completed_at_ms = Now();
    }
    row.state = state;
    row.error = error ? std::optional<std::string>(std::string(*error)) : std::nullopt;
    return absl::OkStatus();
  }
  absl::Status RecordEvent(std::string_view object, std::string_view kind,
                           std::string_view detail) override {
    events.push_back({std::string(object), std::string(kind), std::string(detail)});
    return absl::OkStatus();
  }

 private:
  absl::Status Write() {
    ++writes;
    if (fail_next > 0) {
      --fail_next;
      return absl::UnavailableError("connection to the control plane lost");
    }
    return absl::OkStatus();
  }
  control::ObjectStatus& Row(std::string_view object) {
    auto& row = rows[std::string(object)];
    row.object_name = std::string(object);
    return row;
  }
  int64_t Now() const { return core::ToUnixMillis(clock_.Now()); }

  core::Clock& clock_;
};

// Grants while it has tokens; counts grants and refusals.
class FakeBudget : public Budget {
 public:
  int64_t tokens = 1'000'000;
  int granted = 0;
  int refused = 0;
  std::function<void()> on_grant;

  absl::StatusOr<control::Grant> TryTake() override {
    control::Grant grant;
    if (tokens <= 0) {
      ++refused;
      grant.wait = std::chrono::milliseconds(3000);
      grant.reason = "bucket empty";
      return grant;
    }
    --tokens;
    ++granted;
    grant.granted = true;
    if (on_grant) on_grant();
    return grant;
  }
};

}  // namespace sfbridge::fetcher::testing
