// sfbridge-writer in-process against the test PostgreSQL and Kafka: end to end from sfsim through
// the fetcher, a restart mid-stream, a garbage message parked, and the gRPC Writer.Apply.
// Over 500 lines: ten end-to-end cases on one fixture (an org with its topics and tables), most
// of it the records each case produces and the checks of what arrived.

#include "writer/writer_service.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/control/migrations.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/kafka/producer.h"
#include "common/postgres/connection.h"
#include "common/salesforce/poco_transport.h"
#include "fetcher/fetcher_service.h"
#include "sfbridge/v1/record.pb.h"
#include "sfbridge/v1/schema.pb.h"
#include "sfbridge/v1/writer.grpc.pb.h"
#include "sfsim/simulator.h"
#include "tests/fakes/fake_clock.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"
#include "tests/integration/sync_test_support.h"
#include "tests/integration/writer/writer_stream_support.h"
#include "writer/consumer_loop.h"
#include "writer/offsets.h"
#include "writer/table_schema.h"

namespace sfbridge::writer {
namespace {

using core::StrCat;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kClientId = "3MVG9writerIntegrationConsumerKey";
constexpr std::string_view kClientSecret = "writer-client-secret-7f1d3b5a";
constexpr std::string_view kUsername = "writer@sfbridge.example";
constexpr std::string_view kPassword = "writer-pass-word-token-4Kx";
constexpr testing::SimLogin kLogin = {kClientId, kClientSecret, kUsername, kPassword};
constexpr int kPartitions = 3;

using RunningWriter = testing::RunningService<WriterService>;
using sfbridge::testing::FreePort;
using testing_support::CreateOrgTopics;
using testing_support::Differences;
using testing_support::EndOffsets;
using testing_support::ProduceAll;
using RunningFetcher = testing::RunningService<fetcher::FetcherService>;

class WriterServiceTest : public testing::OrgTest {
 protected:
  void SetUp() override { ConnectOrg("writerit", db_.url()); }

  void CreateTopics() { ASSERT_TRUE(CreateOrgTopics(org_id_, kPartitions).ok()); }

  WriterOptions Options(int batch_size = 5000) const {
    WriterOptions o = testing::WriterOptionsFor(db_.url(), org_id_);
    o.batch_size = batch_size;
    return o;
  }

  // partition -> next offset stored by the writer's group for the records topic.
  std::map<int32_t, int64_t> StoredOffsets() {
    std::map<int32_t, int64_t> out;
    auto r = conn_->Exec(
        "SELECT partition, next_offset FROM sfbridge.consumer_offsets "
        "WHERE consumer_group = $1 AND topic = $2",
        {control::WriterConsumerGroup(org_id_), control::RecordsTopic(org_id_)});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return out;
    for (const auto& row : r->rows) out[std::stoi(*row[0])] = std::stoll(*row[1]);
    return out;
  }

  // The schema of a small custom object published on the schemas topic.
  void PublishSchema(const std::string& object) {
    v1::ObjectSchema s;
    s.set_org_id(org_id_);
    s.set_name(object);
    s.set_fingerprint(StrCat(object, "-v1"));
    s.set_version(1);
    auto* id = s.add_fields();
    id->set_name("Id");
    id->set_type("id");
    auto* name = s.add_fields();
    name->set_name("Name");
    name->set_type("string");
    auto* amount = s.add_fields();
    amount->set_name("Amount__c");
    amount->set_type("currency");
    ProduceAll(control::SchemasTopic(org_id_), {{object, s.SerializeAsString()}});
  }

  v1::RecordChange Change(const std::string& object, const std::string& id, int64_t modstamp,
                          bool deleted = false) {
    v1::RecordChange c;
    c.set_org_id(org_id_);
    c.set_object_name(object);
    c.set_record_id(id);
    c.set_system_modstamp_ms(modstamp);
    c.set_deleted(deleted);
    if (!deleted) {
      (*c.mutable_fields())["Name"].set_text(StrCat("name ", id, " ", modstamp));
      (*c.mutable_fields())["Amount__c"].set_number(StrCat(modstamp % 100000, ".25"));
    }
    return c;
  }

  testing::TempDatabase db_;
};

sfsim::SimulatorOptions OrgOptions() {
  return testing::SimOrgOptions(
      11, {{"User", 5}, {"Account", 2000}, {"Contact", 20000}, {"Opportunity", 3000}}, 500, kLogin);
}

TEST_F(WriterServiceTest, EndToEndFromSfsimThroughTheFetcher) {
  const std::vector<std::string> objects = {"User", "Account", "Contact", "Opportunity"};
  auto sim = sfsim::Simulator::Start(OrgOptions(), core::SystemClock::Instance());
  ASSERT_TRUE(sim.ok()) << sim.status();
  int64_t total = 0;
  for (const std::string& object : objects) total += (*sim)->org().Count(object, true);

  fetcher::FetcherOptions f =
      testing::FetcherOptionsFor(db_.url(), org_id_, (*sim)->base_url(), kLogin);
  f.objects = objects;
  f.poll_interval = milliseconds(300);
  f.metrics_port = -1;
  f.replica_id = StrCat(org_id_, "-replica");
  f.partitions = kPartitions;
  f.max_attempts = 3;
  f.initial_backoff = milliseconds(50);

  auto converged = [&]() {
    for (const std::string& object : objects) {
      if (!Differences((*sim)->org().Digest(object, false), Stored(object)).empty()) return false;
    }
    return true;
  };
  auto all_live = [&]() {
    return testing::ObjectsLive(*conn_, org_id_, static_cast<int>(objects.size()));
  };

  const auto start = SteadyClock::now();
  auto writer = std::make_unique<RunningWriter>(Options());
  auto fetch = std::make_unique<RunningFetcher>(f);
  ASSERT_TRUE(testing::WaitUntil(all_live, seconds(300))) << "not every object went live";
  const double live_seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  ASSERT_TRUE(testing::WaitUntil(converged, seconds(300)));
  const double seconds_total = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::printf(
      "[ end to end ] records=%lld all_live_after=%.2f s converged_after=%.2f s "
      "records_per_second=%.0f batches=%lld messages=%lld\n",
      static_cast<long long>(total), live_seconds, seconds_total, total / seconds_total,
      static_cast<long long>(writer->service().batches_applied()),
      static_cast<long long>(writer->service().messages_applied()));
  for (const std::string& object : objects) {
    EXPECT_EQ(Differences((*sim)->org().Digest(object, false), Stored(object)), "") << object;
  }
  const std::string metrics = writer->service().metrics().RenderText();
  EXPECT_NE(metrics.find(StrCat("sfbridge_writer_rows_applied_total{org=\"", org_id_,
                                "\",table=\"contact\"}")),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("sfbridge_writer_batch_seconds_count"), std::string::npos);
  EXPECT_NE(metrics.find("sfbridge_writer_consumer_lag{"), std::string::npos);

  // Live churn: creates, updates and deletes while both run.
  int churned = 0;
  for (int step = 0; step < 5; ++step) {
    churned += (*sim)->org().ChurnStep(100 + step, 400, 50);
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_GT(churned, 0);
  const auto churn_start = SteadyClock::now();
  ASSERT_TRUE(testing::WaitUntil(converged, seconds(120)));
  std::printf("[ churn ] changes=%d converged_after=%.2f s\n", churned,
              std::chrono::duration<double>(SteadyClock::now() - churn_start).count());
  for (const std::string& object : objects) {
    EXPECT_EQ(Differences((*sim)->org().Digest(object, false), Stored(object)), "") << object;
  }
  ASSERT_TRUE(fetch->Stop().ok());
  ASSERT_TRUE(writer->Stop().ok());
}

TEST_F(WriterServiceTest, RestartMidStreamConvergesExactly) {
  CreateTopics();
  const std::string object = "Widget__c";
  PublishSchema(object);
  std::map<std::string, int64_t> expected;
  std::vector<std::pair<std::string, std::string>> messages;
  const int kRecords = 30000;
  for (int i = 0; i < kRecords; ++i) {
    const std::string id = StrCat("a00", 1000000 + i);
    messages.push_back({id, Change(object, id, 1'700'000'000'000 + i).SerializeAsString()});
    expected[id] = 1'700'000'000'000 + i;
  }
  for (int i = 0; i < kRecords; i += 5) {  // updates
    const std::string id = StrCat("a00", 1000000 + i);
    messages.push_back({id, Change(object, id, 1'800'000'000'000 + i).SerializeAsString()});
    expected[id] = 1'800'000'000'000 + i;
  }
  for (int i = 1; i < kRecords; i += 7) {  // deletions
    const std::string id = StrCat("a00", 1000000 + i);
    messages.push_back({id, Change(object, id, 1'900'000'000'000 + i, true).SerializeAsString()});
    expected.erase(id);
  }
  ProduceAll(control::RecordsTopic(org_id_), messages);

  auto first = std::make_unique<RunningWriter>(Options(/*batch_size=*/200));
  ASSERT_TRUE(
      testing::WaitUntil([&] { return first->service().batches_applied() >= 5; }, seconds(120)));
  ASSERT_TRUE(first->Stop().ok());
  const int64_t first_messages = first->service().messages_applied();
  first.reset();
  std::printf("[ restart ] first run applied %lld of %zu messages\n",
              static_cast<long long>(first_messages), messages.size());
  EXPECT_LT(first_messages, static_cast<int64_t>(messages.size()));

  const auto ends = EndOffsets(control::RecordsTopic(org_id_), kPartitions);
  const auto second_start = SteadyClock::now();
  auto second = std::make_unique<RunningWriter>(Options(/*batch_size=*/2000));
  ASSERT_TRUE(testing::WaitUntil([&] { return StoredOffsets() == ends; }, seconds(120)));
  const double second_seconds =
      std::chrono::duration<double>(SteadyClock::now() - second_start).count();
  std::printf("[ restart ] second run applied %lld messages in %.2f s (start-up included)\n",
              static_cast<long long>(second->service().messages_applied()), second_seconds);
  EXPECT_EQ(Differences(expected, Stored(object)), "");
  EXPECT_EQ(StoredOffsets(), ends);
  // The counters follow the commits; once stopped they hold every batch committed.
  ASSERT_TRUE(second->Stop().ok());
  EXPECT_EQ(first_messages + second->service().messages_applied(),
            static_cast<int64_t>(messages.size()));
}

TEST_F(WriterServiceTest, GarbageMessageIsParkedAndTheRestApplied) {
  CreateTopics();
  const std::string object = "Gadget__c";
  PublishSchema(object);
  // One key, so all three land in one partition, in order.
  const std::string key = "a01000000000001";
  std::vector<int64_t> offsets = ProduceAll(
      control::RecordsTopic(org_id_), {{key, Change(object, key, 1000).SerializeAsString()},
                                       {key, std::string("\xff\xff\xff\x07 not a protobuf", 20)},
                                       {key, Change(object, key, 2000).SerializeAsString()}});
  ASSERT_EQ(offsets.size(), 3u);

  auto writer = std::make_unique<RunningWriter>(Options());
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto s = Stored(object);
        return s.contains(key) && s[key] == 2000;
      },
      seconds(60)));
  auto letters = conn_->Exec(
      "SELECT topic, \"offset\", reason FROM sfbridge.dead_letters ORDER BY \"offset\"");
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->rows.size(), 1u);
  EXPECT_EQ(*letters->rows[0][0], control::RecordsTopic(org_id_));
  EXPECT_EQ(std::stoll(*letters->rows[0][1]), offsets[1]);
  EXPECT_NE(letters->rows[0][2]->find("undecodable"), std::string::npos);
  // Counted once the batch's commit is seen through (right after it).
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return writer->service().metrics().RenderText().find("sfbridge_writer_parked_total 1\n") !=
               std::string::npos;
      },
      seconds(10)))
      << writer->service().metrics().RenderText();
  ASSERT_TRUE(writer->Stop().ok());
}

TEST_F(WriterServiceTest, AGarbageSchemaIsParkedAndTheOthersApply) {
  CreateTopics();
  const std::string object = "Contraption__c";
  const std::vector<int64_t> garbage = ProduceAll(
      control::SchemasTopic(org_id_), {{object, std::string("\x0a\xff\xff\xff\x0f junk", 12)}});
  PublishSchema(object);
  const std::string key = "a09000000000001";
  ProduceAll(control::RecordsTopic(org_id_),
             {{key, Change(object, key, 1000).SerializeAsString()}});
  auto writer = std::make_unique<RunningWriter>(Options());
  ASSERT_TRUE(testing::WaitUntil([&] { return Stored(object).contains(key); }, seconds(60)));
  auto letters = conn_->Exec("SELECT topic, \"offset\", reason FROM sfbridge.dead_letters");
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->rows.size(), 1u);
  EXPECT_EQ(*letters->rows[0][0], control::SchemasTopic(org_id_));
  EXPECT_EQ(std::stoll(*letters->rows[0][1]), garbage.at(0));
  EXPECT_EQ(*letters->rows[0][2], "undecodable ObjectSchema");
  EXPECT_NE(writer->service().metrics().RenderText().find("sfbridge_writer_parked_total 1\n"),
            std::string::npos);
  ASSERT_TRUE(writer->Stop().ok());
}

TEST_F(WriterServiceTest, GrpcApplyAnswersStaleAndAppliedAndHealth) {
  CreateTopics();
  const std::string object = "Thing__c";
  v1::ObjectSchema schema;
  schema.set_org_id(org_id_);
  schema.set_name(object);
  schema.set_fingerprint("thing-v1");
  for (auto [name, type] : std::vector<std::pair<std::string, std::string>>{
           {"Id", "id"}, {"Name", "string"}, {"Amount__c", "currency"}}) {
    auto* f = schema.add_fields();
    f->set_name(name);
    f->set_type(type);
  }
  ASSERT_TRUE(EnsureTable(*conn_, "salesforce", schema).ok());

  auto writer = std::make_unique<RunningWriter>(Options());
  ASSERT_TRUE(
      testing::WaitUntil([&] { return writer->service().bound_grpc_port() > 0; }, seconds(60)));
  auto channel = grpc::CreateChannel(StrCat("127.0.0.1:", writer->service().bound_grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Writer::NewStub(channel);
  const std::string id = "a02000000000001";

  auto apply = [&](int64_t modstamp, v1::ApplyResponse* response) {
    v1::ApplyRequest request;
    request.set_org_id(org_id_);
    *request.add_changes() = Change(object, id, modstamp);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(30));
    return stub->Apply(&ctx, request, response);
  };
  v1::ApplyResponse r1;
  grpc::Status s = apply(5000, &r1);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r1.results_size(), 1);
  EXPECT_EQ(r1.results(0).outcome(), v1::ApplyResult::OUTCOME_APPLIED);
  EXPECT_EQ(r1.results(0).stored_modstamp_ms(), 5000);

  v1::ApplyResponse r2;
  s = apply(4000, &r2);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r2.results_size(), 1);
  EXPECT_EQ(r2.results(0).record_id(), id);
  EXPECT_EQ(r2.results(0).outcome(), v1::ApplyResult::OUTCOME_STALE);
  EXPECT_EQ(r2.results(0).stored_modstamp_ms(), 5000);

  v1::ApplyResponse r3;
  s = apply(6000, &r3);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r3.results_size(), 1);
  EXPECT_EQ(r3.results(0).outcome(), v1::ApplyResult::OUTCOME_APPLIED);
  EXPECT_EQ(r3.results(0).stored_modstamp_ms(), 6000);
  EXPECT_EQ(Stored(object).at(id), 6000);

  // A change naming an object without a table: INVALID_ARGUMENT, nothing applied.
  {
    v1::ApplyRequest request;
    request.set_org_id(org_id_);
    *request.add_changes() = Change(object, id, 7000);
    *request.add_changes() = Change("NoSuchObject__c", "a03000000000001", 7000);
    v1::ApplyResponse response;
    grpc::ClientContext ctx;
    grpc::Status bad = stub->Apply(&ctx, request, &response);
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(bad.error_message().find("NoSuchObject__c"), std::string::npos)
        << bad.error_message();
    EXPECT_EQ(Stored(object).at(id), 6000);
  }

  // grpc.health.v1.Health/Check with an empty request: status SERVING is field 1 = 1.
  grpc::ByteBuffer request_bytes;
  grpc::Slice empty("");
  request_bytes = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response_bytes;
  grpc::ClientContext health_ctx;
  grpc::Status health = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(),
      grpc::internal::RpcMethod("/grpc.health.v1.Health/Check",
                                grpc::internal::RpcMethod::NORMAL_RPC),
      &health_ctx, request_bytes, &response_bytes);
  ASSERT_TRUE(health.ok()) << health.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response_bytes.Dump(&slices).ok());
  std::string body;
  for (const grpc::Slice& slice : slices) {
    body.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(body, std::string("\x08\x01", 2));
  ASSERT_TRUE(writer->Stop().ok());
}

TEST_F(WriterServiceTest, StartsFromTheOffsetsStoredInPostgres) {
  CreateTopics();
  const std::string object = "Sprocket__c";
  PublishSchema(object);
  std::vector<std::pair<std::string, std::string>> before, after;
  for (int i = 0; i < 100; ++i) {
    const std::string id = StrCat("a05", 1000000 + i);
    before.push_back({id, Change(object, id, 1000 + i).SerializeAsString()});
  }
  for (int i = 100; i < 150; ++i) {
    const std::string id = StrCat("a05", 1000000 + i);
    after.push_back({id, Change(object, id, 1000 + i).SerializeAsString()});
  }
  ProduceAll(control::RecordsTopic(org_id_), before);
  // As if a writer had applied `before` and crashed before committing to Kafka.
  const auto ends = EndOffsets(control::RecordsTopic(org_id_), kPartitions);
  absl::Status stored = conn_->InTransaction([&](postgres::Transaction& tx) {
    std::vector<OffsetUpdate> updates;
    for (const auto& [partition, offset] : ends) {
      updates.push_back({control::WriterConsumerGroup(org_id_), control::RecordsTopic(org_id_),
                         partition, offset});
    }
    return StoreOffsets(tx, updates);
  });
  ASSERT_TRUE(stored.ok()) << stored;
  ProduceAll(control::RecordsTopic(org_id_), after);

  auto writer = std::make_unique<RunningWriter>(Options());
  ASSERT_TRUE(
      testing::WaitUntil([&] { return Stored(object).size() >= after.size(); }, seconds(60)));
  std::this_thread::sleep_for(milliseconds(500));
  const auto rows = Stored(object);
  EXPECT_EQ(rows.size(), after.size());
  for (const auto& [id, value] : before) EXPECT_FALSE(rows.contains(id)) << id;
  ASSERT_TRUE(writer->Stop().ok());
  EXPECT_EQ(writer->service().messages_applied(), static_cast<int64_t>(after.size()));
}

TEST_F(WriterServiceTest, RecordsWithANewFieldWaitForTheNewerSchema) {
  CreateTopics();
  const std::string object = "Gizmo__c";
  PublishSchema(object);
  auto writer = std::make_unique<RunningWriter>(Options());
  const std::string id = "a06000000000001";
  v1::RecordChange change = Change(object, id, 3000);
  (*change.mutable_fields())["Color__c"].set_text("teal");
  ProduceAll(control::RecordsTopic(org_id_), {{id, change.SerializeAsString()}});
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_TRUE(Stored(object).empty());

  v1::ObjectSchema s;
  s.set_org_id(org_id_);
  s.set_name(object);
  s.set_fingerprint("gizmo-v2");
  s.set_version(2);
  for (auto [name, type] : std::vector<std::pair<std::string, std::string>>{
           {"Id", "id"}, {"Name", "string"}, {"Amount__c", "currency"}, {"Color__c", "string"}}) {
    auto* f = s.add_fields();
    f->set_name(name);
    f->set_type(type);
  }
  ProduceAll(control::SchemasTopic(org_id_), {{object, s.SerializeAsString()}});
  ASSERT_TRUE(testing::WaitUntil([&] { return Stored(object).contains(id); }, seconds(30)));
  auto color = conn_->Exec("SELECT color__c FROM salesforce.gizmo__c WHERE id = $1", {id});
  ASSERT_TRUE(color.ok()) << color.status();
  ASSERT_EQ(color->rows.size(), 1u);
  EXPECT_EQ(color->rows[0][0].value_or("<null>"), "teal");
  auto letters = conn_->Exec("SELECT count(*) FROM sfbridge.dead_letters");
  ASSERT_TRUE(letters.ok());
  EXPECT_EQ(*letters->rows[0][0], "0");
  ASSERT_TRUE(writer->Stop().ok());
}

// The binary with good and bad input: every metric family on /metrics with the values the run
// implies, bad messages logged with topic/partition/offset, offsets in Postgres and in Kafka.
TEST_F(WriterServiceTest, BinaryAppliesParksServesMetricsAndStopsOnSigterm) {
  CreateTopics();
  const std::string object = "Doohickey__c";
  PublishSchema(object);
  const std::string topic = control::RecordsTopic(org_id_);
  std::vector<std::pair<std::string, std::string>> messages;
  for (int i = 0; i < 100; ++i) {
    const std::string id = StrCat("a04", 1000000 + i);
    messages.push_back({id, Change(object, id, 1000 + i).SerializeAsString()});
  }
  // Bad input: bytes that are no RecordChange, an object no schema names, a field no schema has.
  v1::RecordChange unknown_field = Change(object, "a04000000000998", 5000);
  (*unknown_field.mutable_fields())["NoSuchField__c"].set_text("x");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"a04000000000997", std::string("\x0a\xff\xff\xff\x0f garbage", 15)},
      {"a04000000000996", Change("NoSuchObject__c", "a04000000000996", 5000).SerializeAsString()},
      {"a04000000000998", unknown_field.SerializeAsString()}};
  ProduceAll(topic, messages);
  std::vector<int64_t> bad_offsets = ProduceAll(topic, bad);

  const int port = FreePort();
  std::map<std::string, std::string> env = testing_support::WriterEnv(db_.url(), org_id_, port);
  env["SFBRIDGE_LOG_FORMAT"] = "text";
  // A separate process runs on the real clock: a short grace, set as a user would.
  env["SFBRIDGE_WRITER_SCHEMA_GRACE"] = "500ms";
  auto child = testing::ChildProcess::Start({SFBRIDGE_WRITER}, env);
  ASSERT_NE(child, nullptr);
  auto line = child->WaitForLine("writer gRPC listening on 127.0.0.1:", seconds(60));
  ASSERT_TRUE(line.has_value()) << child->Output();
  const auto ends = EndOffsets(topic, kPartitions);
  // The bad messages wait out the schema grace before they are parked.
  ASSERT_TRUE(testing::WaitUntil([&] { return StoredOffsets() == ends; }, seconds(90)))
      << child->Output();
  EXPECT_EQ(Stored(object).size(), messages.size());

  auto transport = salesforce::PocoTransport::Create({});
  ASSERT_TRUE(transport.ok());
  const std::string base = StrCat("http://127.0.0.1:", port);
  auto ready = (*transport)->Send({.url = base + "/readyz", .timeout = seconds(10)});
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200);
  std::string page;
  auto scrape = [&] {
    auto metrics = (*transport)->Send({.url = base + "/metrics", .timeout = seconds(10)});
    EXPECT_TRUE(metrics.ok()) << metrics.status();
    EXPECT_EQ(metrics.ok() ? metrics->status : 0, 200);
    page = metrics.ok() ? metrics->body : "";
    return page;
  };
  auto lag = [&](int partition) {
    return testing_support::Sample(page, StrCat("sfbridge_writer_consumer_lag{topic=\"", topic,
                                                "\",partition=\"", partition, "\"}"));
  };
  // The lag gauges are refreshed every second: all three partitions read to their end.
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        scrape();
        for (int p = 0; p < kPartitions; ++p) {
          if (lag(p) != 0.0) return false;
        }
        return true;
      },
      seconds(30)))
      << page;
  EXPECT_EQ(testing_support::Sample(page, StrCat("sfbridge_writer_rows_applied_total{org=\"",
                                                 org_id_, "\",table=\"doohickey__c\"}")),
            100.0)
      << page;
  EXPECT_EQ(testing_support::Sample(page, "sfbridge_writer_parked_total"), 3.0) << page;
  EXPECT_EQ(testing_support::Sample(page, "sfbridge_writer_apply_errors_total"), 0.0) << page;
  const std::optional<double> batches =
      testing_support::Sample(page, "sfbridge_writer_batch_seconds_count");
  ASSERT_TRUE(batches.has_value()) << page;
  EXPECT_GE(*batches, 1.0);
  EXPECT_EQ(testing_support::Sample(page, "sfbridge_writer_batch_seconds_bucket{le=\"+Inf\"}"),
            *batches);
  const std::optional<double> batch_sum =
      testing_support::Sample(page, "sfbridge_writer_batch_seconds_sum");
  ASSERT_TRUE(batch_sum.has_value()) << page;
  EXPECT_GT(*batch_sum, 0.0);
  EXPECT_LT(*batch_sum / *batches, 10.0);  // seconds per batch of at most 103 small messages

  // Logged with topic/partition/offset, parked with the reason, the partition moved past them.
  const std::string output = child->Output();
  auto letters = conn_->Exec(
      "SELECT partition, \"offset\", reason FROM sfbridge.dead_letters ORDER BY reason");
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->rows.size(), 3u);
  std::vector<std::string> reasons;
  for (const auto& row : letters->rows) {
    reasons.push_back(*row[2]);
    EXPECT_NE(output.find(StrCat("parked ", topic, "/", *row[0], "@", *row[1], ": ", *row[2])),
              std::string::npos)
        << *row[2] << "\n"
        << output;
  }
  std::set<int64_t> parked_offsets;
  for (const auto& row : letters->rows) parked_offsets.insert(std::stoll(*row[1]));
  EXPECT_EQ(parked_offsets, std::set<int64_t>(bad_offsets.begin(), bad_offsets.end()));
  EXPECT_EQ(reasons[0].rfind("undecodable RecordChange", 0), 0u) << reasons[0];
  EXPECT_EQ(reasons[1].rfind("unknown field NoSuchField__c of Doohickey__c", 0), 0u) << reasons[1];
  EXPECT_EQ(reasons[2].rfind("unknown object NoSuchObject__c", 0), 0u) << reasons[2];

  // Kafka holds the same offsets, for lag tooling.
  EXPECT_EQ(testing_support::KafkaCommittedOffsets(control::WriterConsumerGroup(org_id_), topic,
                                                   kPartitions),
            ends);

  child->Signal(SIGTERM);
  std::optional<int> code = child->Wait(seconds(30));
  ASSERT_TRUE(code.has_value()) << child->Output();
  EXPECT_EQ(*code, 0) << child->Output();
  EXPECT_EQ(StoredOffsets(), ends);
}

// Unknown objects and fields are parked once the schema grace has passed, and no later batch
// waits for them again, until a schema naming them arrives: then they apply. The writer runs on
// simulated time that moves only when the test moves it (batches of one message, so that none
// waits for batch_wait): the grace passes without being waited out.
TEST_F(WriterServiceTest, UnknownObjectAndFieldAreParkedThenApplyOnceTheirSchemaArrives) {
  testing::FakeClock clock;
  // Time moves by a second per check while the test waits for something that needs it to.
  auto after_a_second = [&clock](auto done) {
    return [&clock, done] {
      if (done()) return true;
      clock.Advance(seconds(1));
      return false;
    };
  };
  CreateTopics();
  const std::string object = "Whatsit__c", later = "Latecomer__c";
  PublishSchema(object);
  const std::string topic = control::RecordsTopic(org_id_);
  const std::string key = "a07000000000001";  // one key: one partition, in order
  v1::RecordChange with_color = Change(object, key, 2000);
  (*with_color.mutable_fields())["Color__c"].set_text("teal");
  ProduceAll(topic, {{key, Change(object, key, 1000).SerializeAsString()},
                     {key, Change(later, key, 1000).SerializeAsString()},
                     {key, with_color.SerializeAsString()}});
  auto writer = std::make_unique<RunningWriter>(Options(/*batch_size=*/1), clock);
  auto parked = [&] {
    auto r = conn_->Exec("SELECT count(*) FROM sfbridge.dead_letters");
    return r.ok() ? std::stoi(*r->rows[0][0]) : -1;
  };
  const auto first_seen = clock.Monotonic();
  ASSERT_TRUE(testing::WaitUntil(after_a_second([&] { return parked() == 2; }), seconds(60)));
  EXPECT_GE(clock.Monotonic() - first_seen, WriterOptions().schema_grace);  // the grace, simulated
  EXPECT_EQ(Stored(object).at(key), 1000);

  // Both names are given up: the next batches holding them are parked with no time passing at
  // all (no grace waited), and the partition keeps moving.
  const auto start = clock.Monotonic();
  ProduceAll(topic, {{key, Change(later, key, 1500).SerializeAsString()},
                     {key, with_color.SerializeAsString()},
                     {key, Change(object, key, 3000).SerializeAsString()}});
  ASSERT_TRUE(testing::WaitUntil([&] { return Stored(object).at(key) == 3000; }, seconds(30)));
  EXPECT_LT(clock.Monotonic() - start, WriterOptions().schema_grace);
  EXPECT_EQ(parked(), 4);

  // Their schemas arrive: the same kinds of changes now apply.
  PublishSchema(later);
  v1::ObjectSchema v2;
  v2.set_org_id(org_id_);
  v2.set_name(object);
  v2.set_fingerprint("whatsit-v2");
  v2.set_version(2);
  for (auto [name, type] : std::vector<std::pair<std::string, std::string>>{
           {"Id", "id"}, {"Name", "string"}, {"Amount__c", "currency"}, {"Color__c", "string"}}) {
    auto* f = v2.add_fields();
    f->set_name(name);
    f->set_type(type);
  }
  ProduceAll(control::SchemasTopic(org_id_), {{object, v2.SerializeAsString()}});
  // Both tables are there (Color__c mapped, Latecomer__c registered) before the records come.
  // (The loop reads schemas every 50 ms of its clock.)
  ASSERT_TRUE(testing::WaitUntil(
      after_a_second([&] {
        auto r = conn_->Exec(
            "SELECT (SELECT count(*) FROM sfbridge.field_mappings WHERE org_id = $1 AND "
            "field_name = 'Color__c') + (SELECT count(*) FROM sfbridge.synced_tables WHERE "
            "org_id = $1 AND object_name = $2)",
            {org_id_, later});
        return r.ok() && *r->rows[0][0] == "2";
      }),
      seconds(30)));
  v1::RecordChange newer_color = Change(object, key, 4000);
  (*newer_color.mutable_fields())["Color__c"].set_text("ochre");
  ProduceAll(topic, {{key, Change(later, key, 2500).SerializeAsString()},
                     {key, newer_color.SerializeAsString()}});
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return Stored(object).at(key) == 4000 && Stored(later).contains(key); }, seconds(30)));
  auto color = conn_->Exec("SELECT color__c FROM salesforce.whatsit__c WHERE id = $1", {key});
  ASSERT_TRUE(color.ok()) << color.status();
  EXPECT_EQ(color->rows[0][0].value_or("<null>"), "ochre");
  EXPECT_EQ(Stored(later).at(key), 2500);
  EXPECT_EQ(parked(), 4);
  ASSERT_TRUE(writer->Stop().ok());
}

// One record's versions delivered shuffled and duplicated end as the newest; a deletion followed
// by a late older update stays deleted; a newer update after a deletion brings the record back.
// With batches of one message every version meets the guards in Postgres; with large batches
// most are resolved within the batch.
class ShuffledVersionsTest : public WriterServiceTest, public ::testing::WithParamInterface<int> {};

TEST_P(ShuffledVersionsTest, EndAsTheNewestAndDeletionsStay) {
  CreateTopics();
  const std::string object = "Shuffle__c";
  PublishSchema(object);
  std::mt19937 random(GetParam() * 7 + 1);
  struct Version {
    int64_t modstamp;
    bool deleted;
  };
  std::map<std::string, std::vector<Version>> versions;
  std::map<std::string, int64_t> expected, tombstones, undeleted;
  // Plain records: five updates each, shuffled and duplicated.
  for (int r = 0; r < 20; ++r) {
    const std::string id = StrCat("a08", 1000000 + r);
    for (int v = 1; v <= 5; ++v) versions[id].push_back({1000 * v + r, false});
    expected[id] = 5000 + r;
  }
  // Deleted at 4000 with updates at 1000..3000 (some after the deletion in the stream).
  for (int r = 20; r < 30; ++r) {
    const std::string id = StrCat("a08", 1000000 + r);
    for (int v = 1; v <= 3; ++v) versions[id].push_back({1000 * v + r, false});
    versions[id].push_back({4000 + r, true});
    tombstones[id] = 4000 + r;
  }
  // Deleted at 2000, then undeleted in Salesforce (a newer version at 3000).
  for (int r = 30; r < 35; ++r) {
    const std::string id = StrCat("a08", 1000000 + r);
    versions[id] = {{1000 + r, false}, {2000 + r, true}, {3000 + r, false}};
    expected[id] = 3000 + r;
    undeleted[id] = 2000 + r;
  }
  std::vector<std::pair<std::string, std::string>> stream;
  for (const auto& [id, list] : versions) {
    for (const Version& v : list) {
      const int copies = 1 + static_cast<int>(random() % 3);
      for (int c = 0; c < copies; ++c) {
        stream.push_back({id, Change(object, id, v.modstamp, v.deleted).SerializeAsString()});
      }
    }
  }
  std::shuffle(stream.begin(), stream.end(), random);
  // The deleted records also get their oldest update once more at the very end: late, after
  // the deletion was applied.
  for (int r = 20; r < 30; ++r) {
    const std::string id = StrCat("a08", 1000000 + r);
    stream.push_back({id, Change(object, id, 1000 + r).SerializeAsString()});
  }
  ProduceAll(control::RecordsTopic(org_id_), stream);

  auto writer = std::make_unique<RunningWriter>(Options(/*batch_size=*/GetParam()));
  const auto ends = EndOffsets(control::RecordsTopic(org_id_), kPartitions);
  ASSERT_TRUE(testing::WaitUntil([&] { return StoredOffsets() == ends; }, seconds(120)));
  EXPECT_EQ(Differences(expected, Stored(object)), "");
  auto rows = conn_->Exec("SELECT id, name, amount__c::text FROM salesforce.shuffle__c");
  ASSERT_TRUE(rows.ok()) << rows.status();
  for (const auto& row : rows->rows) {
    const int64_t ms = expected.at(*row[0]);
    EXPECT_EQ(row[1].value_or("<null>"), StrCat("name ", *row[0], " ", ms));
    EXPECT_EQ(row[2].value_or("<null>"), StrCat(ms % 100000, ".25"));
  }
  auto tombs =
      conn_->Exec("SELECT id, modstamp_ms FROM salesforce._tombstones WHERE object = $1", {object});
  ASSERT_TRUE(tombs.ok()) << tombs.status();
  std::map<std::string, int64_t> stored_tombs;
  for (const auto& row : tombs->rows) {
    // An undeleted record keeps the tombstone of its deletion when that was applied on its own;
    // within one batch the newer version simply wins and no tombstone is needed.
    if (auto it = undeleted.find(*row[0]); it != undeleted.end()) {
      EXPECT_EQ(std::stoll(*row[1]), it->second) << *row[0];
    } else {
      stored_tombs[*row[0]] = std::stoll(*row[1]);
    }
  }
  EXPECT_EQ(stored_tombs, tombstones);
  auto letters = conn_->Exec("SELECT count(*) FROM sfbridge.dead_letters");
  ASSERT_TRUE(letters.ok());
  EXPECT_EQ(*letters->rows[0][0], "0");
  ASSERT_TRUE(writer->Stop().ok());
  EXPECT_EQ(writer->service().messages_applied(), static_cast<int64_t>(stream.size()));
}

INSTANTIATE_TEST_SUITE_P(BatchSizes, ShuffledVersionsTest, ::testing::Values(1, 5000),
                         [](const auto& info) { return StrCat("Batch", info.param); });

}  // namespace
}  // namespace sfbridge::writer
