// Bulk API 2.0 query jobs through sfsim's real HTTP server (loopback, port 0), as a client sees
// them on the wire: status lines, headers, gzip bodies and dropped connections.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "Poco/Net/HTTPClientSession.h"
#include "Poco/Net/HTTPRequest.h"
#include "Poco/Net/HTTPResponse.h"
#include "Poco/StreamCopier.h"
#include "Poco/URI.h"
#include "sfsim/body_json.h"
#include "sfsim/gzip.h"
#include "sfsim/simulator.h"
#include "tests/fakes/fake_clock.h"

namespace sfbridge::sfsim {
namespace {

using ::testing::HasSubstr;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

class BulkHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimulatorOptions options;
    options.org.seed = 5;
    options.org.counts = {{"User", 3}, {"Account", 10}, {"Contact", 3000}};
    options.oauth.client_id = "cid";
    options.oauth.client_secret = "secret";
    options.oauth.username = "u@x";
    options.oauth.password = "pw";
    options.bulk.records_per_second = 1000;
    auto sim = Simulator::Start(options, clock_);
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = std::move(*sim);
    Poco::URI uri(sim_->base_url());
    session_ = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    Reply token = Send("POST", "/services/oauth2/token",
                       "grant_type=password&client_id=cid&client_secret=secret&username=u%40x"
                       "&password=pw",
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(token.status, 200) << token.body;
    token_ = JsonMemberText(token.body, "access_token");
  }

  Reply Send(const std::string& method, const std::string& path, const std::string& body = "",
             std::map<std::string, std::string> headers = {}) {
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token_.empty()) request.set("Authorization", "Bearer " + token_);
    if (!headers.contains("Content-Type")) headers["Content-Type"] = "application/json";
    for (const auto& [name, value] : headers) request.set(name, value);
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session_->sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session_->receiveResponse(response);
    Reply reply;
    reply.status = response.getStatus();
    for (const auto& [name, value] : response) reply.headers[name] = value;
    Poco::StreamCopier::copyToString(in, reply.body);
    return reply;
  }

  // A completed job over every Contact, with pages of `max_records`; its id.
  std::string CompletedJob() {
    Reply created = Send("POST", "/services/data/v59.0/jobs/query",
                         R"({"operation":"query","query":"SELECT Id, LastName FROM Contact"})");
    EXPECT_EQ(created.status, 200) << created.body;
    clock_.Advance(std::chrono::seconds(10));
    return JsonMemberText(created.body, "id");
  }

  testing::FakeClock clock_;
  std::unique_ptr<Simulator> sim_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  std::string token_;
};

TEST_F(BulkHttpTest, AJobFromCreationToItsLastGzippedPage) {
  Reply created = Send("POST", "/services/data/v59.0/jobs/query",
                       R"({"operation":"query","query":"SELECT Id, LastName FROM Contact"})");
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = JsonMemberText(created.body, "id");
  EXPECT_THAT(created.headers["Sforce-Limit-Info"], HasSubstr("api-usage="));

  Reply early = Send("GET", "/services/data/v59.0/jobs/query/" + id + "/results");
  EXPECT_EQ(early.status, 412);
  EXPECT_THAT(early.body, HasSubstr("JOB_NOT_COMPLETE"));

  clock_.Advance(std::chrono::seconds(10));
  EXPECT_THAT(Send("GET", "/services/data/v59.0/jobs/query/" + id).body,
              HasSubstr(R"("state":"JobComplete")"));
  std::string locator;
  int64_t records = 0;
  int pages = 0;
  do {
    std::string path = "/services/data/v59.0/jobs/query/" + id + "/results?maxRecords=1000";
    if (!locator.empty()) path += "&locator=" + locator;
    Reply page = Send("GET", path, "", {{"Accept-Encoding", "gzip"}});
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(page.headers["Content-Encoding"], "gzip");
    EXPECT_THAT(page.headers["Content-Type"], HasSubstr("text/csv"));
    const std::string csv = GzipDecompress(page.body);
    ASSERT_FALSE(csv.empty());
    EXPECT_EQ(csv.substr(0, 12), "Id,LastName\n");
    const int64_t rows = std::count(csv.begin(), csv.end(), '\n') - 1;
    EXPECT_EQ(std::to_string(rows), page.headers["Sforce-NumberOfRecords"]);
    records += rows;
    locator = page.headers["Sforce-Locator"];
    ASSERT_LT(++pages, 10);
  } while (locator != "null");
  EXPECT_EQ(records, 3000);
  EXPECT_EQ(pages, 3);

  Reply deleted = Send("DELETE", "/services/data/v59.0/jobs/query/" + id);
  EXPECT_EQ(deleted.status, 204);
}

TEST_F(BulkHttpTest, ADroppedConnectionReachesTheClient) {
  sim_->faults().Set({.drop_rate = 1});
  EXPECT_ANY_THROW(Send("GET", "/services/data/v59.0/jobs/query"));
  sim_->faults().Set({});
  session_->reset();
  EXPECT_EQ(Send("GET", "/services/data/v59.0/jobs/query").status, 200);
}

TEST_F(BulkHttpTest, CutResultsBreakOffAPageHalfwayAndTheSamePageComesWholeAfter) {
  const std::string page =
      "/services/data/v59.0/jobs/query/" + CompletedJob() + "/results?maxRecords=1000";
  BulkFaults faults = sim_->bulk().faults();
  faults.cut_results = 1;
  sim_->bulk().set_faults(faults);
  Reply cut = Send("GET", page);
  EXPECT_EQ(cut.status, 200);
  const size_t length = std::stoul(cut.headers["Content-Length"]);
  EXPECT_EQ(cut.body.size(), length / 2) << "the head says the whole body's length";
  EXPECT_EQ(sim_->bulk().faults().cut_results, 0);
  session_->reset();
  Reply whole = Send("GET", page);
  EXPECT_EQ(whole.body.size(), length);
  EXPECT_EQ(whole.body.substr(0, cut.body.size()), cut.body);
  EXPECT_EQ(whole.headers["Sforce-NumberOfRecords"], "1000");
}

TEST_F(BulkHttpTest, TheCutRateBreaksOffAnyReplyWithABody) {
  const std::string id = CompletedJob();
  sim_->faults().Set({.cut_rate = 1});
  Reply info = Send("GET", "/services/data/v59.0/jobs/query/" + id);
  EXPECT_EQ(info.status, 200);
  EXPECT_EQ(info.body.size(), std::stoul(info.headers["Content-Length"]) / 2);
  sim_->faults().Set({});
  session_->reset();
  Reply whole = Send("GET", "/services/data/v59.0/jobs/query/" + id);
  EXPECT_EQ(whole.body.size(), std::stoul(whole.headers["Content-Length"]));
  EXPECT_THAT(whole.body, HasSubstr(R"("state":"JobComplete")"));
}

}  // namespace
}  // namespace sfbridge::sfsim
