// scripts/servers.sh, which starts every broker the tests and `scripts/run` use: a broker whose
// port was taken between the script's check and its bind starts again on other ports.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/kafka/admin.h"
#include "tests/harness/test_env.h"

namespace sfbridge {
namespace {

struct Result {
  int exit_code;
  std::string output;  // stdout and stderr
};

// Runs the script as the test harness does (popen): a broker it starts outlives the call, which
// RunCommand, killing what is left of the command's process group, would not allow.
Result Script(const std::string& command, const std::string& dir) {
  const std::string cmd =
      testing::SourceDir() + "/scripts/servers.sh " + command + " " + dir + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "cannot run " + cmd};
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

int PortOf(const std::string& host_port) {
  return std::stoi(host_port.substr(host_port.rfind(':') + 1));
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The script prints the broker's address last.
std::string LastLine(const std::string& output) {
  const std::string trimmed = Trim(output);
  const size_t newline = trimmed.rfind('\n');
  return newline == std::string::npos ? trimmed : trimmed.substr(newline + 1);
}

// Binds 127.0.0.1:port without listening: a connect to it is refused (the script's check sees a
// free port) while a server's bind fails with "address in use".
class BoundNotListening {
 public:
  explicit BoundNotListening(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~BoundNotListening() { close(fd_); }
  bool bound() const { return bound_; }

 private:
  int fd_;
  bool bound_ = false;
};

TEST(ServersScriptTest, AKafkaWhosePortIsTakenAtItsBindStartsOnOtherPorts) {
  testing::TempDir dir("sfbridge_servers");
  const std::string kafka_dir = dir.Path("kafka");
  // Whatever fails below, no broker outlives the test.
  struct StopAtEnd {
    const std::string& dir;
    ~StopAtEnd() { Script("kafka-stop", dir); }
  } stop_at_end{kafka_dir};
  auto first = Script("kafka-start", kafka_dir);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string first_address = LastLine(first.output);
  auto stopped = Script("kafka-stop", kafka_dir);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;

  // Started again, the broker first tries its previous ports, which look free but are not.
  BoundNotListening taken(PortOf(first_address));
  ASSERT_TRUE(taken.bound()) << first_address;
  auto second = Script("kafka-start", kafka_dir);
  const std::string second_address = LastLine(second.output);
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("exited during start-up (attempt 1)"), std::string::npos)
      << second.output;
  EXPECT_NE(PortOf(second_address), PortOf(first_address)) << second.output;
  // Its brokers file names the broker that runs, which answers there.
  std::ifstream brokers(kafka_dir + "/brokers");
  std::stringstream content;
  content << brokers.rdbuf();
  EXPECT_EQ(Trim(content.str()), second_address);
  auto cluster = kafka::DescribeCluster(second_address, 10000);
  EXPECT_TRUE(cluster.ok()) << cluster.status();

  // A restart must keep its ports: with one taken it fails, and says so.
  auto stopped_again = Script("kafka-stop", kafka_dir);
  ASSERT_EQ(stopped_again.exit_code, 0) << stopped_again.output;
  BoundNotListening now_taken(PortOf(second_address));
  ASSERT_TRUE(now_taken.bound());
  auto restarted = Script("kafka-restart", kafka_dir);
  EXPECT_NE(restarted.exit_code, 0) << restarted.output;
  EXPECT_NE(restarted.output.find("Kafka did not start"), std::string::npos) << restarted.output;
  EXPECT_EQ(restarted.output.find("attempt 2"), std::string::npos) << restarted.output;
}

}  // namespace
}  // namespace sfbridge
