#include "fetcher/object_sync.h"

#include <utility>

#include "common/control/events.h"
#include "common/core/json_writer.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/mapping/datetime.h"
#include "common/mapping/record_mapping.h"

namespace sfbridge::fetcher {
namespace {

using control::Cursor;
using control::ObjectState;

// The longest key a query can carry, for sizing select lists: 18-character ids never need
// escaping.
const Cursor kWidestKey{253'402'300'799'999, std::string(18, 'z')};

// The key of a record read through a select list that starts with Id and SystemModstamp.
std::optional<Cursor> KeyOf(const salesforce::Record& record) {
  const salesforce::FieldValue* stamp = record.Find("SystemModstamp");
  if (record.id.empty() || !stamp || stamp->kind != salesforce::FieldValue::Kind::kString) {
    return std::nullopt;
  }
  auto ms = mapping::ParseDateTimeMillis(stamp->text);
  if (!ms) return std::nullopt;
  return Cursor{*ms, record.id};
}

// Where an object that is not (or no longer) in error stands, from its stored row.
ObjectState ResumableState(const control::ObjectStatus& s) {
  if (s.backfill_completed_at_ms || s.cursor) return ObjectState::kLive;
  if (s.backfill_started_at_ms) return ObjectState::kBackfilling;
  return ObjectState::kPending;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ObjectSync>> ObjectSync::Create(
    std::string org_id, mapping::FieldPlan plan, SalesforceReader& reader, RecordSink& sink,
    StateStore& store, core::Clock& clock, ObjectSyncOptions options) {
  KeysetQuery shape;
  shape.object_name = plan.object_name;
  shape.after = kWidestKey;
  shape.through = kWidestKey;
  shape.modstamp_at_most_ms = kWidestKey.modstamp_ms;
  shape.limit = options.page_size;
  auto lists = SplitFieldList(shape, plan.FieldNames(), options.max_encoded_soql_chars);
  if (!lists.ok()) return lists.status();

  auto loaded = store.Load(plan.object_name);
  if (!loaded.ok()) {
    return core::Annotate(loaded.status(), core::StrCat("loading ", plan.object_name));
  }
  control::ObjectStatus status;
  status.object_name = plan.object_name;
  bool resume_unsaved = false;
  if (*loaded) {
    status = **loaded;
    switch (status.state) {
      case ObjectState::kBackfilling:
        if (!status.backfill_started_at_ms) status.state = ObjectState::kPending;
        break;
      case ObjectState::kLive:
      case ObjectState::kPending:
        break;
      case ObjectState::kError:
      case ObjectState::kDisabled:
        // A restart is a retry: the next Step stores the state it goes on in.
        status.state = ResumableState(status);
        status.error.reset();
        resume_unsaved = true;
        break;
    }
  }
  std::unique_ptr<ObjectSync> sync(new ObjectSync(std::move(org_id), std::move(plan),
                                                  *std::move(lists), std::move(status), reader,
                                                  sink, store, clock, options));
  sync->resume_unsaved_ = resume_unsaved;
  return sync;
}

ObjectSync::ObjectSync(std::string org_id, mapping::FieldPlan plan,
                       std::vector<std::vector<std::string>> lists, control::ObjectStatus status,
                       SalesforceReader& reader, RecordSink& sink, StateStore& store,
                       core::Clock& clock, ObjectSyncOptions options)
    : org_id_(std::move(org_id)),
      plan_(std::move(plan)),
      field_lists_(std::move(lists)),
      reader_(reader),
      sink_(sink),
      store_(store),
      clock_(clock),
      options_(options),
      status_(std::move(status)) {}

ObjectSync::~ObjectSync() { DropInFlight(); }

absl::StatusOr<StepResult> ObjectSync::Step() {
  if (unsaved_) {
    // The page is in Kafka already: store how far it got before reading anything more.
    const Progress page = *unsaved_;
    absl::StatusOr<StepResult> r = Record(page, /*api_calls=*/0);
    if (r.ok()) unsaved_.reset();
    return r;
  }
  if (status_.state == ObjectState::kError) {
    StepResult result = Result(0, 0, false);
    result.error = error_;
    return result;
  }
  if (status_.state == ObjectState::kDisabled) return Result(0, 0, false);
  if (resume_unsaved_) {
    if (absl::Status s = PersistResume(); !s.ok()) return s;
  }
  if (status_.state == ObjectState::kPending) return StartBackfill();
  return ReadStep();
}

bool ObjectSync::Retry() {
  if (status_.state != ObjectState::kError) return false;
  status_.state = resume_state_;
  status_.error.reset();
  error_ = absl::OkStatus();
  resume_unsaved_ = true;
  return true;
}

absl::Status ObjectSync::PersistResume() {
  if (status_.state == ObjectState::kBackfilling) {
    // Entering backfilling stamps a new start. Moving the backfill's upper bound later is safe:
    // whatever changed in between is stamped after the stored cursor, so the rest of the
    // backfill reads it, and polling starts from the new bound.
    auto started = store_.BeginBackfill(plan_.object_name);
    if (!started.ok()) return started.status();
    status_.backfill_started_at_ms = *started;
    backfill_end_at_.reset();  // the bound moved: count again
  } else if (absl::Status s = store_.SetState(plan_.object_name, status_.state, std::nullopt);
             !s.ok()) {
    return s;
  }
  resume_unsaved_ = false;
  return absl::OkStatus();
}

absl::StatusOr<StepResult> ObjectSync::StartBackfill() {
  auto started = store_.BeginBackfill(plan_.object_name);
  if (!started.ok()) return started.status();
  status_.state = ObjectState::kBackfilling;
  status_.backfill_started_at_ms = *started;
  status_.backfill_completed_at_ms.reset();
  status_.backfill_cursor.reset();
  status_.records_done = 0;
  backfill_end_at_.reset();
  if (!options_.estimate_count) return ReadStep();

  auto count = reader_.Count(plan_.object_name);
  if (!count.ok()) return Fail(core::Annotate(count.status(), "COUNT() estimate"));
  if (absl::Status s = store_.SaveBackfillProgress(plan_.object_name, 0, *count, std::nullopt);
      !s.ok()) {
    return s;
  }
  status_.records_estimate = *count;
  return Result(1, 0, true);
}

KeysetQuery ObjectSync::PageQuery(size_t list) const {
  KeysetQuery query;
  query.object_name = plan_.object_name;
  query.fields = field_lists_[list];
  query.after = ReadCursor();
  if (backfilling()) query.modstamp_at_most_ms = status_.backfill_started_at_ms;
  return query;
}

std::optional<Cursor> ObjectSync::ReadCursor() const {
  for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it) {
    if (it->progress.end) return it->progress.end;
  }
  if (unsaved_ && unsaved_->end) return unsaved_->end;
  return backfilling() ? status_.backfill_cursor : status_.cursor;
}

int64_t ObjectSync::ReadRecordsDone() const {
  if (!in_flight_.empty()) return in_flight_.back().progress.records_done;
  if (unsaved_) return unsaved_->records_done;
  return status_.records_done;
}

absl::StatusOr<StepResult> ObjectSync::ReadStep() {
  if (partial_) return ContinuePartial();
  // Only a backfill reads on through a result's nextRecordsUrl: its bound keeps out any record
  // changed since the query ran. A poll has no bound, and a later page of its result may show a
  // record changed since, whose key would move the cursor past records not read yet; a poll cut
  // short goes on with a keyset page from the cursor instead (the same one call).
  if (!next_records_url_.empty()) {
    if (backfilling()) return ReadNextRecords();
    next_records_url_.clear();
  }
  KeysetQuery query = PageQuery(0);
  const bool counting_page = backfilling() && !backfill_end_at_ && !options_.estimate_count;
  query.limit = counting_page ? 0 : options_.page_size;
  auto page = reader_.QueryAll(BuildKeysetQuery(query), options_.page_size, phase());
  if (!page.ok()) return Fail(core::Annotate(page.status(), "query"));
  if (counting_page) {
    backfill_end_at_ = ReadRecordsDone() + page->total_size;
    status_.records_estimate = *backfill_end_at_;
  }
  // Salesforce may cut a page short of the LIMIT (batchSize is a hint: long text fields cap it
  // at 200) and say so with done=false, as it does for every page but the last of the unlimited
  // first page of a backfill: a backfill's next page reads on through the nextRecordsUrl.
  const bool full = !page->done || page->records.size() >= static_cast<size_t>(options_.page_size);
  if (field_lists_.size() == 1 && !page->done && backfilling()) {
    next_records_url_ = page->next_records_url;
  }
  std::optional<Cursor> end;
  if (!page->records.empty()) {
    end = KeyOf(page->records.back());
    if (!end) {
      return Fail(absl::FailedPreconditionError(
          "a record without Id or a valid SystemModstamp in a keyset page"));
    }
  }
  if (field_lists_.size() == 1 || page->records.empty()) {
    return Deliver(page->records, end, full);
  }
  PartialPage partial;
  partial.end = *end;
  partial.full = full;
  partial.rows = std::move(page->records);
  partial.modstamps.reserve(partial.rows.size());
  for (size_t i = 0; i < partial.rows.size(); ++i) {
    auto key = KeyOf(partial.rows[i]);
    if (!key) {
      return Fail(absl::FailedPreconditionError(
          "a record without Id or a valid SystemModstamp in a keyset page"));
    }
    partial.modstamps.push_back(key->modstamp_ms);
    partial.by_id.emplace(key->id, i);
  }
  partial.lists_seen.assign(partial.rows.size(), 0);
  partial_ = std::move(partial);
  return Result(1, 0, true);
}

absl::StatusOr<StepResult> ObjectSync::ReadNextRecords() {
  const std::string url = std::exchange(next_records_url_, {});
  auto page = reader_.QueryMore(url, phase());
  // An expired or refused locator, or a page that does not go on from the last page sent in
  // keyset order, costs this call only: the next Step queries from the cursor again.
  if (!page.ok() || !ContinuesKeyset(page->records)) return Result(1, 0, true);
  if (!page->done) next_records_url_ = page->next_records_url;
  std::optional<Cursor> end;
  if (!page->records.empty()) end = KeyOf(page->records.back());
  // The result's last page (done) is still taken as full: whether records became visible under
  // the bound since the result was made is for a keyset page from the cursor to say, unless the
  // estimate's records are all read.
  return Deliver(page->records, end, /*full=*/true);
}

bool ObjectSync::ContinuesKeyset(const std::vector<salesforce::Record>& records) const {
  std::optional<Cursor> last = ReadCursor();
  for (const salesforce::Record& record : records) {
    std::optional<Cursor> key = KeyOf(record);
    if (!key || (last && !(*last < *key))) return false;
    if (backfilling() && key->modstamp_ms > status_.backfill_started_at_ms.value_or(0)) {
      return false;
    }
    last = std::move(key);
  }
  return true;
}

absl::StatusOr<StepResult> ObjectSync::ContinuePartial() {
  PartialPage& p = *partial_;
  absl::StatusOr<salesforce::QueryPage> page;
  if (!p.next_records_url.empty()) {
    page = reader_.QueryMore(p.next_records_url, phase());
  } else {
    KeysetQuery query = PageQuery(p.next_list);
    query.through = p.end;
    page = reader_.QueryAll(BuildKeysetQuery(query), options_.page_size, phase());
  }
  if (!page.ok()) {
    partial_.reset();
    return Fail(core::Annotate(page.status(), "query"));
  }
  for (auto& record : page->records) {
    auto key = KeyOf(record);
    auto it = key ? p.by_id.find(key->id) : p.by_id.end();
    if (it == p.by_id.end() || p.modstamps[it->second] != key->modstamp_ms) {
      p.inconsistent = true;
      continue;
    }
    auto& fields = p.rows[it->second].fields;
    for (auto& [name, value] : record.fields) {
      if (name != "Id" && name != "SystemModstamp") {
        fields.emplace_back(std::move(name), std::move(value));
      }
    }
    ++p.lists_seen[it->second];
  }
  if (!page->done) {
    p.next_records_url = page->next_records_url;
    return Result(1, 0, true);
  }
  p.next_records_url.clear();
  if (++p.next_list < field_lists_.size()) return Result(1, 0, true);

  PartialPage done = std::move(*partial_);
  partial_.reset();
  if (done.inconsistent) return Result(1, 0, true);  // read the whole page again
  std::vector<salesforce::Record> complete;
  complete.reserve(done.rows.size());
  const size_t later_lists = field_lists_.size() - 1;
  for (size_t i = 0; i < done.rows.size(); ++i) {
    // A row some later list lacked was changed since: its new version lies after done.end.
    if (done.lists_seen[i] == later_lists) complete.push_back(std::move(done.rows[i]));
  }
  auto result = Deliver(complete, done.end, done.full);
  if (!result.ok()) return result;
  result->api_calls = 1;
  return result;
}

v1::ChangeSource ObjectSync::source() const {
  return backfilling() ? v1::CHANGE_SOURCE_BACKFILL : v1::CHANGE_SOURCE_POLL;
}

absl::StatusOr<StepResult> ObjectSync::Deliver(const std::vector<salesforce::Record>& records,
                                               std::optional<Cursor> end, bool full) {
  const int64_t now_ms = core::ToUnixMillis(clock_.Now());
  encoded_.Clear();
  if (absl::Status s = mapping::EncodePage(org_id_, plan_, records, source(), now_ms, encoded_);
      !s.ok()) {
    return Fail(s);
  }
  Progress page;
  page.published = static_cast<int64_t>(encoded_.size());
  page.end = end;
  page.full = full;
  page.now_ms = now_ms;
  if (backfilling()) {
    page.records_done = ReadRecordsDone() + page.published;
    page.end = end ? end : ReadCursor();
  }
  // The page that ends the backfill or the poll is stored last, after every page before it.
  const bool last =
      !full || (backfilling() && backfill_end_at_ && page.records_done >= *backfill_end_at_);
  InFlight sent{std::nullopt, page};
  if (!encoded_.empty()) sent.ticket = sink_.Send(plan_.object_name, encoded_);
  in_flight_.push_back(std::move(sent));
  return Settle(last ? 0 : options_.pages_in_flight, /*api_calls=*/1);
}

absl::StatusOr<StepResult> ObjectSync::Settle(size_t keep, int api_calls) {
  int64_t published = 0;
  std::optional<StepResult> stored;
  while (!in_flight_.empty()) {
    InFlight& head = in_flight_.front();
    if (head.ticket) {
      std::optional<absl::Status> outcome =
          sink_.Outcome(*head.ticket, /*wait=*/in_flight_.size() > keep);
      if (!outcome) break;
      head.ticket.reset();  // its outcome was given: the sink forgot it
      if (!outcome->ok()) {
        // The pages after it may be in Kafka, but their cursors cannot be stored before this
        // page's: read them all again from the stored cursor.
        DropInFlight();
        return core::Annotate(*outcome, core::StrCat(plan_.object_name, ": publishing a page"));
      }
    }
    const Progress page = head.progress;
    in_flight_.pop_front();
    absl::StatusOr<StepResult> r = Record(page, api_calls);
    if (!r.ok()) {
      unsaved_ = page;
      return r;
    }
    published += page.published;
    stored = *r;
  }
  StepResult result = stored ? *stored : Result(api_calls, 0, true);
  result.api_calls = api_calls;
  result.records_published = published;
  if (!in_flight_.empty()) result.more_pending = true;
  return result;
}

void ObjectSync::DropInFlight() {
  next_records_url_.clear();  // reading goes back to the stored cursor
  for (const InFlight& page : in_flight_) {
    if (page.ticket) sink_.Forget(*page.ticket);
  }
  in_flight_.clear();
}

absl::StatusOr<StepResult> ObjectSync::Record(const Progress& page, int api_calls) {
  // Every store call here may be made again with the same values (the next Step after a
  // failure): they set, never add.
  if (backfilling()) {
    if (absl::Status s = store_.SaveBackfillProgress(plan_.object_name, page.records_done,
                                                     status_.records_estimate, page.end);
        !s.ok()) {
      return s;
    }
    status_.records_done = page.records_done;
    status_.backfill_cursor = page.end;
    absl::StatusOr<StepResult> r;
    if (!page.full) {
      r = CompleteBackfill(page.published, false);
    } else if (backfill_end_at_ && page.records_done >= *backfill_end_at_) {
      r = CompleteBackfill(page.published, true);
    } else {
      r = Result(1, page.published, true);
    }
    if (r.ok()) r->api_calls = api_calls;
    return r;
  }
  if (page.end) {
    if (absl::Status s = store_.AdvanceCursor(plan_.object_name, *page.end); !s.ok()) return s;
    status_.cursor = page.end;
  } else if (absl::Status s = store_.MarkPolled(plan_.object_name); !s.ok()) {
    return s;
  }
  status_.last_poll_at_ms = page.now_ms;
  return Result(api_calls, page.published, page.full);
}

absl::StatusOr<StepResult> ObjectSync::CompleteBackfill(int64_t published, bool by_count) {
  // After a short page everything up to the bound was read: polling starts at the bound (records
  // stamped exactly then may be read twice). After the count was reached, polling starts right
  // after the last record read instead, so that a version that became visible late with an older
  // stamp (a long transaction) is still read by the first poll; without one that costs nothing.
  next_records_url_.clear();
  const Cursor poll_from = by_count && status_.backfill_cursor
                               ? *status_.backfill_cursor
                               : Cursor{*status_.backfill_started_at_ms, ""};
  if (!status_.cursor || *status_.cursor < poll_from) {
    if (absl::Status s = store_.AdvanceCursor(plan_.object_name, poll_from); !s.ok()) return s;
    status_.cursor = poll_from;
  }
  if (absl::Status s = store_.SetState(plan_.object_name, ObjectState::kLive, std::nullopt);
      !s.ok()) {
    return s;
  }
  const int64_t now_ms = core::ToUnixMillis(clock_.Now());
  status_.state = ObjectState::kLive;
  status_.backfill_completed_at_ms = now_ms;
  // The event is news, not state: if it cannot be stored the object is live all the same.
  (void)store_.RecordEvent(plan_.object_name, control::kEventBackfillComplete,
                           core::JsonWriter()
                               .BeginObject()
                               .Key("records")
                               .Int(status_.records_done)
                               .Key("started_at_ms")
                               .Int(*status_.backfill_started_at_ms)
                               .Key("duration_ms")
                               .Int(now_ms - *status_.backfill_started_at_ms)
                               .EndObject()
                               .Take());
  return Result(1, published, false);
}

absl::StatusOr<StepResult> ObjectSync::Fail(const absl::Status& error) {
  next_records_url_.clear();
  if (!in_flight_.empty()) {
    // The pages sent before the failure are good: store their progress first.
    absl::StatusOr<StepResult> settled = Settle(0, 0);
    if (!settled.ok()) return settled.status();
  }
  const absl::Status reason = core::Annotate(error, plan_.object_name);
  const std::string message = core::ToString(reason.message());
  if (absl::Status s = store_.SetState(plan_.object_name, ObjectState::kError, message); !s.ok()) {
    return s;
  }
  core::JsonWriter detail;
  detail.BeginObject()
      .Member("error", message)
      .Member("retryable", core::IsRetryable(reason))
      .EndObject();
  (void)store_.RecordEvent(plan_.object_name, control::kEventObjectError, detail.Take());
  resume_state_ = status_.state;
  status_.state = ObjectState::kError;
  status_.error = message;
  error_ = reason;
  StepResult result = Result(1, 0, false);
  result.error = reason;
  return result;
}

StepResult ObjectSync::Result(int api_calls, int64_t published, bool more) const {
  StepResult result;
  result.state = status_.state;
  result.api_calls = api_calls;
  result.records_published = published;
  result.more_pending = more;
  return result;
}

}  // namespace sfbridge::fetcher
