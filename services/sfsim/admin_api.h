#pragma once

// sfsim's test-only admin API under /__sfsim/, off unless enabled. It is not Salesforce: it lets
// tests and benchmarks look inside the org and change it without spending API calls.
//
//   GET    /__sfsim/stats                     API usage, calls by kind, open query locators
//   POST   /__sfsim/stats/reset               zero the calls-by-kind counters
//   GET    /__sfsim/digest/{Object}           {"count":N,"records":{"Id":SystemModstampMs,...}}
//                                             (?includeDeleted=true adds the recycle bin)
//   POST   /__sfsim/records/{Object}          create directly (body: a record)
//   PATCH  /__sfsim/records/{Object}/{Id}     update directly
//   DELETE /__sfsim/records/{Id}              delete directly (to the recycle bin)
//   POST   /__sfsim/purge[?object=Name]       empty the recycle bin (hard deletes)
//   POST   /__sfsim/fields/{Object}           add a custom field now (body: {"name":"X__c",
//                                             "type":"string|double|currency|boolean|int|date|
//                                             datetime","label":"X","length":80}); existing
//                                             records hold null in it
//   GET    /__sfsim/stats                     also "tokenRequests": OAuth token requests
//   GET    /__sfsim/faults, POST /__sfsim/faults   read or change fault settings (JSON)
//   POST   /__sfsim/revoke-tokens             every issued token stops working
//   POST   /__sfsim/limits                    {"max":N,"used":N}
//   POST   /__sfsim/churn                     {"changes":N,"burst":B}: one churn step now;
//                                             {"perSecond":R,"burst":B}: change the live rate
//   GET    /__sfsim/bulk, POST /__sfsim/bulk  Bulk API 2.0 query jobs: {"recordsPerSecond":R,
//                                             "dailyMax":N,"dailyUsed":N,"failNext":N,
//                                             "cutResults":N,"failingObjects":[...],
//                                             "refusedFields":[...],"errorMessage":"..."};
//                                             members left out keep their value
//   POST   /__sfsim/bulk/fail/{jobId}         fail a job now (body: {"errorMessage":"..."})

#include "sfsim/api_limits.h"
#include "sfsim/bulk_jobs.h"
#include "sfsim/churn.h"
#include "sfsim/faults.h"
#include "sfsim/http/http_types.h"
#include "sfsim/oauth/auth_server.h"
#include "sfsim/org/org.h"
#include "sfsim/query_cursors.h"

namespace sfbridge::sfsim {

inline constexpr std::string_view kAdminPrefix = "/__sfsim/";

class AdminApi {
 public:
  AdminApi(org::Org& org, oauth::AuthServer& auth, ApiLimits& limits, Faults& faults,
           QueryCursors& cursors, Churn& churn, BulkQueryJobs& bulk)
      : org_(org),
        auth_(auth),
        limits_(limits),
        faults_(faults),
        cursors_(cursors),
        churn_(churn),
        bulk_(bulk) {}

  // For a path under kAdminPrefix. Thread-safe.
  Response Handle(const Request& request);

 private:
  org::Org& org_;
  oauth::AuthServer& auth_;
  ApiLimits& limits_;
  Faults& faults_;
  QueryCursors& cursors_;
  Churn& churn_;
  BulkQueryJobs& bulk_;
};

}  // namespace sfbridge::sfsim
