#pragma once

// What the fetcher's integration tests share: the sfsim org's credentials, the fetcher's options
// against it, reading the records topic back, and comparing it with sfsim's digest.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/control/org_settings.h"
#include "common/core/strings.h"
#include "common/kafka/consumer.h"
#include "common/postgres/connection.h"
#include "fetcher/fetcher_service.h"
#include "sfbridge/v1/record.pb.h"
#include "sfsim/simulator.h"
#include "tests/harness/test_env.h"
#include "tests/integration/sync_test_support.h"

namespace sfbridge::testing {

using std::chrono::milliseconds;
using std::chrono::seconds;

inline constexpr std::string_view kClientId = "3MVG9fetcherIntegrationConsumerKey";
inline constexpr std::string_view kClientSecret = "fetcher-client-secret-2c4e6a8b";
inline constexpr std::string_view kUsername = "fetcher@sfbridge.example";
inline constexpr std::string_view kPassword = "fetcher-pass-word-token-9Zq";
inline constexpr SimLogin kLogin = {kClientId, kClientSecret, kUsername, kPassword};

// An sfsim org with the admin API and the credentials above; `counts` records per object.
inline sfsim::SimulatorOptions SimOptions(std::map<std::string, int64_t> counts,
                                          int burst_size = 500) {
  return SimOrgOptions(7, std::move(counts), burst_size, kLogin);
}

// The environment of an sfbridge-fetcher binary reading `objects` of `sim` for `org_id`.
inline std::map<std::string, std::string> FetcherEnv(const std::string& postgres_url,
                                                     const std::string& org_id,
                                                     const std::string& sim_url,
                                                     const std::string& objects) {
  return {
      {"SFBRIDGE_POSTGRES_URL", postgres_url},
      {"SFBRIDGE_KAFKA_BROKERS", KafkaBrokers()},
      {"SFBRIDGE_ORG_ID", org_id},
      {"SFBRIDGE_SALESFORCE_LOGIN_URL", sim_url},
      {"SFBRIDGE_SALESFORCE_CLIENT_ID", std::string(kClientId)},
      {"SFBRIDGE_SALESFORCE_CLIENT_SECRET", std::string(kClientSecret)},
      {"SFBRIDGE_SALESFORCE_USERNAME", std::string(kUsername)},
      {"SFBRIDGE_SALESFORCE_PASSWORD", std::string(kPassword)},
      {"SFBRIDGE_FETCHER_OBJECTS", objects},
      {"SFBRIDGE_KAFKA_PARTITIONS", "3"},
      {"SFBRIDGE_METRICS_HOST", "127.0.0.1"},
      {"SFBRIDGE_METRICS_PORT", "0"},
  };
}

// The org's objects as the control plane holds them, by name (empty, with a test failure, when
// they cannot be read).
inline std::map<std::string, control::ObjectStatus> ObjectsByName(postgres::Connection& conn,
                                                                  const std::string& org_id) {
  std::map<std::string, control::ObjectStatus> out;
  auto objects = control::LoadObjects(conn, org_id);
  EXPECT_TRUE(objects.ok()) << objects.status();
  if (objects.ok()) {
    for (auto& o : *objects) out[o.object_name] = o;
  }
  return out;
}

// Whether every object of `names` is live.
inline bool AllLive(postgres::Connection& conn, const std::string& org_id,
                    const std::vector<std::string>& names) {
  auto objects = ObjectsByName(conn, org_id);
  for (const std::string& name : names) {
    auto it = objects.find(name);
    if (it == objects.end() || it->second.state != control::ObjectState::kLive) return false;
  }
  return true;
}

// The latest version of each record seen in the records topic.
struct Seen {
  int64_t modstamp_ms = 0;
  bool deleted = false;
};
using SeenByObject = std::map<std::string, std::map<std::string, Seen>>;

// Reads sfbridge.<org>.records from the beginning, keeping the latest version of each record and
// how many messages each record had.
class RecordsReader {
 public:
  explicit RecordsReader(const std::string& topic, const std::string& brokers = KafkaBrokers()) {
    auto c = kafka::Consumer::Create({.brokers = brokers, .group_id = UniqueName("fetcher_it")});
    EXPECT_TRUE(c.ok()) << c.status();
    consumer_ = *std::move(c);
    EXPECT_TRUE(consumer_->Subscribe({topic}).ok());
  }

  // Reads until nothing arrives for `quiet`, or `stop_when` holds, or `limit` passed.
  template <typename Pred>
  void ReadUntil(Pred stop_when, milliseconds quiet, milliseconds limit) {
    const auto start = std::chrono::steady_clock::now();
    auto last = start;
    while (std::chrono::steady_clock::now() - start < limit) {
      auto m = consumer_->Poll(200);
      ASSERT_TRUE(m.ok()) << m.status();
      if (m->has_value()) {
        v1::RecordChange change;
        ASSERT_TRUE(
            change.ParseFromArray((*m)->value().data(), static_cast<int>((*m)->value().size())));
        ++messages_;
        ++versions_[change.record_id()][change.system_modstamp_ms()];
        Seen& s = seen_[change.object_name()][change.record_id()];
        if (change.system_modstamp_ms() >= s.modstamp_ms) {
          s = {change.system_modstamp_ms(), change.deleted()};
        }
        last = std::chrono::steady_clock::now();
        continue;
      }
      if (stop_when(seen_)) return;
      if (std::chrono::steady_clock::now() - last >= quiet) return;
    }
  }

  const SeenByObject& seen() const { return seen_; }
  int64_t messages() const { return messages_; }
  // Messages that repeated a version already published (same record, same SystemModstamp).
  int64_t repeated_versions() const {
    int64_t n = 0;
    for (const auto& [id, by_stamp] : versions_) {
      for (const auto& [stamp, count] : by_stamp) n += count - 1;
    }
    return n;
  }

 private:
  std::unique_ptr<kafka::Consumer> consumer_;
  SeenByObject seen_;
  std::map<std::string, std::map<int64_t, int>> versions_;
  int64_t messages_ = 0;
};

// Records missing from or extra in `seen` compared with the org, or with an older modstamp;
// empty when they agree.
inline std::string Differences(const std::map<std::string, int64_t>& expected,
                               const std::map<std::string, Seen>& seen) {
  int missing = 0, extra = 0, stale = 0;
  std::string example;
  for (const auto& [id, stamp] : expected) {
    auto it = seen.find(id);
    if (it == seen.end()) {
      if (++missing == 1) example = core::StrCat("missing ", id);
    } else if (it->second.modstamp_ms != stamp) {
      if (++stale == 1 && example.empty()) {
        example = core::StrCat("stale ", id, " ", it->second.modstamp_ms, " != ", stamp);
      }
    }
  }
  for (const auto& [id, s] : seen) {
    if (!expected.contains(id) && ++extra == 1 && example.empty()) {
      example = core::StrCat("extra ", id);
    }
  }
  if (missing + extra + stale == 0) return "";
  return core::StrCat("missing=", missing, " extra=", extra, " stale=", stale, " (", example, ")");
}

// Whether `seen` matches sfsim's digest (deleted records included) for every object.
inline bool MatchesOrg(sfsim::Simulator& sim, const std::vector<std::string>& objects,
                       const SeenByObject& seen) {
  for (const std::string& object : objects) {
    auto it = seen.find(object);
    if (it == seen.end()) return false;
    if (!Differences(sim.org().Digest(object, true), it->second).empty()) return false;
  }
  return true;
}

}  // namespace sfbridge::testing
