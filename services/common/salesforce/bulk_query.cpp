#include "common/salesforce/bulk_query.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "common/core/json_writer.h"
#include "common/core/strings.h"
#include "common/salesforce/url_encoding.h"

namespace sfbridge::salesforce {
namespace {

constexpr std::array<std::pair<BulkJobState, std::string_view>, 5> kStateNames = {{
    {BulkJobState::kUploadComplete, "UploadComplete"},
    {BulkJobState::kInProgress, "InProgress"},
    {BulkJobState::kJobComplete, "JobComplete"},
    {BulkJobState::kFailed, "Failed"},
    {BulkJobState::kAborted, "Aborted"},
}};

std::string JobPath(std::string_view job_id) {
  return core::StrCat("/jobs/query/", UrlEncode(job_id));
}

// The CSV of one results page decoded as it arrives. A page read again after its body broke off
// (the Client sends it again) is decoded from its start, and the records handed out before are
// not handed out twice: a page is the same while its job exists (reference §1.6).
class PageReader final : public HttpBodySink {
 public:
  PageReader(std::string_view object_type, size_t batch_size, const RecordBatchFn& on_batch,
             const std::vector<std::string>& known_columns)
      : object_type_(object_type),
        batch_size_(batch_size),
        on_batch_(on_batch),
        known_columns_(known_columns) {}

  absl::Status Begin(const HttpResponse& head) override {
    skip_ = handed_out_;
    finished_.reset();
    announced_ = NumberOfRecords(head);
    decoder_.emplace(
        object_type_, ',', batch_size_, [this](std::vector<Record>& batch) { return Hand(batch); },
        known_columns_.empty() ? std::nullopt
                               : std::optional<std::vector<std::string>>(known_columns_));
    return absl::OkStatus();
  }
  absl::Status Take(std::string_view piece) override { return decoder_->Feed(piece); }
  // Fewer records than Sforce-NumberOfRecords announced: the body broke off (a chunked reply
  // ends quietly), and the Client reads the page again.
  bool Whole() override {
    finished_ = decoder_->Finish();
    return !announced_ || decoder_->records() >= *announced_;
  }

  // The page once its body is all read: its last records and what its headers say.
  absl::StatusOr<BulkResultsPage> Finish(std::string_view job_id, const HttpResponse& response) {
    if (!decoder_) {
      if (absl::Status s = Begin(response); !s.ok()) return s;
    }
    if (!finished_) finished_ = decoder_->Finish();
    if (!finished_->ok()) return *finished_;
    BulkResultsPage page;
    page.records = decoder_->records();
    page.columns = decoder_->columns();
    if (page.columns.empty()) page.columns = known_columns_;
    page.number_of_records = NumberOfRecords(response);
    std::optional<std::string> next = response.Header("Sforce-Locator");
    page.next_locator = next && *next != "null" ? *next : "";
    if (page.number_of_records && *page.number_of_records != page.records) {
      return absl::InternalError(
          core::StrCat("Bulk results page of job ", job_id, " has ", page.records,
                       " records, Sforce-NumberOfRecords says ", *page.number_of_records));
    }
    return page;
  }

 private:
  static std::optional<int64_t> NumberOfRecords(const HttpResponse& response) {
    int64_t value = 0;
    std::optional<std::string> n = response.Header("Sforce-NumberOfRecords");
    if (!n || !absl::SimpleAtoi(*n, &value)) return std::nullopt;
    return value;
  }

  absl::Status Hand(std::vector<Record>& batch) {
    if (skip_ > 0) {
      const size_t n = std::min<size_t>(skip_, batch.size());
      batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
      skip_ -= n;
      if (batch.empty()) return absl::OkStatus();
    }
    handed_out_ += batch.size();
    return on_batch_(batch);
  }

  const std::string object_type_;
  const size_t batch_size_;
  const RecordBatchFn& on_batch_;
  const std::vector<std::string>& known_columns_;
  std::optional<BulkCsvDecoder> decoder_;
  std::optional<absl::Status> finished_;  // the decoder's Finish, once called
  std::optional<int64_t> announced_;      // this attempt's Sforce-NumberOfRecords
  size_t handed_out_ = 0;                 // over every attempt
  size_t skip_ = 0;  // of this attempt's first records, handed out by an earlier one
};

}  // namespace

std::string_view BulkJobStateName(BulkJobState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "Other";
}

BulkJobState ParseBulkJobState(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return BulkJobState::kOther;
}

absl::StatusOr<BulkJob> ParseBulkJob(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(json.data(), json.size()).get_object().get(object) != simdjson::SUCCESS) {
    return absl::InternalError("malformed Bulk job reply: not a JSON object");
  }
  BulkJob job;
  auto text = [&](const char* key, std::string& out) {
    std::string_view v;
    if (object[key].get_string().get(v) == simdjson::SUCCESS) out = std::string(v);
  };
  text("id", job.id);
  text("operation", job.operation);
  text("object", job.object);
  text("state", job.state_name);
  text("createdDate", job.created_date);
  text("errorMessage", job.error_message);
  double version = 0;
  std::string_view version_text;
  if (object["apiVersion"].get_double().get(version) == simdjson::SUCCESS) {
    job.api_version = core::StrCat(version);
  } else if (object["apiVersion"].get_string().get(version_text) == simdjson::SUCCESS) {
    job.api_version = std::string(version_text);
  }
  int64_t processed = 0;
  if (object["numberRecordsProcessed"].get_int64().get(processed) == simdjson::SUCCESS) {
    job.records_processed = processed;
  }
  if (job.id.empty() || job.state_name.empty()) {
    return absl::InternalError("malformed Bulk job reply: no id or state");
  }
  job.state = ParseBulkJobState(job.state_name);
  return job;
}

absl::StatusOr<BulkJob> BulkQuery::Create(std::string_view soql, BulkOperation operation,
                                          Priority priority) {
  Client::Call call = Client::MakeCall(CallKind::kBulkQuery, priority, "POST", "/jobs/query");
  call.body = core::JsonWriter()
                  .BeginObject()
                  .Member("operation", operation == BulkOperation::kQueryAll ? "queryAll" : "query")
                  .Member("query", soql)
                  .Member("contentType", "CSV")
                  .Member("columnDelimiter", "COMMA")
                  .Member("lineEnding", "LF")
                  .EndObject()
                  .Take();
  // A create sent twice makes two jobs (one spent allocation, one left behind).
  call.idempotent = false;
  absl::StatusOr<HttpResponse> response = client_.Execute(call);
  if (!response.ok()) return response.status();
  return ParseBulkJob(response->body);
}

absl::StatusOr<BulkJob> BulkQuery::Get(std::string_view job_id, Priority priority) {
  Client::Call call = Client::MakeCall(CallKind::kBulkQuery, priority, "GET", JobPath(job_id));
  absl::StatusOr<HttpResponse> response = client_.Execute(call);
  if (!response.ok()) return response.status();
  return ParseBulkJob(response->body);
}

absl::StatusOr<BulkJob> BulkQuery::Abort(std::string_view job_id, Priority priority) {
  Client::Call call = Client::MakeCall(CallKind::kBulkQuery, priority, "PATCH", JobPath(job_id));
  call.body = R"({"state":"Aborted"})";
  // Sent again after an abort that was applied, it is refused (the job has ended).
  call.idempotent = false;
  absl::StatusOr<HttpResponse> response = client_.Execute(call);
  if (!response.ok()) return response.status();
  return ParseBulkJob(response->body);
}

absl::Status BulkQuery::Delete(std::string_view job_id, Priority priority) {
  Client::Call call = Client::MakeCall(CallKind::kBulkQuery, priority, "DELETE", JobPath(job_id));
  return client_.Execute(call).status();
}

absl::StatusOr<BulkResultsPage> BulkQuery::Results(std::string_view job_id,
                                                   std::string_view object_type,
                                                   std::string_view locator, int64_t max_records,
                                                   size_t batch_size, const RecordBatchFn& on_batch,
                                                   const std::vector<std::string>& known_columns,
                                                   Priority priority) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!locator.empty()) params.emplace_back("locator", std::string(locator));
  if (max_records > 0) params.emplace_back("maxRecords", core::StrCat(max_records));
  std::string path = core::StrCat(JobPath(job_id), "/results");
  if (!params.empty()) core::StrAppend(&path, "?", EncodeParams(params));
  Client::Call call = Client::MakeCall(CallKind::kBulkQuery, priority, "GET", std::move(path));
  call.headers.emplace_back("Accept", "text/csv");
  PageReader reader(object_type, batch_size, on_batch, known_columns);
  call.body_sink = &reader;
  absl::StatusOr<HttpResponse> response = client_.Execute(call);
  if (!response.ok()) return response.status();
  return reader.Finish(job_id, *response);
}

}  // namespace sfbridge::salesforce
