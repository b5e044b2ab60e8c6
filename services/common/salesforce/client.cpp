#include "common/salesforce/client.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "absl/strings/cord.h"
#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/salesforce/api_error.h"
#include "common/salesforce/url_encoding.h"

namespace sfbridge::salesforce {
namespace {

constexpr size_t kMaxRetrieveIds = 800;

bool IsSuccess(int http_status) { return http_status >= 200 && http_status < 300; }

// The part of a path that is safe and useful in a message: without its query string.
std::string_view PathForMessage(std::string_view path) { return path.substr(0, path.find('?')); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Whether sending `call` again may succeed, given how the last attempt failed.
bool ShouldRetry(bool idempotent, const absl::Status& failure, int http_status) {
  if (WasNotSent(failure)) {
    return failure.code() == absl::StatusCode::kUnavailable ||
           failure.code() == absl::StatusCode::kDeadlineExceeded;
  }
  const bool lock_row = failure.code() == absl::StatusCode::kAborted && [&] {
    std::optional<ApiError> error = GetApiError(failure);
    return error && error->error_code == "UNABLE_TO_LOCK_ROW";
  }();
  if (!idempotent) return http_status == 503 || lock_row;
  switch (failure.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

// The first row-lock error when no record of a collections reply was saved and every error is
// UNABLE_TO_LOCK_ROW or ALL_OR_NONE_OPERATION_ROLLED_BACK; nullopt otherwise.
std::optional<absl::Status> OnlyLockFailures(const std::vector<SaveResult>& results) {
  std::optional<absl::Status> lock;
  for (const SaveResult& result : results) {
    if (result.success || result.errors.empty()) return std::nullopt;
    for (const SaveError& error : result.errors) {
      if (error.status_code == "UNABLE_TO_LOCK_ROW") {
        if (!lock) lock = SaveResultStatus(result);
      } else if (error.status_code != "ALL_OR_NONE_OPERATION_ROLLED_BACK") {
        return std::nullopt;
      }
    }
  }
  return lock;
}

absl::Status Malformed(absl::Status status, std::string_view what) {
  return absl::Status(status.code(), core::StrCat(what, ": ", status.message()));
}

// `status` with `context` in front of its message, its payloads kept.
absl::Status AnnotateKeepingPayloads(const absl::Status& status, std::string_view context) {
  absl::Status out(status.code(), core::StrCat(context, ": ", status.message()));
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

}  // namespace

absl::Status MarkOutcomeUnknown(absl::Status status) {
  if (!status.ok()) status.SetPayload(kOutcomeUnknownPayloadUrl, absl::Cord("1"));
  return status;
}

bool OutcomeUnknown(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kOutcomeUnknownPayloadUrl).has_value();
}

Client::Call Client::MakeCall(CallKind kind, Priority priority, std::string method,
                              std::string path) {
  Call call;
  call.kind = kind;
  call.priority = priority;
  call.method = std::move(method);
  call.path = std::move(path);
  return call;
}

Client::Client(ClientOptions options, HttpTransport& transport, core::Clock& clock,
               RequestGate* gate)
    : options_(std::move(options)),
      data_path_(core::StrCat("/services/data/v", options_.api_version)),
      transport_(transport),
      clock_(clock),
      gate_(gate),
      rng_(options_.jitter_seed ? *options_.jitter_seed : std::random_device()()) {}

std::optional<LimitInfo> Client::last_limit_info() const {
  std::lock_guard lock(mu_);
  return last_limit_info_;
}

absl::Status Client::Authenticate(Priority priority) {
  std::lock_guard auth_lock(auth_mu_);
  absl::StatusOr<Token> token = FetchToken(priority);
  if (!token.ok()) return token.status();
  std::lock_guard lock(mu_);
  token_ = *std::move(token);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Client::OrgId() {
  absl::StatusOr<Token> token = CurrentToken(Priority::kNormal);
  if (!token.ok()) return token.status();
  return token->org_id;
}

absl::StatusOr<Token> Client::CurrentToken(Priority priority) {
  {
    std::lock_guard lock(mu_);
    if (token_) return *token_;
  }
  std::lock_guard auth_lock(auth_mu_);
  {
    std::lock_guard lock(mu_);
    if (token_) return *token_;  // another thread authenticated meanwhile
  }
  absl::StatusOr<Token> token = FetchToken(priority);
  if (!token.ok()) return token.status();
  std::lock_guard lock(mu_);
  token_ = *token;
  return token;
}

void Client::InvalidateToken(const std::string& access_token) {
  std::lock_guard lock(mu_);
  if (token_ && token_->access_token == access_token) token_.reset();
}

absl::StatusOr<Token> Client::FetchToken(Priority priority) {
  const std::string context =
      core::StrCat("salesforce authentication (", options_.credentials.Describe(), ")");
  Call call;  // for retry logs only
  call.kind = CallKind::kAuth;
  call.method = "POST";
  call.path = "/services/oauth2/token";
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<HttpRequest> request = BuildTokenRequest(options_.credentials, clock_.Now());
    if (!request.ok()) return request.status();
    request->timeout = options_.auth_timeout;
    if (gate_) {
      if (absl::Status s = gate_->Acquire(CallKind::kAuth, priority); !s.ok()) return s;
    }
    absl::StatusOr<HttpResponse> response = transport_.Send(*request);
    absl::Status failure;
    if (response.ok()) {
      ObserveLimits(*response);
      absl::StatusOr<Token> token = ParseTokenReply(*response, clock_.Now());
      if (token.ok()) {
        core::Logger("salesforce")
            ->info("org={} flow={} authenticated", token->org_id,
                   AuthFlowName(options_.credentials.flow));
        return token;
      }
      failure = core::Annotate(token.status(), context);
    } else {
      failure = core::Annotate(response.status(), context);
    }
    const absl::StatusCode code = failure.code();
    const bool retryable =
        code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded;
    if (!retryable || !PrepareRetry(call, attempt, failure)) return failure;
  }
}

std::chrono::nanoseconds Client::Backoff(int attempt) {
  using std::chrono::milliseconds;
  // cap = initial * 2^(attempt-1), computed without overflow.
  milliseconds cap = options_.initial_backoff;
  for (int i = 1; i < attempt && cap < options_.max_backoff; ++i) cap *= 2;
  cap = std::min(cap, options_.max_backoff);
  if (cap.count() <= 0) return std::chrono::nanoseconds(0);
  std::uniform_int_distribution<int64_t> jitter(
      0, std::chrono::duration_cast<std::chrono::nanoseconds>(cap).count());
  std::lock_guard lock(mu_);
  return std::chrono::nanoseconds(jitter(rng_));
}

bool Client::PrepareRetry(const Call& call, int attempt, const absl::Status& failure) {
  if (attempt >= options_.max_attempts) return false;
  const std::chrono::nanoseconds delay = Backoff(attempt);
  std::string org_id;
  {
    std::lock_guard lock(mu_);
    if (token_) org_id = token_->org_id;
  }
  core::Logger("salesforce")
      ->warn("org={} kind={} method={} path={} attempt={} retry_in_ms={} error=\"{}\"", org_id,
             CallKindName(call.kind), call.method, PathForMessage(call.path), attempt,
             std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(),
             core::ToString(failure.message()));
  clock_.SleepFor(delay);
  return true;
}

void Client::ObserveLimits(const HttpResponse& response) {
  std::optional<std::string> header = response.Header(kLimitInfoHeader);
  if (!header) return;
  std::optional<LimitInfo> info = ParseLimitInfo(*header);
  if (!info) return;
  {
    std::lock_guard lock(mu_);
    last_limit_info_ = info;
  }
  if (gate_) gate_->Observe(*info);
}

absl::Status Client::Reserve(CallKind kind, Priority priority, Reservation& reservation) {
  if (reservation.token_ahead || gate_ == nullptr) return absl::OkStatus();
  const auto start = clock_.Monotonic();
  absl::Status s = gate_->Acquire(kind, priority);
  reservation.waited += clock_.Monotonic() - start;
  reservation.token_ahead = s.ok();
  return s;
}

absl::Status Client::AskGate(const Call& call) {
  Reservation* r = call.reservation;
  if (r != nullptr && r->token_ahead) {
    r->token_ahead = false;
    return absl::OkStatus();
  }
  if (gate_ == nullptr) return absl::OkStatus();
  if (r == nullptr) return gate_->Acquire(call.kind, call.priority);
  const auto start = clock_.Monotonic();
  absl::Status s = gate_->Acquire(call.kind, call.priority);
  r->waited += clock_.Monotonic() - start;
  return s;
}

absl::StatusOr<HttpResponse> Client::Execute(const Call& call) {
  bool reauthenticated = false;
  // The first attempt that was sent and not answered: the call may have been applied.
  std::optional<absl::Status> unanswered;
  auto give_up = [&](absl::Status failure) {
    if (!unanswered || OutcomeUnknown(failure)) return failure;
    return MarkOutcomeUnknown(absl::Status(
        unanswered->code(),
        core::StrCat(unanswered->message(), "; a later attempt: ", failure.message())));
  };
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<Token> token = CurrentToken(call.priority);
    if (!token.ok()) return give_up(token.status());
    if (absl::Status s = AskGate(call); !s.ok()) return give_up(s);
    HttpRequest request;
    request.method = call.method;
    request.url = call.path.rfind("/services/", 0) == 0
                      ? core::StrCat(token->instance_url, call.path)
                      : core::StrCat(token->instance_url, data_path_, call.path);
    request.headers = call.headers;
    request.headers.emplace_back("Authorization", core::StrCat("Bearer ", token->access_token));
    if (!FindHeader(call.headers, "Accept")) {
      request.headers.emplace_back("Accept", "application/json");
    }
    if (!call.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = call.body;
    request.timeout = options_.request_timeout;

    absl::StatusOr<HttpResponse> response = transport_.Send(request);
    absl::Status failure;
    int http_status = 0;
    if (!response.ok()) {
      std::string context = core::StrCat(call.method, " ", PathForMessage(call.path));
      if (WasNotSent(response.status())) {
        core::StrAppend(&context, " (not sent)");
        failure = AnnotateKeepingPayloads(response.status(), context);
      } else {
        if (!call.idempotent) {
          core::StrAppend(&context, " (outcome unknown: it may have been applied)");
        }
        failure = MarkOutcomeUnknown(core::Annotate(response.status(), context));
        if (!unanswered) unanswered = failure;
      }
    } else {
      ObserveLimits(*response);
      if (IsSuccess(response->status)) return response;
      http_status = response->status;
      failure = StatusFromErrorReply(response->status, response->body);
      if (failure.code() == absl::StatusCode::kUnauthenticated && !reauthenticated) {
        // The session expired or was revoked: a new token, and the same attempt again.
        reauthenticated = true;
        InvalidateToken(token->access_token);
        --attempt;
        continue;
      }
    }
    if (!ShouldRetry(call.idempotent, failure, http_status) ||
        !PrepareRetry(call, attempt, failure)) {
      return give_up(failure);
    }
  }
}

absl::StatusOr<std::vector<ApiVersion>> Client::Versions() {
  std::string base;
  {
    std::lock_guard lock(mu_);
    base = token_ ? token_->instance_url : options_.credentials.login_url;
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  Call call;
  call.path = "/services/data/";
  for (int attempt = 1;; ++attempt) {
    HttpRequest request;
    request.url = core::StrCat(base, call.path);
    request.headers = {{"Accept", "application/json"}};
    request.timeout = options_.request_timeout;
    absl::StatusOr<HttpResponse> response = transport_.Send(request);
    absl::Status failure;
    int http_status = 0;
    if (!response.ok()) {
      failure = core::Annotate(response.status(), "GET /services/data/");
    } else if (IsSuccess(response->status)) {
      simdjson::dom::parser parser;
      simdjson::dom::array array;
      if (parser.parse(response->body).get_array().get(array) != simdjson::SUCCESS) {
        return absl::InternalError("malformed versions reply: not a JSON array");
      }
      std::vector<ApiVersion> versions;
      for (simdjson::dom::element e : array) {
        std::string_view version, label, url;
        if (e["version"].get_string().get(version) != simdjson::SUCCESS) continue;
        if (e["label"].get_string().get(label) != simdjson::SUCCESS) label = {};
        if (e["url"].get_string().get(url) != simdjson::SUCCESS) url = {};
        versions.push_back({std::string(version), std::string(label), std::string(url)});
      }
      return versions;
    } else {
      http_status = response->status;
      failure = StatusFromErrorReply(response->status, response->body);
    }
    if (!ShouldRetry(true, failure, http_status) || !PrepareRetry(call, attempt, failure)) {
      return failure;
    }
  }
}

absl::StatusOr<std::vector<SObjectSummary>> Client::DescribeGlobal(Priority priority) {
  Call call = MakeCall(CallKind::kDescribe, priority, "GET", "/sobjects");
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseDescribeGlobal(response->body);
}

absl::StatusOr<SObjectDescribe> Client::Describe(std::string_view object_name, Priority priority) {
  Call call = MakeCall(CallKind::kDescribe, priority, "GET",
                       core::StrCat("/sobjects/", UrlEncode(object_name), "/describe"));
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  absl::StatusOr<SObjectDescribe> describe = ParseDescribe(response->body);
  if (!describe.ok()) return Malformed(describe.status(), core::StrCat("describe ", object_name));
  return describe;
}

absl::StatusOr<QueryPage> Client::RunQuery(std::string_view resource, std::string_view soql,
                                           int batch_size, Priority priority) {
  Call call = MakeCall(CallKind::kQuery, priority, "GET",
                       core::StrCat(resource, "?", EncodeParams({{"q", std::string(soql)}})));
  if (batch_size > 0) {
    call.headers.emplace_back("Sforce-Query-Options", core::StrCat("batchSize=", batch_size));
  }
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseQueryPage(response->body);
}

absl::StatusOr<QueryPage> Client::Query(std::string_view soql, int batch_size, Priority priority) {
  return RunQuery("/query", soql, batch_size, priority);
}

absl::StatusOr<QueryPage> Client::QueryAll(std::string_view soql, int batch_size,
                                           Priority priority) {
  return RunQuery("/queryAll", soql, batch_size, priority);
}

absl::StatusOr<QueryPage> Client::QueryMore(std::string_view next_records_url, Priority priority) {
  if (next_records_url.rfind("/services/data/", 0) != 0 ||
      next_records_url.find("//") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "nextRecordsUrl must be a path under /services/data/ as Salesforce gives it");
  }
  Call call = MakeCall(CallKind::kQueryMore, priority, "GET", std::string(next_records_url));
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseQueryPage(response->body);
}

absl::StatusOr<std::vector<SaveResult>> Client::SendCollection(Call call, size_t count) {
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<HttpResponse> response = Execute(call);
    if (!response.ok()) return response.status();
    absl::StatusOr<std::vector<SaveResult>> results = ParseSaveResults(response->body);
    if (!results.ok()) return results.status();
    if (results->size() != count) {
      return absl::InternalError(core::StrCat("collections reply has ", results->size(),
                                              " results for ", count, " records"));
    }
    // Salesforce reports row locks per record inside a 200 reply. When every record failed on a
    // lock (or was rolled back because of one) nothing was applied, so the call may be sent
    // again, creates included; the last attempt's results are returned as they are.
    std::optional<absl::Status> lock = OnlyLockFailures(*results);
    if (!lock || !PrepareRetry(call, attempt, *lock)) return results;
  }
}

absl::StatusOr<std::vector<SaveResult>> Client::CreateRecords(std::string_view object_type,
                                                              const std::vector<Fields>& records,
                                                              bool all_or_none, Priority priority) {
  if (records.size() > kMaxCollectionRecords) {
    return absl::InvalidArgumentError(core::StrCat("create ", object_type, ": ", records.size(),
                                                   " records, at most ", kMaxCollectionRecords,
                                                   " per collections call"));
  }
  if (records.empty()) return std::vector<SaveResult>();
  Call call = MakeCall(CallKind::kCollections, priority, "POST", "/composite/sobjects");
  call.body = BuildCollectionsBody(object_type, records, all_or_none);
  call.idempotent = false;
  return SendCollection(std::move(call), records.size());
}

absl::StatusOr<std::vector<SaveResult>> Client::UpdateRecords(std::string_view object_type,
                                                              const std::vector<Fields>& records,
                                                              bool all_or_none, Priority priority) {
  if (records.size() > kMaxCollectionRecords) {
    return absl::InvalidArgumentError(core::StrCat("update ", object_type, ": ", records.size(),
                                                   " records, at most ", kMaxCollectionRecords,
                                                   " per collections call"));
  }
  for (size_t i = 0; i < records.size(); ++i) {
    bool has_id = std::any_of(records[i].begin(), records[i].end(), [](const auto& field) {
      return EqualsIgnoreCase(field.first, "Id") && field.second.kind == FieldValue::Kind::kString;
    });
    if (!has_id) {
      return absl::InvalidArgumentError(
          core::StrCat("update ", object_type, ": record ", i, " has no Id"));
    }
  }
  if (records.empty()) return std::vector<SaveResult>();
  Call call = MakeCall(CallKind::kCollections, priority, "PATCH", "/composite/sobjects");
  call.body = BuildCollectionsBody(object_type, records, all_or_none);
  return SendCollection(std::move(call), records.size());
}

absl::StatusOr<std::vector<SaveResult>> Client::DeleteRecords(const std::vector<std::string>& ids,
                                                              bool all_or_none, Priority priority) {
  if (ids.size() > kMaxCollectionRecords) {
    return absl::InvalidArgumentError(core::StrCat("delete: ", ids.size(), " ids, at most ",
                                                   kMaxCollectionRecords, " per collections call"));
  }
  if (ids.empty()) return std::vector<SaveResult>();
  Call call = MakeCall(CallKind::kCollections, priority, "DELETE",
                       core::StrCat("/composite/sobjects?",
                                    EncodeParams({{"ids", core::StrJoin(ids, ",")},
                                                  {"allOrNone", all_or_none ? "true" : "false"}})));
  return SendCollection(std::move(call), ids.size());
}

absl::StatusOr<std::vector<std::optional<Record>>> Client::RetrieveRecords(
    std::string_view object_type, const std::vector<std::string>& ids,
    const std::vector<std::string>& fields, Priority priority) {
  if (ids.size() > kMaxRetrieveIds) {
    return absl::InvalidArgumentError(core::StrCat("retrieve ", object_type, ": ", ids.size(),
                                                   " ids, at most ", kMaxRetrieveIds));
  }
  if (fields.empty()) {
    return absl::InvalidArgumentError(core::StrCat("retrieve ", object_type, ": no fields"));
  }
  if (ids.empty()) return std::vector<std::optional<Record>>();
  Call call = MakeCall(CallKind::kCollections, priority, "GET",
                       core::StrCat("/composite/sobjects/", UrlEncode(object_type), "?",
                                    EncodeParams({{"ids", core::StrJoin(ids, ",")},
                                                  {"fields", core::StrJoin(fields, ",")}})));
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseRecordArray(response->body);
}

absl::StatusOr<std::vector<CompositeSubresponse>> Client::Composite(
    const std::vector<CompositeSubrequest>& subrequests, bool all_or_none, Priority priority,
    Reservation* reservation) {
  if (subrequests.size() > kMaxCompositeSubrequests) {
    return absl::InvalidArgumentError(core::StrCat(
        "composite: ", subrequests.size(), " subrequests, at most ", kMaxCompositeSubrequests));
  }
  if (subrequests.empty()) return std::vector<CompositeSubresponse>();
  // A PATCH or DELETE sent twice is not always the same as once (a delete retried after a
  // dropped attempt that was applied answers ENTITY_IS_DELETED): any write makes it unsafe.
  const bool idempotent =
      std::all_of(subrequests.begin(), subrequests.end(),
                  [](const CompositeSubrequest& s) { return EqualsIgnoreCase(s.method, "GET"); });
  Call call = MakeCall(CallKind::kComposite, priority, "POST", "/composite");
  call.body = BuildCompositeBody(subrequests, all_or_none, data_path_);
  call.idempotent = idempotent;
  call.reservation = reservation;
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  // A 2xx reply that cannot be read says nothing of what was applied.
  absl::StatusOr<std::vector<CompositeSubresponse>> results =
      ParseCompositeResponse(response->body);
  if (!results.ok()) return MarkOutcomeUnknown(results.status());
  if (results->size() != subrequests.size()) {
    return MarkOutcomeUnknown(
        absl::InternalError(core::StrCat("composite reply has ", results->size(), " results for ",
                                         subrequests.size(), " subrequests")));
  }
  return results;
}

absl::StatusOr<std::map<std::string, LimitValue>> Client::Limits(Priority priority) {
  Call call = MakeCall(CallKind::kLimits, priority, "GET", "/limits");
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseLimits(response->body);
}

absl::StatusOr<DeletedRecords> Client::GetDeleted(std::string_view object_type,
                                                  core::Clock::WallTime start,
                                                  core::Clock::WallTime end, Priority priority) {
  Call call = MakeCall(CallKind::kGetDeleted, priority, "GET",
                       core::StrCat("/sobjects/", UrlEncode(object_type), "/deleted/?",
                                    EncodeParams({{"start", FormatReplicationTime(start)},
                                                  {"end", FormatReplicationTime(end)}})));
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseDeletedRecords(response->body);
}

absl::StatusOr<UpdatedRecords> Client::GetUpdated(std::string_view object_type,
                                                  core::Clock::WallTime start,
                                                  core::Clock::WallTime end, Priority priority) {
  Call call = MakeCall(CallKind::kGetUpdated, priority, "GET",
                       core::StrCat("/sobjects/", UrlEncode(object_type), "/updated/?",
                                    EncodeParams({{"start", FormatReplicationTime(start)},
                                                  {"end", FormatReplicationTime(end)}})));
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseUpdatedRecords(response->body);
}

}  // namespace sfbridge::salesforce
