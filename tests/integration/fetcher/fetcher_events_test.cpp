// The fetcher's events (rows, NOTIFY, the webhook), its metrics as scraped, and a field added in
// sfsim mid-run reaching PostgreSQL through the sfbridge-writer binary, without a restart.

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/control/events.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/postgres/connection.h"
#include "common/salesforce/poco_transport.h"
#include "fetcher/fetcher_service.h"
#include "sfsim/simulator.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"
#include "tests/integration/fetcher/fetcher_test_support.h"
#include "tests/integration/sync_test_support.h"

namespace sfbridge::fetcher {
namespace {

using core::StrCat;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A webhook receiver: keeps every POSTed body; the first `fail_first` requests get a 500.
class WebhookReceiver {
 public:
  explicit WebhookReceiver(int fail_first) : fail_left_(fail_first) {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    port_ = socket.address().port();
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(this), socket,
                                                      new Poco::Net::HTTPServerParams);
    server_->start();
  }
  ~WebhookReceiver() { server_->stopAll(true); }

  std::string url() const { return StrCat("http://127.0.0.1:", port_, "/hook"); }
  std::vector<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  int requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(WebhookReceiver* r) : r_(r) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
      std::string body;
      Poco::StreamCopier::copyToString(request.stream(), body);
      bool fail = false;
      {
        std::lock_guard<std::mutex> lock(r_->mu_);
        ++r_->requests_;
        if (r_->fail_left_ > 0) {
          --r_->fail_left_;
          fail = true;
        } else if (request.getMethod() == "POST" &&
                   request.getContentType() == "application/json") {
          r_->bodies_.push_back(body);
        }
      }
      response.setStatus(fail ? Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR
                              : Poco::Net::HTTPResponse::HTTP_OK);
      response.send() << "{}";
    }

   private:
    WebhookReceiver* r_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(WebhookReceiver* r) : r_(r) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(r_);
    }

   private:
    WebhookReceiver* r_;
  };

  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  int requests_ = 0;
  int fail_left_;
  int port_ = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

// The value of the series `name{labels}` in a Prometheus text page; nullopt when absent.
std::optional<double> Metric(const std::string& page, const std::string& series) {
  std::istringstream in(page);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

class FetcherEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sim = sfsim::Simulator::Start(
        testing::SimOptions({{"User", 5}, {"Account", 300}, {"Contact", 600}}),
        core::SystemClock::Instance());
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    org_id_ = testing::UniqueName("fetchev");
    conn_ = testing::ConnectWithUnlimitedOrg(db_.url(), org_id_);
    ASSERT_NE(conn_, nullptr);
  }

  FetcherOptions Options() const {
    FetcherOptions o =
        testing::FetcherOptionsFor(db_.url(), org_id_, sim_->base_url(), testing::kLogin);
    o.objects = std::vector<std::string>{"Account", "Contact"};
    o.poll_interval = milliseconds(200);
    o.metrics_port = -1;
    o.replica_id = testing::UniqueName("replica");
    o.max_attempts = 2;
    o.initial_backoff = milliseconds(50);
    o.settings_refresh = milliseconds(200);
    o.webhook_initial_backoff = milliseconds(100);
    o.partitions = 3;
    return o;
  }

  bool AllLive() { return testing::ObjectsLive(*conn_, org_id_, 2); }

  int CountEvents(std::string_view kind) {
    auto events = control::LoadEvents(*conn_, org_id_, 0, 1000);
    EXPECT_TRUE(events.ok());
    int n = 0;
    if (events.ok()) {
      for (const auto& e : *events) n += e.kind == kind ? 1 : 0;
    }
    return n;
  }

  testing::TempDatabase db_;
  std::unique_ptr<sfsim::Simulator> sim_;
  std::unique_ptr<postgres::Connection> conn_;
  std::string org_id_;
};

using RunningFetcher = testing::RunningService<FetcherService>;

TEST_F(FetcherEventsTest, BackfillEventsReachTheTableNotifyAndTheWebhookAndMetricsShowTheSync) {
  WebhookReceiver hook(/*fail_first=*/1);
  auto org = control::LoadOrg(*conn_, org_id_);
  ASSERT_TRUE(org.ok());
  org->webhook_url = hook.url();
  ASSERT_TRUE(control::UpsertOrg(*conn_, *org).ok());
  auto listener = postgres::Connection::Connect(db_.url());
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE((*listener)->Listen(std::string(control::kEventsChannel)).ok());

  // Two replicas: the org's completion is recorded once all the same.
  RunningFetcher a(Options());
  RunningFetcher b(Options());
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(); }, seconds(60)));
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return CountEvents(control::kEventOrgBackfillComplete) == 1; }, seconds(30)));
  EXPECT_EQ(CountEvents(control::kEventBackfillComplete), 2);

  std::vector<std::string> notified;
  for (int i = 0; i < 20; ++i) {
    auto n = (*listener)->WaitForNotifications(milliseconds(200));
    ASSERT_TRUE(n.ok());
    for (const auto& note : *n) notified.push_back(note.payload);
  }
  int org_notes = 0;
  for (const std::string& p : notified) {
    org_notes += p.find("\"org_backfill_complete\"") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(org_notes, 1);

  // The webhook got every backfill event (its first delivery failed and was retried).
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        int n = 0;
        for (const std::string& body : hook.bodies()) {
          n += body.find("backfill_complete") != std::string::npos ? 1 : 0;
        }
        return n == 3;
      },
      seconds(30)))
      << hook.requests();
  int org_bodies = 0;
  for (const std::string& body : hook.bodies()) {
    EXPECT_NE(body.find(StrCat("\"org_id\":\"", org_id_, "\"")), std::string::npos) << body;
    org_bodies += body.find("\"kind\":\"org_backfill_complete\"") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(org_bodies, 1);
  EXPECT_GT(hook.requests(), static_cast<int>(hook.bodies().size()));  // the failed one

  // Metrics, scraped as Prometheus reads them (summed over the two replicas where it matters).
  std::this_thread::sleep_for(seconds(2));  // a few poll cycles
  const std::string pa = a.service().metrics().RenderText();
  const std::string pb = b.service().metrics().RenderText();
  auto both = [&](const std::string& series) {
    return Metric(pa, series).value_or(0) + Metric(pb, series).value_or(0);
  };
  const std::string o = StrCat("org=\"", org_id_, "\"");
  EXPECT_GT(both(StrCat("sfbridge_fetcher_budget_tokens_total{", o, "}")), 0);
  EXPECT_GT(both(StrCat("sfbridge_fetcher_budget_wait_seconds_count{", o, "}")), 0);
  EXPECT_GT(both(StrCat("sfbridge_fetcher_poll_cycle_seconds_count{", o, "}")), 0);
  EXPECT_EQ(Metric(pa, StrCat("sfbridge_fetcher_daily_api_limit{", o, "}")),
            static_cast<double>(sim_->limits().daily_max()));
  EXPECT_GT(Metric(pa, StrCat("sfbridge_fetcher_daily_api_used{", o, "}")).value_or(0), 0);
  EXPECT_EQ(both(StrCat("sfbridge_fetcher_records_published_total{", o, ",object=\"Contact\"}")),
            600);
  for (const char* object : {"Account", "Contact"}) {
    const std::string series = StrCat(o, ",object=\"", object, "\"");
    EXPECT_EQ(both(StrCat("sfbridge_fetcher_object_state{", series, ",state=\"live\"}")), 1)
        << object;
    EXPECT_EQ(both(StrCat("sfbridge_fetcher_object_state{", series, ",state=\"backfilling\"}")), 0)
        << object;
  }
  EXPECT_EQ(both(StrCat("sfbridge_fetcher_backfill_estimate_records{", o, ",object=\"Contact\"}")),
            600);
  EXPECT_GT(
      both(StrCat("sfbridge_fetcher_api_calls_total{", o,
                  ",object=\"Contact\",kind=\"query_all\",phase=\"backfill\",outcome=\"ok\"}")),
      0);
  EXPECT_GT(
      both(StrCat("sfbridge_fetcher_api_calls_total{", o,
                  ",object=\"\",kind=\"describe_global\",phase=\"discovery\",outcome=\"ok\"}")),
      0);
}

// A custom field added in sfsim while the fetcher and the writer run: the next discovery pass
// publishes the schema as version 2, the writer adds the column, and values flow into it.
TEST_F(FetcherEventsTest, AFieldAddedMidRunBecomesAColumnWithItsValues) {
  FetcherOptions options = Options();
  options.describe_interval = milliseconds(1'000);
  RunningFetcher fetcher(options);
  std::map<std::string, std::string> env = {
      {"SFBRIDGE_POSTGRES_URL", db_.url()},   {"SFBRIDGE_KAFKA_BROKERS", testing::KafkaBrokers()},
      {"SFBRIDGE_ORG_ID", org_id_},           {"SFBRIDGE_GRPC_PORT", "0"},
      {"SFBRIDGE_GRPC_HOST", "127.0.0.1"},    {"SFBRIDGE_METRICS_PORT", "0"},
      {"SFBRIDGE_METRICS_HOST", "127.0.0.1"},
  };
  auto writer = testing::ChildProcess::Start({SFBRIDGE_WRITER}, env);
  ASSERT_NE(writer, nullptr);
  auto count = [&](const std::string& sql) -> int64_t {
    auto r = conn_->Exec(sql);
    if (!r.ok() || r->rows.empty() || !r->rows[0][0]) return -1;
    return std::stoll(*r->rows[0][0]);
  };
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return count("SELECT count(*) FROM salesforce.account") == 300; }, seconds(90)))
      << writer->Output();

  auto transport = salesforce::PocoTransport::Create({});
  ASSERT_TRUE(transport.ok());
  auto added =
      (*transport)
          ->Send({.method = "POST",
                  .url = StrCat(sim_->base_url(), "/__sfsim/fields/Account"),
                  .headers = {{"Content-Type", "application/json"}},
                  .body = R"({"name":"Region__c","type":"string","length":40,"label":"Region"})",
                  .timeout = seconds(10)});
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_EQ(added->status, 201) << added->body;
  // The next discovery pass (1 s) publishes version 2; a change read after it carries the field.
  // (A change read before it, with the old field list, gets the new field only with its next
  // change: see the README.)
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        return count(StrCat("SELECT count(*) FROM sfbridge.events WHERE org_id = '", org_id_,
                            "' AND object_name = 'Account' AND kind = 'schema_version' AND "
                            "detail->>'version' = '2'")) == 1;
      },
      seconds(30)));
  std::this_thread::sleep_for(milliseconds(500));  // the sync restarts with the new plan
  const std::string id = sim_->org().Digest("Account", false).begin()->first;
  auto updated = (*transport)
                     ->Send({.method = "PATCH",
                             .url = StrCat(sim_->base_url(), "/__sfsim/records/Account/", id),
                             .headers = {{"Content-Type", "application/json"}},
                             .body = R"({"Region__c":"EMEA"})",
                             .timeout = seconds(10)});
  ASSERT_TRUE(updated.ok()) << updated.status();
  ASSERT_EQ(updated->status, 200) << updated->body;

  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        return count(StrCat("SELECT count(*) FROM salesforce.account WHERE id = '", id,
                            "' AND region__c = 'EMEA'")) == 1;
      },
      seconds(60)))
      << writer->Output();
  auto version = conn_->Exec(
      "SELECT max((detail->>'version')::int) FROM sfbridge.events "
      "WHERE org_id = $1 AND object_name = 'Account' AND kind = 'schema_version'",
      {org_id_});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->rows[0][0], "2");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.account WHERE region__c IS NULL"), 299);
  writer->Signal(SIGTERM);
  EXPECT_TRUE(writer->Wait(seconds(30)).has_value());
}

}  // namespace
}  // namespace sfbridge::fetcher
