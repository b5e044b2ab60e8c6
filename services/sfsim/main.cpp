// sfsim: a Salesforce org simulator for sfbridge's tests, benchmarks and local runs.

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/core/logging.h"
#include "common/core/service_main.h"
#include "common/core/signals.h"
#include "common/core/strings.h"
#include "sfsim/simulator.h"

namespace {

using sfbridge::core::Config;
using sfbridge::core::ConfigSchema;
using sfbridge::core::ConfigType;
using sfbridge::core::StrCat;

ConfigSchema Schema() {
  ConfigSchema s;
  s.Add({.name = "http.host", .help = "Address to listen on.", .default_value = "127.0.0.1"})
      .Add({.name = "http.port",
            .type = ConfigType::kInt,
            .help = "Port to listen on; 0 picks a free one (printed at start).",
            .default_value = "0",
            .min = 0,
            .max = 65535})
      .Add({.name = "tls.cert", .help = "PEM certificate file; with tls.key, serve HTTPS."})
      .Add({.name = "tls.key", .help = "PEM private key file for tls.cert."})
      .Add({.name = "org.seed",
            .type = ConfigType::kInt,
            .help = "Seed of the generated data: same seed and counts, same org.",
            .default_value = "1",
            .min = 0})
      .Add({.name = "org.counts",
            .help = "Records generated per object, e.g. Account=1000,Contact=20000.",
            .default_value = "User=20,Account=200,Contact=1000"})
      .Add({.name = "org.burst",
            .type = ConfigType::kInt,
            .help = "Generated records sharing one SystemModstamp.",
            .default_value = "250",
            .min = 1})
      .Add({.name = "oauth.client-id",
            .help = "Connected app consumer key.",
            .default_value = "sfbridge-local"})
      .Add({.name = "oauth.client-secret",
            .help = "Connected app consumer secret.",
            .default_value = "sfbridge-local-secret",
            .secret = true})
      .Add({.name = "oauth.username",
            .help = "The integration user.",
            .default_value = "integration@sfsim.local"})
      .Add({.name = "oauth.password",
            .help = "Password + security token of the user.",
            .default_value = "sfsim-password",
            .secret = true})
      .Add({.name = "oauth.jwt-cert",
            .help = "PEM certificate (or public key) file verifying JWT bearer assertions; "
                    "empty disables that flow."})
      .Add({.name = "oauth.refresh-tokens",
            .help = "Comma-separated refresh tokens the org accepts.",
            .secret = true})
      .Add({.name = "oauth.token-lifetime",
            .type = ConfigType::kDuration,
            .help = "How long an access token works.",
            .default_value = "2h",
            .min = 1000})
      .Add({.name = "limits.daily-max",
            .type = ConfigType::kInt,
            .help = "DailyApiRequests Max.",
            .default_value = "1000000",
            .min = 0})
      .Add({.name = "limits.long-running-max",
            .type = ConfigType::kInt,
            .help = "Concurrent requests of 20 s or more.",
            .default_value = "25",
            .min = 0})
      .Add({.name = "faults.error-5xx-rate",
            .help = "Share of calls answered 503 (0..1).",
            .default_value = "0"})
      .Add({.name = "faults.drop-rate",
            .help = "Share of calls dropped unanswered (0..1).",
            .default_value = "0"})
      .Add({.name = "faults.cut-rate",
            .help = "Share of calls answered with half their body, then the connection closed "
                    "(0..1).",
            .default_value = "0"})
      .Add({.name = "faults.lock-rate",
            .help = "Share of writes failing UNABLE_TO_LOCK_ROW.",
            .default_value = "0"})
      .Add({.name = "faults.latency",
            .type = ConfigType::kDuration,
            .help = "Added to every REST call, as a real org's round trip.",
            .default_value = "0ms",
            .min = 0})
      .Add({.name = "faults.latency-per-record-us",
            .type = ConfigType::kInt,
            .help = "Added per record returned or written, in microseconds.",
            .default_value = "0",
            .min = 0})
      .Add({.name = "churn.per-second",
            .help = "Live creates/updates/deletes per second.",
            .default_value = "0"})
      .Add({.name = "churn.burst",
            .type = ConfigType::kInt,
            .help = "Changes sharing one SystemModstamp.",
            .default_value = "1",
            .min = 1})
      .Add({.name = "query.batch-size",
            .type = ConfigType::kInt,
            .help = "Default query page size.",
            .default_value = "2000",
            .min = 200,
            .max = 2000})
      .Add({.name = "bulk.records-per-second",
            .help = "How fast a Bulk API 2.0 query job processes records (simulated time).",
            .default_value = "100000"})
      .Add({.name = "bulk.daily-max",
            .type = ConfigType::kInt,
            .help = "DailyBulkV2QueryJobs Max: query jobs per rolling 24 hours.",
            .default_value = "10000",
            .min = 0})
      .Add({.name = "admin.enabled",
            .type = ConfigType::kBool,
            .help = "Serve the test-only admin API under /__sfsim/.",
            .default_value = "false"});
  return s;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* key) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(StrCat(key, ": cannot read file '", path, "'"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<double> Rate(const Config& c, const char* key) {
  const std::string& text = c.GetString(key);
  char* end = nullptr;
  double v = strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || v < 0) {
    return absl::InvalidArgumentError(
        StrCat(key, ": expected a number of at least 0, got '", text, "'"));
  }
  return v;
}

absl::StatusOr<std::map<std::string, int64_t>> Counts(const std::string& text) {
  std::map<std::string, int64_t> counts;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    size_t eq = item.find('=');
    char* end = nullptr;
    long long n = eq == std::string::npos ? -1 : strtoll(item.c_str() + eq + 1, &end, 10);
    if (eq == std::string::npos || n < 0 || (end && *end != '\0')) {
      return absl::InvalidArgumentError(
          StrCat("org.counts: expected Object=count pairs, got '", item, "'"));
    }
    counts[item.substr(0, eq)] = n;
  }
  return counts;
}

absl::Status Run(const Config& c) {
  sfbridge::core::ShutdownSignal& shutdown = sfbridge::core::ShutdownSignal::Install();
  auto log = sfbridge::core::Logger("sfsim");
  sfbridge::sfsim::SimulatorOptions o;
  o.server.host = c.GetString("http.host");
  o.server.port = static_cast<uint16_t>(c.GetInt("http.port"));
  o.server.tls_cert_file = c.GetString("tls.cert");
  o.server.tls_key_file = c.GetString("tls.key");
  if (o.server.tls_cert_file.empty() != o.server.tls_key_file.empty()) {
    return absl::InvalidArgumentError("tls.cert and tls.key go together: set both or neither");
  }
  o.org.seed = static_cast<uint64_t>(c.GetInt("org.seed"));
  auto counts = Counts(c.GetString("org.counts"));
  if (!counts.ok()) return counts.status();
  o.org.counts = *counts;
  o.org.burst_size = static_cast<int>(c.GetInt("org.burst"));
  o.oauth.client_id = c.GetString("oauth.client-id");
  o.oauth.client_secret = c.GetString("oauth.client-secret");
  o.oauth.username = c.GetString("oauth.username");
  o.oauth.password = c.GetString("oauth.password");
  if (!c.GetString("oauth.jwt-cert").empty()) {
    auto pem = ReadFile(c.GetString("oauth.jwt-cert"), "oauth.jwt-cert");
    if (!pem.ok()) return pem.status();
    o.oauth.jwt_certificate_pem = *pem;
  }
  std::stringstream tokens(c.GetString("oauth.refresh-tokens"));
  for (std::string t; std::getline(tokens, t, ',');) {
    if (!t.empty()) o.oauth.refresh_tokens.push_back(t);
  }
  o.oauth.token_lifetime =
      std::chrono::duration_cast<std::chrono::seconds>(c.GetDuration("oauth.token-lifetime"));
  o.daily_api_max = c.GetInt("limits.daily-max");
  o.long_running_max = static_cast<int>(c.GetInt("limits.long-running-max"));
  for (auto [key, target] : {std::pair{"faults.error-5xx-rate", &o.faults.error_5xx_rate},
                             std::pair{"faults.drop-rate", &o.faults.drop_rate},
                             std::pair{"faults.cut-rate", &o.faults.cut_rate},
                             std::pair{"faults.lock-rate", &o.faults.lock_rate},
                             std::pair{"churn.per-second", &o.churn_per_second}}) {
    auto v = Rate(c, key);
    if (!v.ok()) return v.status();
    *target = *v;
  }
  o.faults.latency_ms = c.GetDuration("faults.latency").count();
  o.faults.latency_per_record_us = c.GetInt("faults.latency-per-record-us");
  o.churn_burst = static_cast<int>(c.GetInt("churn.burst"));
  o.query_batch_size = static_cast<int>(c.GetInt("query.batch-size"));
  o.admin_enabled = c.GetBool("admin.enabled");
  auto bulk_rate = Rate(c, "bulk.records-per-second");
  if (!bulk_rate.ok()) return bulk_rate.status();
  if (*bulk_rate <= 0) {
    return absl::InvalidArgumentError("bulk.records-per-second: expected a number above 0");
  }
  o.bulk.records_per_second = *bulk_rate;
  o.bulk.daily_max = c.GetInt("bulk.daily-max");

  auto started = std::chrono::steady_clock::now();
  auto sim = sfbridge::sfsim::Simulator::Start(o, sfbridge::core::SystemClock::Instance());
  if (!sim.ok()) return sim.status();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int64_t total = 0;
  for (const auto& [name, n] : o.org.counts) total += n;
  // The one line a supervising script waits for.
  printf("sfsim listening on %s\n", (*sim)->base_url().c_str());
  fflush(stdout);
  log->info("org={} records={} generated_in_s={:.1f} url={} admin={} churn_per_s={}",
            (*sim)->org().org_id(), total, seconds, (*sim)->base_url(),
            o.admin_enabled ? "on" : "off", o.churn_per_second);
  shutdown.Wait();
  log->info("stopping on signal {}", shutdown.signal_number());
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return sfbridge::core::ServiceMain(
      "sfsim",
      "a Salesforce org simulator (REST and Bulk 2.0 query APIs, OAuth, limits, faults, churn)",
      Schema(), argc, argv, Run);
}
