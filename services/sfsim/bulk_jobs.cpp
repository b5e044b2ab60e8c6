#include "sfsim/bulk_jobs.h"

#include <algorithm>
#include <cmath>

#include "common/core/strings.h"
#include "sfsim/org/record_ids.h"
#include "sfsim/soql/lexer.h"
#include "sfsim/soql/parser.h"
#include "sfsim/soql/value.h"

namespace sfbridge::sfsim {
namespace {

using core::StrCat;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kRetentionMs = 7 * kDayMs;

org::ApiError Error(int status, std::string_view code, std::string message) {
  return org::ApiError{status, std::string(code), std::move(message), {}};
}

org::ApiError NotFound() {
  return Error(404, "NOT_FOUND", "The requested resource does not exist");
}

bool IsTerminal(JobState s) {
  return s == JobState::kJobComplete || s == JobState::kFailed || s == JobState::kAborted;
}

// What Bulk queries refuse that the SOQL engine's parser would report otherwise (or not at
// all): found on the tokens, so a word inside a string literal does not count.
std::optional<org::ApiError> RefusedByTokens(std::string_view soql) {
  absl::StatusOr<std::vector<soql::Token>> tokens = soql::Tokenize(soql);
  if (!tokens.ok()) return std::nullopt;  // the parser reports it
  const std::vector<soql::Token>& t = *tokens;
  auto word = [&](size_t i, std::string_view w) {
    return i < t.size() && t[i].kind == soql::TokenKind::kIdentifier &&
           soql::EqualsIgnoreCase(t[i].text, w);
  };
  auto refuse = [](std::string_view what) {
    return Error(400, "API_ERROR", StrCat(what, " not supported in Bulk Query"));
  };
  for (size_t i = 0; i < t.size(); ++i) {
    const bool call = i + 1 < t.size() && t[i + 1].kind == soql::TokenKind::kLeftParen;
    if (t[i].kind == soql::TokenKind::kLeftParen && word(i + 1, "SELECT")) {
      return refuse("Aggregate Relationships");
    }
    if (word(i, "TYPEOF")) return refuse("TYPEOF");
    if (word(i, "GROUP") && word(i + 1, "BY")) return refuse("GROUP BY");
    if (call && word(i, "FIELDS")) return refuse("FIELDS()");
    if (call && (word(i, "COUNT") || word(i, "COUNT_DISTINCT") || word(i, "SUM") ||
                 word(i, "AVG") || word(i, "MIN") || word(i, "MAX"))) {
      return refuse("Aggregate functions");
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kUploadComplete:
      return "UploadComplete";
    case JobState::kInProgress:
      return "InProgress";
    case JobState::kJobComplete:
      return "JobComplete";
    case JobState::kFailed:
      return "Failed";
    case JobState::kAborted:
      return "Aborted";
  }
  return "";
}

struct BulkQueryJobs::Job {
  JobInfo info;
  std::string query;
  CsvFormat format;
  int64_t expected = 0;  // matches counted at creation: how long processing takes
  std::string fail_message;
  int64_t ended_ms = 0;                            // terminal states
  std::shared_ptr<const org::QueryResult> result;  // JobComplete
};

BulkQueryJobs::BulkQueryJobs(org::Org& org, core::Clock& clock, BulkSettings settings)
    : org_(org), clock_(clock), settings_(std::move(settings)) {}

BulkQueryJobs::~BulkQueryJobs() = default;

int64_t BulkQueryJobs::NowMs() const { return core::ToUnixMillis(clock_.Now()); }

org::Result<JobInfo> BulkQueryJobs::Create(const CreateJobRequest& request,
                                           std::string_view api_version) {
  if (request.operation != "query" && request.operation != "queryAll") {
    return Error(400, "INVALIDJOB",
                 request.operation.empty() ? "Operation is required"
                                           : StrCat("Invalid operation: ", request.operation));
  }
  if (request.query.empty()) return Error(400, "INVALIDJOB", "Query is required");
  if (request.content_type != "CSV") {
    return Error(400, "INVALIDJOB", StrCat("Invalid content type: ", request.content_type));
  }
  std::optional<char> delimiter = ColumnDelimiterFromName(request.column_delimiter);
  if (!delimiter) {
    return Error(400, "INVALIDJOB", StrCat("Invalid column delimiter: ", request.column_delimiter));
  }
  std::optional<std::string_view> line_ending = LineEndingFromName(request.line_ending);
  if (!line_ending) {
    return Error(400, "INVALIDJOB", StrCat("Invalid line ending: ", request.line_ending));
  }
  if (DailyRemaining() <= 0) {
    return Error(400, "LIMIT_EXCEEDED",
                 StrCat("Max bulk v2 query jobs (", DailyMax(), ") per 24 hrs has been reached"));
  }
  if (auto refused = RefusedByTokens(request.query)) return *refused;
  absl::StatusOr<soql::Query> parsed = soql::Parse(request.query);
  if (parsed.ok()) {
    if (parsed->count) {
      return Error(400, "API_ERROR", "Aggregate functions not supported in Bulk Query");
    }
    if (parsed->offset) return Error(400, "API_ERROR", "OFFSET not supported in Bulk Query");
    if (const org::ObjectDef* object = org_.FindObject(parsed->object)) {
      for (const soql::SelectItem& item : parsed->select) {
        for (const org::FieldDef& f : object->fields) {
          if ((f.type == "address" || f.type == "location") &&
              soql::EqualsIgnoreCase(f.name, item.field)) {
            return Error(400, "API_ERROR", "Selecting compound data not supported in Bulk Query");
          }
        }
      }
    }
  }
  // The engine's own errors (MALFORMED_QUERY, INVALID_FIELD, ...) come from the query with
  // LIMIT 0 (every name checked, nothing sorted or kept); the count that decides how long the
  // job runs from COUNT(), which keeps no records either.
  const bool all_rows = request.operation == "queryAll";
  if (!parsed.ok()) {
    org::Result<org::QueryResult> refused = org_.Query(request.query, all_rows);
    if (auto* error = std::get_if<org::ApiError>(&refused)) return *error;
    return Error(400, "MALFORMED_QUERY", std::string(parsed.status().message()));
  }
  soql::Query checked = *parsed;
  checked.limit = 0;
  org::Result<org::QueryResult> check = org_.Query(soql::ToSoql(checked), all_rows);
  if (auto* error = std::get_if<org::ApiError>(&check)) return *error;
  soql::Query count = *parsed;
  count.count = true;
  count.select.clear();
  count.order_by.clear();
  org::Result<org::QueryResult> counted = org_.Query(soql::ToSoql(count), all_rows);
  if (auto* error = std::get_if<org::ApiError>(&counted)) return *error;

  const int64_t now = NowMs();
  std::lock_guard lock(mu_);
  ExpireLocked(now);
  if (static_cast<int64_t>(created_in_window_.size()) >= settings_.daily_max) {
    return Error(
        400, "LIMIT_EXCEEDED",
        StrCat("Max bulk v2 query jobs (", settings_.daily_max, ") per 24 hrs has been reached"));
  }
  for (const soql::SelectItem& item : parsed->select) {
    for (const std::string& refused : faults_.refused_fields) {
      if (soql::EqualsIgnoreCase(refused, item.field)) {
        return Error(400, "API_ERROR", StrCat(item.field, " not supported in Bulk Query"));
      }
    }
  }
  created_in_window_.push_back(now);
  auto job = std::make_unique<Job>();
  job->info.id = org::MakeRecordId("750", org::PodFromOrgId(org_.org_id()), next_sequence_++);
  job->info.operation = request.operation;
  job->info.object = std::get<org::QueryResult>(counted).object->name;
  job->info.created_by_id = settings_.created_by_id;
  job->info.created_ms = now;
  job->info.system_modstamp_ms = now;
  job->info.api_version = std::string(api_version);
  job->info.column_delimiter = request.column_delimiter;
  job->info.line_ending = request.line_ending;
  job->query = request.query;
  job->format = CsvFormat{*delimiter, *line_ending};
  job->expected = std::get<org::QueryResult>(counted).total_size;
  if (faults_.fail_next > 0) {
    --faults_.fail_next;
    job->fail_message = faults_.error_message;
  }
  JobInfo info = job->info;
  jobs_.emplace(info.id, std::move(job));
  return info;
}

void BulkQueryJobs::AdvanceLocked(Job& job, int64_t now) {
  JobInfo& info = job.info;
  if (IsTerminal(info.state)) return;
  const int64_t start = info.created_ms + settings_.pickup_ms;
  if (now < start) return;
  if (info.state == JobState::kUploadComplete) {
    info.state = JobState::kInProgress;
    info.system_modstamp_ms = start;
  }
  const double rate = settings_.records_per_second;
  const int64_t duration =
      rate > 0 ? static_cast<int64_t>(std::ceil(static_cast<double>(job.expected) * 1000.0 / rate))
               : 0;
  const int64_t done_at = start + duration;
  if (now < done_at) {
    info.records_processed =
        std::min<int64_t>(job.expected, static_cast<int64_t>((now - start) * rate / 1000));
    info.total_processing_ms = now - start;
    return;
  }
  info.total_processing_ms = duration;
  info.system_modstamp_ms = done_at;
  job.ended_ms = done_at;
  bool object_fails = false;
  for (const std::string& name : faults_.failing_objects) {
    object_fails = object_fails || soql::EqualsIgnoreCase(name, info.object);
  }
  if (job.fail_message.empty() && object_fails) job.fail_message = faults_.error_message;
  if (!job.fail_message.empty()) {
    info.state = JobState::kFailed;
    info.records_processed = job.expected;
    info.error_message = job.fail_message;
    return;
  }
  org::Result<org::QueryResult> result = org_.Query(job.query, info.operation == "queryAll");
  if (auto* error = std::get_if<org::ApiError>(&result)) {
    // The object changed under the job (a field it selects went away): the job fails.
    info.state = JobState::kFailed;
    info.records_processed = job.expected;
    info.error_message = StrCat(error->code, " : ", error->message);
    return;
  }
  job.result =
      std::make_shared<const org::QueryResult>(std::move(std::get<org::QueryResult>(result)));
  info.state = JobState::kJobComplete;
  info.records_processed = static_cast<int64_t>(job.result->records.size());
}

void BulkQueryJobs::ExpireLocked(int64_t now) {
  while (!created_in_window_.empty() && created_in_window_.front() <= now - kDayMs) {
    created_in_window_.pop_front();
  }
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    AdvanceLocked(*it->second, now);
    const Job& job = *it->second;
    if (IsTerminal(job.info.state) && job.ended_ms <= now - kRetentionMs) {
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

BulkQueryJobs::Job* BulkQueryJobs::FindLocked(std::string_view id, int64_t now) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return nullptr;
  AdvanceLocked(*it->second, now);
  if (IsTerminal(it->second->info.state) && it->second->ended_ms <= now - kRetentionMs) {
    jobs_.erase(it);
    return nullptr;
  }
  return it->second.get();
}

org::Result<JobInfo> BulkQueryJobs::Get(std::string_view id) {
  std::lock_guard lock(mu_);
  Job* job = FindLocked(id, NowMs());
  if (!job) return NotFound();
  return job->info;
}

std::vector<JobInfo> BulkQueryJobs::List() {
  std::lock_guard lock(mu_);
  ExpireLocked(NowMs());
  std::vector<JobInfo> out;
  out.reserve(jobs_.size());
  for (const auto& [id, job] : jobs_) out.push_back(job->info);
  std::stable_sort(out.begin(), out.end(),
                   [](const JobInfo& a, const JobInfo& b) { return a.created_ms < b.created_ms; });
  return out;
}

org::Result<JobInfo> BulkQueryJobs::Abort(std::string_view id) {
  return End(id, JobState::kAborted, "");
}

org::Result<JobInfo> BulkQueryJobs::End(std::string_view id, JobState state,
                                        std::string_view message) {
  std::lock_guard lock(mu_);
  const int64_t now = NowMs();
  Job* job = FindLocked(id, now);
  if (!job) return NotFound();
  if (IsTerminal(job->info.state)) {
    return Error(400, "INVALIDJOB",
                 StrCat("Invalid state transition from ", JobStateName(job->info.state), " to ",
                        JobStateName(state)));
  }
  job->info.state = state;
  job->info.error_message = std::string(message);
  job->info.system_modstamp_ms = now;
  job->ended_ms = now;
  return job->info;
}

org::Result<bool> BulkQueryJobs::Delete(std::string_view id) {
  std::lock_guard lock(mu_);
  Job* job = FindLocked(id, NowMs());
  if (!job) return NotFound();
  if (job->info.state == JobState::kInProgress) {
    return Error(400, "INVALIDJOB",
                 "Job is in progress: it can be deleted once it is UploadComplete, JobComplete, "
                 "Aborted or Failed");
  }
  jobs_.erase(jobs_.find(id));
  return true;
}

org::Result<ResultPage> BulkQueryJobs::Results(std::string_view id, std::string_view api_version,
                                               std::string_view locator,
                                               std::optional<int64_t> max_records) {
  std::shared_ptr<const org::QueryResult> result;
  CsvFormat format;
  size_t max_bytes = 0;
  bool cut = false;
  {
    std::lock_guard lock(mu_);
    Job* job = FindLocked(id, NowMs());
    if (!job) return NotFound();
    if (job->info.api_version != api_version) {
      return Error(409, "INVALIDJOB",
                   StrCat("Job ", job->info.id, " was created with API version ",
                          job->info.api_version, "; get its results through that version"));
    }
    if (job->info.state != JobState::kJobComplete) {
      std::string status(JobStateName(job->info.state));
      std::string upper;
      for (char c : status) {
        if (c >= 'A' && c <= 'Z' && !upper.empty()) upper.push_back('_');
        upper.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c);
      }
      return Error(412, "JOB_NOT_COMPLETE",
                   StrCat("can only download query results of successfully completed bulk job "
                          "with status: JOB_COMPLETE. Current status: ",
                          upper));
    }
    result = job->result;
    format = job->format;
    max_bytes = settings_.max_page_bytes;
    if (faults_.cut_results > 0) {
      --faults_.cut_results;
      cut = true;
    }
  }
  // Rendering runs outside the lock: the snapshot is immutable and shared.
  const int64_t total = static_cast<int64_t>(result->records.size());
  int64_t offset = 0;
  if (!locator.empty()) {
    std::optional<int64_t> decoded = DecodeLocator(locator);
    if (!decoded || *decoded > total) {
      return Error(400, "INVALID_LOCATOR", StrCat("Invalid locator: ", locator));
    }
    offset = *decoded;
  }
  const int64_t limit = max_records.value_or(total);
  ResultPage page;
  const size_t reserve = std::min<size_t>(max_bytes, static_cast<size_t>(limit) * 256 + 1024);
  page.csv.reserve(reserve);
  AppendCsvHeader(page.csv, *result->object, result->selected, format);
  int64_t end = offset;
  while (end < total && end - offset < limit && (end == offset || page.csv.size() < max_bytes)) {
    AppendCsvRecord(page.csv, *result->records[static_cast<size_t>(end)], result->selected, format);
    ++end;
  }
  page.records = end - offset;
  page.next_locator = end < total ? EncodeLocator(end) : "null";
  page.cut = cut;
  return page;
}

int64_t BulkQueryJobs::DailyMax() const {
  std::lock_guard lock(mu_);
  return settings_.daily_max;
}

int64_t BulkQueryJobs::DailyRemaining() {
  std::lock_guard lock(mu_);
  ExpireLocked(NowMs());
  return std::max<int64_t>(0,
                           settings_.daily_max - static_cast<int64_t>(created_in_window_.size()));
}

void BulkQueryJobs::SetDaily(std::optional<int64_t> max, std::optional<int64_t> used) {
  std::lock_guard lock(mu_);
  if (max) settings_.daily_max = *max;
  if (used) {
    const int64_t now = NowMs();
    created_in_window_.assign(static_cast<size_t>(std::max<int64_t>(0, *used)), now);
  }
}

BulkSettings BulkQueryJobs::settings() const {
  std::lock_guard lock(mu_);
  return settings_;
}

void BulkQueryJobs::set_records_per_second(double rate) {
  std::lock_guard lock(mu_);
  settings_.records_per_second = rate;
}

BulkFaults BulkQueryJobs::faults() const {
  std::lock_guard lock(mu_);
  return faults_;
}

void BulkQueryJobs::set_faults(BulkFaults faults) {
  std::lock_guard lock(mu_);
  faults_ = std::move(faults);
}

org::Result<JobInfo> BulkQueryJobs::Fail(std::string_view id, std::string_view message) {
  return End(id, JobState::kFailed, message);
}

std::string EncodeLocator(int64_t offset) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string digits = std::to_string(offset);
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : digits) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 63]);
  return out;
}

std::optional<int64_t> DecodeLocator(std::string_view locator) {
  while (locator.ends_with('=')) locator.remove_suffix(1);
  if (locator.empty() || locator.size() > 24) return std::nullopt;
  std::string digits;
  uint32_t bits = 0;
  int count = 0;
  for (char c : locator) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      digits.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  if (digits.empty()) return std::nullopt;
  int64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9' || n > 1'000'000'000'000) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  // Only the canonical spelling is a locator this org handed out.
  if (EncodeLocator(n) != std::string(locator)) return std::nullopt;
  return n;
}

}  // namespace sfbridge::sfsim
