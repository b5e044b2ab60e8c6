#include "common/salesforce/client.h"

#include <simdjson.h>

#include <algorithm>
#include <optional>

#include "absl/strings/cord.h"
#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/salesforce/api_error.h"
#include "common/salesforce/url_encoding.h"

namespace sfbridge::salesforce {
namespace {

bool IsSuccess(int http_status) { return http_status >= 200 && http_status < 300; }

// The part of a path that is safe and useful in a message: without its query string.
std::string_view PathForMessage(std::string_view path) { return path.substr(0, path.find('?')); }

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
    request.body_sink = call.body_sink;

    absl::StatusOr<HttpResponse> response = transport_.Send(request);
    absl::Status failure;
    int http_status = 0;
    if (response.ok() && call.body_sink != nullptr && IsSuccess(response->status)) {
      if (!response->body_streamed) response->sink_error = FeedBodySink(*response, *call.body_sink);
      if (!response->sink_error.ok()) {
        ObserveLimits(*response);
        return response->sink_error;
      }
      if (!call.body_sink->Whole()) {
        ObserveLimits(*response);
        response = absl::UnavailableError("the reply's body ended before all it announced");
      }
    }
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

}  // namespace sfbridge::salesforce
