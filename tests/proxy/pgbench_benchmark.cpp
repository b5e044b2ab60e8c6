// pgbench select-only through the proxy against the same server directly, in one run:
// alternating rounds (direct, proxy, relay, direct, ...), the median TPS of each side and the
// ratios per protocol. The goal is proxy / direct of at least 0.9. The relay is socat copying
// bytes between two TCP connections and nothing else: what any proxy in a process of its own
// costs on this machine (a hop more over loopback, two more wake-ups per query), so
// proxy / relay is the proxy's own share.
//
//   proxy_pgbench_benchmark [rounds=5] [seconds=5] [clients=8]

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

#include "common/core/metrics.h"
#include "proxy/proxy_server.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"
#include "tests/proxy/proxy_test_support.h"

namespace {

using sfbridge::testing::RunCommand;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double RunPgbench(const std::string& url, const std::string& protocol, int seconds, int clients) {
  auto r = RunCommand({"/usr/bin/pgbench", "-n", "-S", "-M", protocol, "-c",
                       std::to_string(clients), "-j", "2", "-T", std::to_string(seconds), url},
                      {}, std::chrono::seconds(seconds + 120));
  std::smatch m;
  if (r.exit_code != 0 ||
      !std::regex_search(r.output, m, std::regex("tps = ([0-9.]+) \\(without initial"))) {
    std::cerr << "pgbench failed: " << r.output << std::endl;
    std::exit(1);
  }
  return std::stod(m[1]);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sfbridge;
  int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  int clients = argc > 3 ? std::atoi(argv[3]) : 8;
  testing::TempDatabase db;
  auto init = RunCommand({"/usr/bin/pgbench", "-i", "-q", "-s", "10", db.url()}, {},
                         std::chrono::seconds(600));
  if (init.exit_code != 0) {
    std::cerr << init.output;
    return 1;
  }
  core::MetricsRegistry metrics;
  proxy::testing::InProcessProxy proxy(proxy::MakePassThroughWritePath());
  std::string via_proxy = "postgresql://postgres@127.0.0.1:" + std::to_string(proxy.port()) + "/" +
                          db.name() + "?sslmode=disable";
  std::string direct = db.url() + "?sslmode=disable";
  std::smatch port;
  const std::string db_url = db.url();
  if (!std::regex_search(db_url, port, std::regex(":([0-9]+)/"))) return 1;
  const int relay_port = testing::FreePort();
  auto relay = testing::ChildProcess::Start(
      {testing::FindProgram("socat"),
       "TCP-LISTEN:" + std::to_string(relay_port) + ",fork,reuseaddr,nodelay",
       "TCP:127.0.0.1:" + std::string(port[1]) + ",nodelay"});
  if (relay == nullptr) return 1;
  std::string via_relay = "postgresql://postgres@127.0.0.1:" + std::to_string(relay_port) + "/" +
                          db.name() + "?sslmode=disable";
  std::printf(
      "pgbench -S (select-only), scale 10, %d clients, %d s per run, %d alternating "
      "rounds\n",
      clients, seconds, rounds);
  std::printf("%-10s %12s %12s %12s %14s %13s %13s\n", "protocol", "direct tps", "proxy tps",
              "relay tps", "proxy/direct", "relay/direct", "proxy/relay");
  for (std::string protocol : {"simple", "extended", "prepared"}) {
    std::vector<double> d, p, r;
    for (int i = 0; i < rounds; ++i) {
      d.push_back(RunPgbench(direct, protocol, seconds, clients));
      p.push_back(RunPgbench(via_proxy, protocol, seconds, clients));
      r.push_back(RunPgbench(via_relay, protocol, seconds, clients));
    }
    double md = Median(d), mp = Median(p), mr = Median(r);
    std::printf("%-10s %12.0f %12.0f %12.0f %14.3f %13.3f %13.3f\n", protocol.c_str(), md, mp, mr,
                mp / md, mr / md, mp / mr);
    std::fflush(stdout);
  }
  return 0;
}
