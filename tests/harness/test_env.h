#pragma once

// How integration tests reach real servers: a throwaway PostgreSQL cluster and a single-node
// KRaft Kafka broker, never anybody's own.
//
// scripts/test starts one of each for the whole run and exports SFBRIDGE_TEST_PG_URL and
// SFBRIDGE_TEST_KAFKA_BROKERS. A test binary run on its own (no variables) starts its own pair
// with scripts/servers.sh on first use and stops them when the process exits. Either way every
// test isolates itself: a database of its own (TempDatabase), topics and groups with unique
// names (UniqueName), so tests and whole runs may go on at the same time.

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::testing {

// A superuser URL of the test PostgreSQL server (database "postgres").
const std::string& PostgresServerUrl();

// host:port of the test Kafka broker.
const std::string& KafkaBrokers();

// "<prefix>_<pid>_<counter>_<random>": unique across processes and runs. Lower case, [a-z0-9_].
std::string UniqueName(std::string_view prefix);

// A fresh, empty database on the test server, dropped with its connections on destruction.
class TempDatabase {
 public:
  TempDatabase();
  ~TempDatabase();
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  const std::string& name() const { return name_; }
  // A superuser URL of this database.
  const std::string& url() const { return url_; }

 private:
  std::string name_, url_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string output;               // stdout and stderr, interleaved
  bool group_left_running = false;  // a process of its group was still alive after it exited
};

// Runs `argv` in a process group of its own, with `env` added to the environment, and waits
// up to `timeout`. After it exits, checks that nothing it started is still running.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         std::chrono::seconds timeout = std::chrono::seconds(60));

// The repository's root directory.
std::string SourceDir();

// A free TCP port on 127.0.0.1 (free when this returns; good enough for a test).
int FreePort();

// The full path of program `name` found on PATH (RunCommand and ChildProcess do not search
// PATH); "/usr/bin/<name>" when PATH has none.
std::string FindProgram(std::string_view name);

// A temporary directory, traversable by every user (a test cluster in it runs as the postgres
// user), removed with its content on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "sfbridge_test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `name` inside the directory.
  std::string Path(std::string_view name) const;

 private:
  std::string path_;
};

// A server of the test's own, started with scripts/servers.sh in a temporary directory, for a
// test that stops or restarts it (never the shared one other tests use). Stopped and removed on
// destruction. The constructor and Start/Stop/Restart throw std::runtime_error when the script
// fails or the server comes back elsewhere (the test fails; destructors still stop what runs). A
// PostgreSQL one runs with synchronous_commit on, so that a crash keeps every commit, as in
// production.
class OwnServer {
 public:
  enum class Kind { kPostgres, kKafka };
  explicit OwnServer(Kind kind);
  ~OwnServer();
  OwnServer(const OwnServer&) = delete;
  OwnServer& operator=(const OwnServer&) = delete;

  // PostgreSQL: a superuser URL of database "postgres"; Kafka: host:port. The same after a
  // Restart or a Stop and Start.
  const std::string& address() const { return address_; }
  // PostgreSQL: pg_ctl -m immediate stop (a crash); Kafka: SIGTERM, SIGKILL after 15 s.
  void Stop();
  // Starts it again on the same port with the same data.
  void Start();
  // Stop, then Start (scripts/servers.sh pg-restart / kafka-restart).
  void Restart();

 private:
  std::string Script(std::string_view command) const;
  Kind kind_;
  TempDir dir_;
  std::string address_;
};

}  // namespace sfbridge::testing
