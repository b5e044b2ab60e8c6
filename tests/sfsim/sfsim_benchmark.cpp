// How fast sfsim serves query pages, as a ratio of what its HTTP stack can carry at all.
//
// Both sides run in this process on loopback with one client connection:
//   sfsim     — every page of SELECT <all fields> FROM Contact, 2,000 records a page, through
//               OAuth, limits, the SOQL engine, the query locator and JSON serialization;
//   baseline  — the same HTTP server handing back one pre-built page of the same bytes.
// Prints records/s for each (median of 3 runs) and sfsim ÷ baseline.
//
// Then Bulk API 2.0: one query job over the same records and fields (FIELDS() is refused by Bulk
// queries, so the fields are listed), its CSV results pulled in pages of 50,000 (the page size
// simple-salesforce asks for), plain and gzip, compared with
//   REST pages — the sfsim query pages above, records/s through the same client;
//   bare CSV   — the same pages rendered in-process by BulkQueryJobs, without HTTP.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "Poco/Net/HTTPClientSession.h"
#include "Poco/Net/HTTPRequest.h"
#include "Poco/Net/HTTPResponse.h"
#include "Poco/StreamCopier.h"
#include "Poco/URI.h"
#include "common/core/clock.h"
#include "sfsim/body_json.h"
#include "sfsim/http/server.h"
#include "sfsim/simulator.h"

namespace {

using namespace sfbridge;

struct Http {
  explicit Http(const std::string& base) {
    Poco::URI uri(base);
    session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    session->setKeepAlive(true);
  }
  std::string Send(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& token, const std::string& content_type) {
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setKeepAlive(true);
    if (!token.empty()) req.set("Authorization", "Bearer " + token);
    req.set("Sforce-Query-Options", "batchSize=2000");
    if (!body.empty()) {
      req.setContentType(content_type);
      req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    for (const auto& [name, value] : extra_headers) req.set(name, value);
    session->sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session->receiveResponse(resp);
    headers.clear();
    for (const auto& [name, value] : resp) headers[name] = value;
    std::string out;
    Poco::StreamCopier::copyToString(in, out);
    return out;
  }
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  std::map<std::string, std::string> extra_headers;  // sent with every request
  std::map<std::string, std::string> headers;        // of the last response
};

std::string Encode(const std::string& s) {
  std::string out;
  Poco::URI::encode(s, "&=+?#", out);
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Bulk API 2.0 results of one job over the same records, against `rest_rate` (records/s of the
// REST pages measured before) and against rendering the same pages without HTTP.
int BulkResults(sfsim::Simulator& sim, Http& http, const std::string& token, int64_t records,
                double rest_rate) {
  std::string fields;
  for (const auto& f : sim.org().FindObject("Contact")->fields) {
    if (f.custom || f.type == "address" || f.type == "location") continue;
    fields += (fields.empty() ? "" : ", ") + f.name;
  }
  std::string created =
      http.Send("POST", "/services/data/v59.0/jobs/query",
                R"({"operation":"query","query":"SELECT )" + fields + R"( FROM Contact"})", token,
                "application/json");
  const std::string id = sfsim::JsonMemberText(created, "id");
  if (id.empty()) {
    fprintf(stderr, "bulk job not created: %s\n", created.c_str());
    return 1;
  }
  auto create_start = std::chrono::steady_clock::now();
  while (sfsim::JsonMemberText(
             http.Send("GET", "/services/data/v59.0/jobs/query/" + id, "", token, ""), "state") !=
         "JobComplete") {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  double complete_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - create_start).count();
  constexpr int64_t kPage = 50'000;
  size_t page_bytes = 0;
  auto run_http = [&](bool gzip) {
    http.extra_headers.clear();
    if (gzip) http.extra_headers["Accept-Encoding"] = "gzip";
    auto start = std::chrono::steady_clock::now();
    int64_t fetched = 0;
    std::string locator;
    do {
      std::string path =
          "/services/data/v59.0/jobs/query/" + id + "/results?maxRecords=" + std::to_string(kPage);
      if (!locator.empty()) path += "&locator=" + locator;
      std::string page = http.Send("GET", path, "", token, "");
      if (!gzip) page_bytes = std::max(page_bytes, page.size());
      fetched += std::atoll(http.headers["Sforce-NumberOfRecords"].c_str());
      locator = http.headers["Sforce-Locator"];
    } while (locator != "null" && !locator.empty());
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (fetched != records)
      fprintf(stderr, "bulk fetched %lld of %lld\n", (long long)fetched, (long long)records);
    http.extra_headers.clear();
    return fetched / s;
  };
  auto run_bare = [&] {
    auto start = std::chrono::steady_clock::now();
    int64_t fetched = 0;
    std::string locator;
    do {
      auto page = sim.bulk().Results(id, "59.0", locator, kPage);
      if (!std::holds_alternative<sfsim::ResultPage>(page)) return 0.0;
      fetched += std::get<sfsim::ResultPage>(page).records;
      locator = std::get<sfsim::ResultPage>(page).next_locator;
    } while (locator != "null");
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return fetched / s;
  };
  std::vector<double> plain, gzip, bare;
  for (int i = 0; i < 3; ++i) {
    plain.push_back(run_http(false));
    gzip.push_back(run_http(true));
    bare.push_back(run_bare());
  }
  double p = Median(plain), g = Median(gzip), r = Median(bare);
  printf(
      "\nsfsim Bulk API 2.0 query results: %lld records, %lld/page, %zu bytes/page (CSV); "
      "job created and complete in %.2f s\n",
      (long long)records, (long long)kPage, page_bytes, complete_s);
  printf("  bulk csv   %10.0f records/s (median of 3)\n", p);
  printf("  bulk gzip  %10.0f records/s\n", g);
  printf("  bare csv   %10.0f records/s (same pages rendered in-process, no HTTP)\n", r);
  printf("  ratio bulk csv / REST pages  %6.2f\n", p / rest_rate);
  printf("  ratio bulk gzip / REST pages %6.2f\n", g / rest_rate);
  printf("  ratio bulk csv / bare csv    %6.2f\n", p / r);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t records = argc > 1 ? std::atoll(argv[1]) : 100'000;
  sfsim::SimulatorOptions options;
  options.org.seed = 3;
  options.org.counts = {{"User", 10}, {"Account", 1000}, {"Contact", records}};
  options.oauth.client_id = "bench";
  options.oauth.client_secret = "bench-secret";
  options.oauth.username = "bench@sfsim";
  options.oauth.password = "pw";
  // Processing time is simulated; what is measured here is how fast results come out.
  options.bulk.records_per_second = 1e12;
  auto sim = sfsim::Simulator::Start(options, core::SystemClock::Instance());
  if (!sim.ok()) {
    fprintf(stderr, "%s\n", std::string(sim.status().message()).c_str());
    return 1;
  }
  Http http((*sim)->base_url());
  std::string token_reply = http.Send("POST", "/services/oauth2/token",
                                      "grant_type=password&client_id=bench&client_secret=bench-"
                                      "secret&username=bench%40sfsim&password=pw",
                                      "", "application/x-www-form-urlencoded");
  std::string token = sfsim::JsonMemberText(token_reply, "access_token");
  std::string soql = "SELECT FIELDS(STANDARD) FROM Contact";
  // FIELDS(STANDARD) needs no LIMIT; it selects every standard field, as a backfill would.
  std::string first_path = "/services/data/v59.0/query?q=" + Encode(soql);

  std::string sample_page;
  auto run_sfsim = [&] {
    auto start = std::chrono::steady_clock::now();
    int64_t fetched = 0;
    std::string path = first_path;
    while (!path.empty()) {
      std::string page = http.Send("GET", path, "", token, "");
      if (sample_page.empty()) sample_page = page;
      size_t n = 0, pos = 0;
      while ((pos = page.find("\"attributes\"", pos)) != std::string::npos) ++n, ++pos;
      fetched += static_cast<int64_t>(n);
      path = sfsim::JsonMemberText(page, "nextRecordsUrl");
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (fetched != records)
      fprintf(stderr, "fetched %lld of %lld\n", (long long)fetched, (long long)records);
    return fetched / s;
  };
  std::vector<double> sfsim_rates;
  for (int i = 0; i < 3; ++i) sfsim_rates.push_back(run_sfsim());

  sfsim::Server baseline({}, [&](const sfsim::Request&) {
    sfsim::Response r;
    r.body = sample_page;
    return r;
  });
  auto port = baseline.Start();
  if (!port.ok()) return 1;
  Http raw(baseline.BaseUrl());
  auto run_baseline = [&] {
    int64_t pages = (records + 1999) / 2000;
    auto start = std::chrono::steady_clock::now();
    for (int64_t p = 0; p < pages; ++p) raw.Send("GET", "/page", "", "", "");
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return pages * 2000 / s;
  };
  std::vector<double> base_rates;
  for (int i = 0; i < 3; ++i) base_rates.push_back(run_baseline());

  double a = Median(sfsim_rates), b = Median(base_rates);
  printf("sfsim query pages: %lld records, 2000/page, %zu bytes/page\n", (long long)records,
         sample_page.size());
  printf("  sfsim     %10.0f records/s (median of 3)\n", a);
  printf("  baseline  %10.0f records/s (same bytes, same HTTP stack, no work)\n", b);
  printf("  ratio     %10.2f  (target: sfsim >= 20000 records/s: %s)\n", a / b,
         a >= 20000 ? "met" : "NOT met");
  return BulkResults(**sim, http, token, records, a);
}
