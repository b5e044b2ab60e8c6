#include "tests/harness/test_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "common/core/strings.h"
#include "common/postgres/connection.h"
#include "tests/harness/child_process.h"

namespace sfbridge::testing {
namespace {

using core::StrCat;

// Servers this process started itself, stopped at exit.
struct OwnServers {
  std::string pg_dir, kafka_dir;
  ~OwnServers() {
    std::string script = SourceDir() + "/scripts/servers.sh";
    if (!pg_dir.empty()) {
      std::system(StrCat(script, " pg-stop ", pg_dir, " >/dev/null 2>&1").c_str());
    }
    if (!kafka_dir.empty()) {
      std::system(StrCat(script, " kafka-stop ", kafka_dir, " >/dev/null 2>&1").c_str());
    }
    for (const std::string& d : {pg_dir, kafka_dir}) {
      if (!d.empty()) std::filesystem::remove_all(std::filesystem::path(d).parent_path());
    }
  }
};

OwnServers& Own() {
  static OwnServers own;
  return own;
}

std::string StartServer(const char* what, std::string& dir_out) {
  char tmpl[] = "/tmp/sfbridge-test-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  std::filesystem::permissions(tmpl, std::filesystem::perms::all);
  std::string dir = StrCat(tmpl, "/", what);
  std::string cmd = StrCat(SourceDir(), "/scripts/servers.sh ", what, "-start ", dir);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  int rc = pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (rc != 0 || out.empty()) {
    fprintf(stderr, "test harness: '%s' failed (exit %d)\n", cmd.c_str(), rc);
    std::abort();
  }
  dir_out = dir;
  return out;
}

std::string FromEnvOrStart(const char* env_name, const char* what, std::string OwnServers::*dir) {
  const char* v = std::getenv(env_name);
  if (v && *v) return v;
  return StartServer(what, Own().*dir);
}

// URL of database `db` on the server of `server_url` (which names database "postgres").
std::string WithDatabase(const std::string& server_url, const std::string& db) {
  size_t slash = server_url.rfind('/');
  size_t query = server_url.find('?', slash);
  return StrCat(server_url.substr(0, slash + 1), db,
                query == std::string::npos ? "" : server_url.substr(query));
}

}  // namespace

std::string SourceDir() { return SFBRIDGE_SOURCE_DIR; }

const std::string& PostgresServerUrl() {
  static const std::string url = FromEnvOrStart("SFBRIDGE_TEST_PG_URL", "pg", &OwnServers::pg_dir);
  return url;
}

const std::string& KafkaBrokers() {
  static const std::string brokers =
      FromEnvOrStart("SFBRIDGE_TEST_KAFKA_BROKERS", "kafka", &OwnServers::kafka_dir);
  return brokers;
}

std::string UniqueName(std::string_view prefix) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}();
  return StrCat(prefix, "_", static_cast<int>(getpid()), "_", counter.fetch_add(1), "_",
                salt % 100000);
}

TempDatabase::TempDatabase() : name_(UniqueName("t")) {
  auto admin = postgres::Connection::Connect(PostgresServerUrl());
  if (!admin.ok()) throw std::runtime_error(std::string(admin.status().message()));
  auto created = (*admin)->Exec(StrCat("CREATE DATABASE ", name_));
  if (!created.ok()) throw std::runtime_error(std::string(created.status().message()));
  url_ = WithDatabase(PostgresServerUrl(), name_);
}

TempDatabase::~TempDatabase() {
  auto admin = postgres::Connection::Connect(PostgresServerUrl());
  if (admin.ok()) (void)(*admin)->Exec(StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         std::chrono::seconds timeout) {
  CommandResult result;
  std::unique_ptr<ChildProcess> child = ChildProcess::Start(argv, env);
  if (!child) {
    result.output = StrCat("cannot start ", argv[0]);
    return result;
  }
  std::optional<int> code = child->Wait(timeout);
  if (!code) {
    result.timed_out = true;
    child->Signal(SIGKILL);
    child->Wait(std::chrono::seconds(10));
  } else if (*code < 128) {
    result.exit_code = *code;
  }
  // Anything of its group still alive? Give stragglers a moment to exit on their own.
  for (int i = 0; i < 50 && child->GroupAlive(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.group_left_running = child->GroupAlive();
  if (!result.group_left_running) child->WaitForOutputEnd(std::chrono::seconds(5));
  result.output = child->Output();
  return result;  // the ChildProcess kills whatever of its group is left
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string FindProgram(std::string_view name) {
  const char* env = getenv("PATH");
  const std::string path = env != nullptr ? env : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::filesystem::path candidate =
        std::filesystem::path(path.substr(start, end - start)) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return StrCat("/usr/bin/", name);
}

TempDir::TempDir(std::string_view prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / StrCat(prefix, "_XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
  namespace fs = std::filesystem;
  fs::permissions(path_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Path(std::string_view name) const { return StrCat(path_, "/", name); }

OwnServer::OwnServer(Kind kind) : kind_(kind), dir_("sfbridge_own") {
  address_ = Script("start");
  if (kind_ == Kind::kPostgres) {
    // scripts/servers.sh turns synchronous_commit off for speed, which makes a crash
    // (pg_ctl -m immediate) lose the last commits; a restart test needs what a production
    // server does: a commit survives.
    auto admin = postgres::Connection::Connect(address_);
    if (!admin.ok() || !(*admin)->Exec("ALTER SYSTEM SET synchronous_commit = on").ok() ||
        !(*admin)->Exec("SELECT pg_reload_conf()").ok()) {
      Script("stop");
      throw std::runtime_error("test harness: cannot turn synchronous_commit on");
    }
  }
}

OwnServer::~OwnServer() {
  const std::string prefix = kind_ == Kind::kPostgres ? "pg" : "kafka";
  std::system(StrCat(SourceDir(), "/scripts/servers.sh ", prefix, "-stop ", dir_.Path(prefix),
                     " >/dev/null 2>&1")
                  .c_str());
}

std::string OwnServer::Script(std::string_view command) const {
  const std::string prefix = kind_ == Kind::kPostgres ? "pg" : "kafka";
  std::string cmd =
      StrCat(SourceDir(), "/scripts/servers.sh ", prefix, "-", command, " ", dir_.Path(prefix));
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  int rc = pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (rc != 0 || (command != "stop" && out.empty())) {
    throw std::runtime_error(StrCat("test harness: '", cmd, "' failed (exit ", rc, ")"));
  }
  return out;
}

void OwnServer::Stop() { Script("stop"); }

void OwnServer::Start() {
  const std::string address = Script("start");
  if (address != address_) {
    throw std::runtime_error(
        StrCat("test harness: server came back as ", address, " instead of ", address_));
  }
}

void OwnServer::Restart() {
  const std::string address = Script("restart");
  if (address != address_) {
    throw std::runtime_error(
        StrCat("test harness: server came back as ", address, " instead of ", address_));
  }
}

}  // namespace sfbridge::testing
