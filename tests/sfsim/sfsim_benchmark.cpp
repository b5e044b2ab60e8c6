// How fast sfsim serves query pages, as a ratio of what its HTTP stack can carry at all.
//
// Both sides run in this process on loopback with one client connection:
//   sfsim     — every page of SELECT <all fields> FROM Contact, 2,000 records a page, through
//               OAuth, limits, the SOQL engine, the query locator and JSON serialization;
//   baseline  — the same HTTP server handing back one pre-built page of the same bytes.
// Prints records/s for each (median of 3 runs) and sfsim ÷ baseline.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
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
    session->sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session->receiveResponse(resp);
    std::string out;
    Poco::StreamCopier::copyToString(in, out);
    return out;
  }
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
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
  return 0;
}
