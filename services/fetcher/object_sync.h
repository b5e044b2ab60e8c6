#pragma once

// One object's sync, one Salesforce call per Step, so a scheduler can interleave objects:
//
//   pending --(backfill_started_at stamped)--> backfilling
//   backfilling --(queryAll keyset pages up to backfill_started_at; a short page, or as many
//                  records as the estimate counted, ends it)--> live
//   live --(queryAll keyset pages after the polling cursor, forever)
//   any --(a Salesforce failure, or a record that does not match the plan)--> error (reason kept)
//   error --(Retry(), or a restart)--> the state it failed in
//
// Nothing is lost (invariant 4): a page is published to the RecordSink and only once the sink
// reported it acknowledged (Kafka acknowledged every record), and every page before it too, does
// the cursor move to the page's last key, in the StateStore. Publishing is pipelined: a Step
// sends its page to the sink and returns while Kafka acknowledges it, up to
// ObjectSyncOptions::pages_in_flight pages, so the next Step reads the next page (from the last
// page sent) meanwhile; each Step first stores the progress of the pages acknowledged since, in
// order. A page that ends the backfill or a poll (nothing more to read now) waits for every page
// before it. When a page fails in Kafka, every page after it is dropped unstored too and reading
// goes back to the stored cursor: those pages are read and published again. A crash at any
// moment resumes from the last stored cursor: at most the pages in flight are read and
// published again, which the writer absorbs (invariant 3). A backfill never restarts from the
// beginning once it stored a cursor. When the store fails after a page was acknowledged, Step
// returns the failure and every later Step tries to store that page's progress again, reading
// nothing, until it succeeds: a control plane that cannot record progress stops the object
// instead of making it read and publish the same page over and over.
//
// Records sharing a SystemModstamp across page boundaries are read exactly once: the cursor is
// the (SystemModstamp, Id) keyset of soql_builder.h. Polling starts at backfill_started_at, so
// every change made during the backfill is caught by the polls.
//
// The estimate: the first page of every backfill session (a fresh backfill, a restart, a retry)
// is queried without LIMIT, so Salesforce's totalSize counts every record left under the bound,
// as COUNT() would, without spending a call of its own (the page itself is still batchSize
// records). Every record counted is stamped at or before the bound and is read by the backfill
// unless it changes meanwhile (moving past the bound), so once records_done reaches
// records_done-at-that-page + totalSize nothing under the bound is left and the backfill ends
// without the closing empty page. Polling then starts right after the last record read (not at
// the bound), so a version that became visible late with an older stamp is still caught.
// (ObjectSyncOptions::estimate_count spends a separate COUNT() call instead and ends on a short
// page only.)
//
// A result that goes on (done=false: the unlimited first page's, or a page Salesforce cut short)
// is read on through its nextRecordsUrl, the rest of the same result in the same keyset order,
// rather than by a keyset query that Salesforce would run again for every page. Such a page must
// go on from the last page sent in keyset order (under the bound while backfilling), or it is
// dropped; a locator that expired or failed costs that one call. Either way the next page is
// then a keyset query from the cursor, as after a restart: the cursor stored is the last key
// read whichever way a page was read.
//
// Wide objects whose select list does not fit one URL are read with several queries per page,
// one per Step, merged by Id as soql_builder.h describes.
//
// Not thread-safe: one thread steps an object at a time. The reader, sink, store and clock are
// not owned and must outlive the ObjectSync.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/mapping/record_mapping.h"
#include "common/mapping/schema_mapping.h"
#include "common/salesforce/json_records.h"
#include "fetcher/soql_builder.h"
#include "fetcher/sync_task.h"
#include "sfbridge/v1/record.pb.h"

namespace sfbridge::fetcher {

// What a read is for: reading an object through for the first time, or polling it for changes
// (the calls are counted apart, sfbridge_fetcher_api_calls_total{phase}).
enum class ReadPhase { kBackfill, kPoll };

// Salesforce reads. The adapter over salesforce::Client takes no budget itself: the scheduler
// took a token before the Step that calls it. Errors are the client's (core::IsRetryable).
class SalesforceReader {
 public:
  virtual ~SalesforceReader() = default;
  // GET /queryAll (deleted rows included, IsDeleted = true), pages of about `batch_size`.
  virtual absl::StatusOr<salesforce::QueryPage> QueryAll(std::string_view soql, int batch_size,
                                                         ReadPhase phase) = 0;
  virtual absl::StatusOr<salesforce::QueryPage> QueryMore(std::string_view next_records_url,
                                                          ReadPhase phase) = 0;
  // BuildCountQuery(object_name) through queryAll: the backfill's estimate.
  virtual absl::StatusOr<int64_t> Count(std::string_view object_name) = 0;
};

// Kafka, topic sfbridge.<org>.records, keyed by record_id.
class RecordSink {
 public:
  using Ticket = uint64_t;
  virtual ~RecordSink() = default;
  // Starts publishing a page of `object_name`'s changes (copied before it returns) and returns
  // without waiting for Kafka. Changes of pages sent one after another stay in that order for
  // each record (its partition).
  virtual Ticket Send(std::string_view object_name, const mapping::EncodedChanges& changes) = 0;
  // The page's outcome: OK once Kafka acknowledged every one of its changes (invariant 4); an
  // error means any subset may have been published, and the caller reads them again. nullopt
  // while acknowledgements are still to come and `wait` is false; with `wait` it waits for them
  // (up to the sink's own timeout, then an error). A ticket whose outcome was returned is
  // forgotten.
  virtual std::optional<absl::Status> Outcome(Ticket ticket, bool wait) = 0;
  // Stops tracking a page whose outcome is no longer wanted.
  virtual void Forget(Ticket ticket) = 0;
};

// The object's row in the control plane (control/org_settings.h, events.h) for one org.
class StateStore {
 public:
  virtual ~StateStore() = default;
  // nullopt when the object has no row yet.
  virtual absl::StatusOr<std::optional<control::ObjectStatus>> Load(std::string_view object) = 0;
  // Enters kBackfilling, stamping backfill_started_at; returns the stamp (UTC ms).
  virtual absl::StatusOr<int64_t> BeginBackfill(std::string_view object) = 0;
  virtual absl::Status SaveBackfillProgress(std::string_view object, int64_t records_done,
                                            std::optional<int64_t> records_estimate,
                                            std::optional<control::Cursor> resume_after) = 0;
  // Moves the polling cursor forward (never back) and stamps last_poll_at.
  virtual absl::Status AdvanceCursor(std::string_view object, const control::Cursor& to) = 0;
  // Stamps last_poll_at (a poll found nothing new).
  virtual absl::Status MarkPolled(std::string_view object) = 0;
  virtual absl::Status SetState(std::string_view object, control::ObjectState state,
                                std::optional<std::string_view> error) = 0;
  virtual absl::Status RecordEvent(std::string_view object, std::string_view kind,
                                   std::string_view detail_json) = 0;
};

struct ObjectSyncOptions {
  int page_size = 2000;  // LIMIT and batchSize of every page
  // Pages sent to the sink that a Step may leave unacknowledged when it returns (0: each Step
  // waits for its own page).
  size_t pages_in_flight = 2;
  bool estimate_count = false;  // spend the first call on COUNT() (see above)
  size_t max_encoded_soql_chars = kMaxEncodedSoqlChars;
};

class ObjectSync final : public SyncTask {
 public:
  // Loads the object's row and resumes where it stands: pending (or no row) starts a backfill;
  // backfilling resumes after backfill_cursor; live polls after cursor; error resumes the state
  // it failed in (a restart is a retry). Errors: the store's; kInvalidArgument when the plan's
  // fields cannot be split into queries that fit a URL.
  static absl::StatusOr<std::unique_ptr<ObjectSync>> Create(
      std::string org_id, mapping::FieldPlan plan, SalesforceReader& reader, RecordSink& sink,
      StateStore& store, core::Clock& clock, ObjectSyncOptions options = {});
  // Abandons the pages still in flight: their progress is not stored.
  ~ObjectSync() override;

  const std::string& object_name() const override { return plan_.object_name; }
  control::ObjectState state() const override { return status_.state; }
  absl::StatusOr<StepResult> Step() override;
  bool Retry() override;

  // The object's state as this sync last stored it.
  const control::ObjectStatus& status() const { return status_; }
  // The select lists a page is read with (more than one for a wide object).
  const std::vector<std::vector<std::string>>& field_lists() const { return field_lists_; }

 private:
  // A page of a wide object while its later select lists are being read.
  struct PartialPage {
    std::vector<salesforce::Record> rows;  // from the first list
    std::vector<int64_t> modstamps;        // of rows
    std::vector<size_t> lists_seen;        // per row: later lists that returned it unchanged
    std::unordered_map<std::string, size_t> by_id;
    control::Cursor end;  // the first list's last key
    bool full = false;
    size_t next_list = 1;
    std::string next_records_url;  // while the current list has more pages
    bool inconsistent = false;
  };

  ObjectSync(std::string org_id, mapping::FieldPlan plan,
             std::vector<std::vector<std::string>> lists, control::ObjectStatus status,
             SalesforceReader& reader, RecordSink& sink, StateStore& store, core::Clock& clock,
             ObjectSyncOptions options);

  absl::StatusOr<StepResult> StartBackfill();
  // Reads one page (or one part of a split page) of the backfill or of polling.
  absl::StatusOr<StepResult> ReadStep();
  absl::StatusOr<StepResult> ContinuePartial();
  // Reads the page at next_records_url_: the rest of the result of the last query.
  absl::StatusOr<StepResult> ReadNextRecords();
  // Whether `records` go on after ReadCursor() in keyset order (and under the bound while
  // backfilling), as a page read through a nextRecordsUrl should.
  bool ContinuesKeyset(const std::vector<salesforce::Record>& records) const;
  // What a published page moves forward; stored by Record.
  struct Progress {
    int64_t published = 0;
    std::optional<control::Cursor> end;  // the cursor to store (backfill: the backfill cursor)
    bool full = false;
    int64_t now_ms = 0;
    int64_t records_done = 0;  // while backfilling: the new total
  };
  // Sends a complete page to the sink, to move the cursor to `end` (nullopt: the page was
  // empty) once acknowledged, then settles.
  absl::StatusOr<StepResult> Deliver(const std::vector<salesforce::Record>& records,
                                     std::optional<control::Cursor> end, bool full);
  // Stores the progress of the pages in flight that Kafka acknowledged, oldest first, waiting
  // for them while more than `keep` are in flight. A page that failed drops every page in
  // flight (reading goes back to the stored cursor) and returns the failure.
  absl::StatusOr<StepResult> Settle(size_t keep, int api_calls);
  void DropInFlight();
  // Where the next page starts: after the last page sent, else the stored cursor.
  std::optional<control::Cursor> ReadCursor() const;
  int64_t ReadRecordsDone() const;
  // Stores `page`'s progress (and completes the backfill when it ended it). Safe to repeat.
  absl::StatusOr<StepResult> Record(const Progress& page, int api_calls);
  // `by_count`: ended because the estimate's records were all read, not on a short page.
  absl::StatusOr<StepResult> CompleteBackfill(int64_t published, bool by_count);
  // Records the failure (state, reason, event); the returned result reports it.
  absl::StatusOr<StepResult> Fail(const absl::Status& error);
  // After Retry() or a restart from kError: stores the state the object goes on in.
  absl::Status PersistResume();

  KeysetQuery PageQuery(size_t list) const;
  bool backfilling() const { return status_.state == control::ObjectState::kBackfilling; }
  ReadPhase phase() const { return backfilling() ? ReadPhase::kBackfill : ReadPhase::kPoll; }
  v1::ChangeSource source() const;
  StepResult Result(int api_calls, int64_t published, bool more) const;

  const std::string org_id_;
  const mapping::FieldPlan plan_;
  const std::vector<std::vector<std::string>> field_lists_;
  SalesforceReader& reader_;
  RecordSink& sink_;
  StateStore& store_;
  core::Clock& clock_;
  const ObjectSyncOptions options_;

  control::ObjectStatus status_;
  control::ObjectState resume_state_ = control::ObjectState::kPending;  // while kError
  absl::Status error_;                                                  // while kError
  bool resume_unsaved_ = false;
  std::optional<Progress> unsaved_;  // a published page whose progress is not stored yet
  struct InFlight {
    std::optional<RecordSink::Ticket> ticket;  // none for an empty page
    Progress progress;
  };
  std::deque<InFlight> in_flight_;   // sent, progress not stored yet; oldest first
  mapping::EncodedChanges encoded_;  // the page being sent (its buffer is kept between pages)
  std::optional<PartialPage> partial_;
  // The rest of the last query's result, which goes on after the last page sent; empty when the
  // next page is a keyset query from the cursor.
  std::string next_records_url_;
  // records_done at which everything under the current bound has been read (see above); unset
  // until this session's first page.
  std::optional<int64_t> backfill_end_at_;
};

}  // namespace sfbridge::fetcher
