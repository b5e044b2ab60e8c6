#pragma once

// sfsim's REST API: every route of Salesforce's REST API that sfbridge uses, answered the way
// Salesforce answers (paths, status codes, JSON shapes, error codes, Sforce-Limit-Info).
//
// Bulk API 2.0 query jobs (jobs/query) are answered here too; see bulk_jobs.h.
//
// Every call under /services/data/vXX.X/ is authenticated (401 INVALID_SESSION_ID), counted
// against DailyApiRequests (403 REQUEST_LIMIT_EXCEEDED when spent), and subject to the
// configured faults. Handle() is thread-safe and may block for modelled latency.

#include <string>
#include <string_view>
#include <vector>

#include "common/core/clock.h"
#include "sfsim/api_limits.h"
#include "sfsim/bulk_jobs.h"
#include "sfsim/faults.h"
#include "sfsim/http/http_types.h"
#include "sfsim/oauth/auth_server.h"
#include "sfsim/org/org.h"
#include "sfsim/query_cursors.h"

namespace sfbridge::sfsim {

struct RestApiOptions {
  std::vector<std::string> versions = {"57.0", "58.0", "59.0", "60.0"};
  int default_batch_size = 2000;
};

class RestApi {
 public:
  // Every reference must outlive the RestApi.
  RestApi(org::Org& org, oauth::AuthServer& auth, ApiLimits& limits, Faults& faults,
          QueryCursors& cursors, BulkQueryJobs& bulk, core::Clock& clock,
          RestApiOptions options = {});

  Response Handle(const Request& request);

  struct Call;  // one request being answered; defined in rest_calls.h

 private:
  Response Route(Call& call);
  Response Versions() const;
  // The object a describe or query call is about; empty for other calls.
  static std::string ObjectOfCall(const Call& call);
  Response Query(Call& call, bool include_deleted);
  Response QueryMore(Call& call, std::string_view locator_and_offset);
  Response Page(Call& call, const std::string& locator,
                const std::shared_ptr<const org::QueryResult>& result, size_t offset, size_t batch);
  Response SObjects(Call& call, std::string_view rest);
  Response Collections(Call& call, std::string_view rest);
  Response CollectionsUpsert(Call& call, std::string_view object, std::string_view field);
  Response Composite(Call& call);
  Response Limits(Call& call);
  Response Replication(Call& call, const org::ObjectDef& object, bool deleted);
  // Bulk API 2.0 query jobs (rest_bulk.cpp); `rest` is what follows "jobs/query".
  Response BulkQuery(Call& call, std::string_view rest);
  Response BulkList(Call& call);
  Response BulkResults(Call& call, std::string_view id);

  org::Org& org_;
  oauth::AuthServer& auth_;
  ApiLimits& limits_;
  Faults& faults_;
  QueryCursors& cursors_;
  BulkQueryJobs& bulk_;
  core::Clock& clock_;
  RestApiOptions options_;
};

}  // namespace sfbridge::sfsim
