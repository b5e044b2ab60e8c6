#pragma once

// The Salesforce REST API client used by the fetcher (describe, queries, getUpdated/getDeleted,
// limits) and by the write-back proxy (sObject Collections, Composite).
//
// Every request:
//   - authenticates lazily (the first call fetches a token; Credentials pick the OAuth flow);
//   - asks the RequestGate first, when one is given (CallKind says which call, Priority who
//     waits); a gate error is returned as is and nothing is sent. A call given a Reservation
//     (request_gate.h) spends the token it holds instead of asking, and adds its time in the
//     gate to it;
//   - on 401 INVALID_SESSION_ID re-authenticates once and sends again;
//   - retries failures that may pass (network failures, timeouts, 5xx, UNABLE_TO_LOCK_ROW) up to
//     max_attempts times in all, sleeping through the Clock with exponential backoff and full
//     jitter: attempt n waits uniform[0, min(max_backoff, initial_backoff * 2^(n-1))]. Requests
//     that are not idempotent (a collections create, a composite request with any write) are
//     retried only when nothing can have been applied: the reply said so (503,
//     UNABLE_TO_LOCK_ROW) or the request was never sent (the transport's MarkNotSent: connection
//     refused, DNS or TLS failure). A
//     collections reply whose every record failed on UNABLE_TO_LOCK_ROW (or was rolled back
//     because of one) is retried the same way; after the last attempt its results are returned;
//   - marks with OutcomeUnknown a failure after which the request may have been applied: an
//     attempt was sent and no answer came (connection dropped, timeout), or a 2xx reply could
//     not be read. The mark sticks: when a later attempt is answered with an error (a 503
//     after a dropped attempt), the call's error is still marked, since the dropped attempt may
//     have been applied. A failure not so marked means Salesforce applied nothing of the call;
//   - never retries a permanent failure (MALFORMED_QUERY, REQUIRED_FIELD_MISSING, ...);
//   - reads Sforce-Limit-Info from the reply, keeps it (last_limit_info()) and passes it to the
//     gate's Observe.
// Salesforce's errors come back as statuses carrying an ApiError (api_error.h); the status code
// says whether retrying later may help (core::IsRetryable). No secret (password, client secret,
// private key, token) ever appears in a returned status or a log line.
//
// Thread-safe: calls may be made from several threads at once. The transport, clock and gate
// are not owned and must outlive the Client.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/salesforce/auth.h"
#include "common/salesforce/collections.h"
#include "common/salesforce/describe.h"
#include "common/salesforce/http_transport.h"
#include "common/salesforce/json_records.h"
#include "common/salesforce/limit_info.h"
#include "common/salesforce/replication.h"
#include "common/salesforce/request_gate.h"

namespace sfbridge::salesforce {

inline constexpr char kOutcomeUnknownPayloadUrl[] = "type.sfbridge/salesforce.OutcomeUnknown";

// Whether a failed call may nonetheless have been applied by Salesforce (see above).
bool OutcomeUnknown(const absl::Status& status);
// `status` (not OK) marked so, payloads kept.
absl::Status MarkOutcomeUnknown(absl::Status status);

struct ClientOptions {
  Credentials credentials;
  std::string api_version = "59.0";  // without the "v"
  int max_attempts = 5;              // per call, the first one included
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  std::chrono::milliseconds auth_timeout{30'000};      // per token request
  std::chrono::milliseconds request_timeout{120'000};  // per API request
  // Seeds the backoff jitter; nullopt seeds from std::random_device. Tests fix it.
  std::optional<uint64_t> jitter_seed;
};

struct ApiVersion {
  std::string version;  // "59.0"
  std::string label;    // "Winter '24"
  std::string url;      // "/services/data/v59.0"
};

class Client {
 public:
  Client(ClientOptions options, HttpTransport& transport, core::Clock& clock,
         RequestGate* gate = nullptr);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Fetches a new token now (at start-up, to fail fast on bad credentials). Errors as in
  // ParseTokenReply, with the credentials described (secrets masked).
  absl::Status Authenticate(Priority priority = Priority::kNormal);
  // The org id of the current token, authenticating first if there is none.
  absl::StatusOr<std::string> OrgId();

  // GET /services/data/ (no authentication, no API call, not gated): on the instance once
  // authenticated, else on the login host.
  absl::StatusOr<std::vector<ApiVersion>> Versions();

  absl::StatusOr<std::vector<SObjectSummary>> DescribeGlobal(Priority priority = Priority::kNormal);
  absl::StatusOr<SObjectDescribe> Describe(std::string_view object_name,
                                           Priority priority = Priority::kNormal);

  // GET /query (or /queryAll, which includes deleted and archived rows) ?q=<soql>.
  // `batch_size` > 0 asks for pages of that size (Sforce-Query-Options: batchSize=N; a hint
  // Salesforce honours between 200 and 2000); 0 leaves Salesforce's default (2000).
  absl::StatusOr<QueryPage> Query(std::string_view soql, int batch_size = 0,
                                  Priority priority = Priority::kNormal);
  absl::StatusOr<QueryPage> QueryAll(std::string_view soql, int batch_size = 0,
                                     Priority priority = Priority::kNormal);
  // The next page: GET {next_records_url}. The URL must be a path under /services/data/ (as
  // Salesforce gives it), else kInvalidArgument: the token is never sent elsewhere.
  absl::StatusOr<QueryPage> QueryMore(std::string_view next_records_url,
                                      Priority priority = Priority::kNormal);

  // sObject Collections: one API call for up to 200 records; more is kInvalidArgument before
  // anything is sent. Results come one per input record, in order; a record that Salesforce
  // refused is a SaveResult with success=false (the call itself is OK). Writes default to
  // Priority::kHigh: someone is waiting for them.
  absl::StatusOr<std::vector<SaveResult>> CreateRecords(std::string_view object_type,
                                                        const std::vector<Fields>& records,
                                                        bool all_or_none,
                                                        Priority priority = Priority::kHigh);
  // Each record must carry its "Id" field (kInvalidArgument otherwise).
  absl::StatusOr<std::vector<SaveResult>> UpdateRecords(std::string_view object_type,
                                                        const std::vector<Fields>& records,
                                                        bool all_or_none,
                                                        Priority priority = Priority::kHigh);
  absl::StatusOr<std::vector<SaveResult>> DeleteRecords(const std::vector<std::string>& ids,
                                                        bool all_or_none,
                                                        Priority priority = Priority::kHigh);
  // GET /composite/sobjects/{object}?ids=...&fields=...; nullopt for an id that matched no
  // record. At most 800 ids (URL length).
  absl::StatusOr<std::vector<std::optional<Record>>> RetrieveRecords(
      std::string_view object_type, const std::vector<std::string>& ids,
      const std::vector<std::string>& fields, Priority priority = Priority::kNormal);

  // POST /composite: up to 25 subrequests in one API call (more is kInvalidArgument). One
  // result per subrequest, in order; a failed subrequest is a result with its HTTP status.
  // Not idempotent when any subrequest writes (a method other than GET). `reservation` (may
  // be null, not owned): see Reservation.
  absl::StatusOr<std::vector<CompositeSubresponse>> Composite(
      const std::vector<CompositeSubrequest>& subrequests, bool all_or_none,
      Priority priority = Priority::kHigh, Reservation* reservation = nullptr);

  // Asks the gate now, waiting as it does, for the permission of the next call made with
  // `reservation`, and on OK leaves it holding that permission (token_ahead). A reservation
  // that already holds one is not asked for another. Without a gate: OK, nothing held.
  absl::Status Reserve(CallKind kind, Priority priority, Reservation& reservation);

  // GET /limits: "DailyApiRequests" -> {max, remaining}, ...
  absl::StatusOr<std::map<std::string, LimitValue>> Limits(Priority priority = Priority::kNormal);

  // GET /sobjects/{object}/deleted/ and /updated/ over [start, end] (minute granularity).
  absl::StatusOr<DeletedRecords> GetDeleted(std::string_view object_type,
                                            core::Clock::WallTime start, core::Clock::WallTime end,
                                            Priority priority = Priority::kNormal);
  absl::StatusOr<UpdatedRecords> GetUpdated(std::string_view object_type,
                                            core::Clock::WallTime start, core::Clock::WallTime end,
                                            Priority priority = Priority::kNormal);

  // The org's usage from the latest reply that carried Sforce-Limit-Info.
  std::optional<LimitInfo> last_limit_info() const;

  // "/services/data/v59.0".
  const std::string& data_path() const { return data_path_; }

 private:
  friend class BulkQuery;  // bulk_query.h: its calls go through Execute like every other

  struct Call {
    CallKind kind = CallKind::kSObject;
    Priority priority = Priority::kNormal;
    std::string method = "GET";
    std::string path;  // under data_path_, or absolute when it starts with /services/
    HttpHeaders headers;
    std::string body;
    bool idempotent = true;
    Reservation* reservation = nullptr;  // not owned; null: none
    // Not owned; null: the reply's body is read whole. Else a 2xx body goes to it as it
    // arrives (Begin again on each attempt), and its refusal ends the call without a retry.
    HttpBodySink* body_sink = nullptr;
  };

  static Call MakeCall(CallKind kind, Priority priority, std::string method, std::string path);
  // Sends `call` as described at the top of this file; a 2xx reply is returned.
  absl::StatusOr<HttpResponse> Execute(const Call& call);
  // The gate's answer for one request of `call` that costs an API call (see Reservation).
  absl::Status AskGate(const Call& call);
  // The current token, fetched first if there is none.
  absl::StatusOr<Token> CurrentToken(Priority priority);
  // Forgets the token if it still is `access_token` (another thread may have renewed it).
  void InvalidateToken(const std::string& access_token);
  absl::StatusOr<Token> FetchToken(Priority priority);
  absl::StatusOr<QueryPage> RunQuery(std::string_view resource, std::string_view soql,
                                     int batch_size, Priority priority);
  absl::StatusOr<std::vector<SaveResult>> SendCollection(Call call, size_t count);
  void ObserveLimits(const HttpResponse& response);
  std::chrono::nanoseconds Backoff(int attempt);
  // Logs and sleeps before attempt `attempt + 1`; false when no attempt is left.
  bool PrepareRetry(const Call& call, int attempt, const absl::Status& failure);

  const ClientOptions options_;
  const std::string data_path_;
  HttpTransport& transport_;
  core::Clock& clock_;
  RequestGate* const gate_;

  std::mutex auth_mu_;  // serializes token requests; taken before mu_, never inside it
  mutable std::mutex mu_;
  std::optional<Token> token_;                // guarded by mu_
  std::optional<LimitInfo> last_limit_info_;  // guarded by mu_
  std::mt19937_64 rng_;                       // guarded by mu_
};

}  // namespace sfbridge::salesforce
