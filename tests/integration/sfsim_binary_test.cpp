// The sfsim program as a person or a script runs it: configuration errors, start-up, the line
// scripts wait for, a clean stop on SIGTERM.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <sstream>

#include "Poco/Net/HTTPClientSession.h"
#include "Poco/Net/HTTPRequest.h"
#include "Poco/Net/HTTPResponse.h"
#include "Poco/StreamCopier.h"
#include "Poco/URI.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"

namespace sfbridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::pair<int, std::string> Get(const std::string& base, const std::string& path) {
  Poco::URI uri(base);
  Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
  Poco::Net::HTTPRequest request("GET", path, Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::string body;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
  return {response.getStatus(), body};
}

TEST(SfsimBinaryTest, StartsServesAndStopsCleanlyOnSigterm) {
  auto sim = testing::ChildProcess::Start({SFBRIDGE_SFSIM, "--org.counts=Account=300,Contact=2000",
                                           "--admin.enabled", "--log.format=text"});
  ASSERT_TRUE(sim);
  auto line = sim->WaitForLine("sfsim listening on ", std::chrono::seconds(30));
  ASSERT_TRUE(line) << sim->Output();
  std::string base = line->substr(std::string("sfsim listening on ").size());
  EXPECT_THAT(base, HasSubstr("http://127.0.0.1:"));

  auto [status, versions] = Get(base, "/services/data/");
  EXPECT_EQ(status, 200);
  EXPECT_THAT(versions, HasSubstr("\"version\":\"59.0\""));
  auto [digest_status, digest] = Get(base, "/__sfsim/digest/Contact");
  EXPECT_EQ(digest_status, 200);
  EXPECT_THAT(digest, HasSubstr("\"count\":2000"));
  auto [unauthorized, body] = Get(base, "/services/data/v59.0/limits");
  EXPECT_EQ(unauthorized, 401);
  EXPECT_THAT(body, HasSubstr("INVALID_SESSION_ID"));

  sim->Signal(SIGTERM);
  auto code = sim->Wait(std::chrono::seconds(20));
  ASSERT_TRUE(code) << "sfsim did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << sim->Output();
  EXPECT_FALSE(sim->GroupAlive());
  EXPECT_THAT(sim->Output(), HasSubstr("stopping on signal 15"));
}

TEST(SfsimBinaryTest, AdminApiIsOffUnlessEnabled) {
  auto sim = testing::ChildProcess::Start({SFBRIDGE_SFSIM, "--org.counts=Account=10"});
  ASSERT_TRUE(sim);
  auto line = sim->WaitForLine("sfsim listening on ", std::chrono::seconds(30));
  ASSERT_TRUE(line) << sim->Output();
  std::string base = line->substr(std::string("sfsim listening on ").size());
  EXPECT_EQ(Get(base, "/__sfsim/stats").first, 404);
  sim->Signal(SIGTERM);
  EXPECT_EQ(sim->Wait(std::chrono::seconds(20)), 0);
}

TEST(SfsimBinaryTest, BadConfigurationExitsTwoWithMessagesThatNameTheKey) {
  auto r = testing::RunCommand({SFBRIDGE_SFSIM, "--http.port=99999", "--churn.burst=0",
                                "--oauth.client-secret=hunter2", "--org.seeed=4"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("http.port: expected an integer from 0 to 65535, got '99999'"));
  EXPECT_THAT(r.output, HasSubstr("churn.burst: expected an integer of at least 1"));
  EXPECT_THAT(r.output, HasSubstr("did you mean 'org.seed'?"));
  EXPECT_THAT(r.output, Not(HasSubstr("hunter2")));
  EXPECT_FALSE(r.group_left_running);

  auto counts = testing::RunCommand({SFBRIDGE_SFSIM, "--org.counts=Contact:5"});
  EXPECT_EQ(counts.exit_code, 2) << counts.output;
  EXPECT_THAT(counts.output, HasSubstr("org.counts: expected Object=count pairs, got 'Contact:5'"));

  auto unknown = testing::RunCommand({SFBRIDGE_SFSIM, "--org.counts=Nope__c=5"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.output, HasSubstr("Nope__c"));
  EXPECT_FALSE(unknown.group_left_running);

  auto tls = testing::RunCommand({SFBRIDGE_SFSIM, "--tls.cert=/nonexistent.pem"});
  EXPECT_EQ(tls.exit_code, 2) << tls.output;
  EXPECT_THAT(tls.output, HasSubstr("tls.cert and tls.key go together"));
}

TEST(SfsimBinaryTest, TakenPortIsAClearError) {
  auto first = testing::ChildProcess::Start({SFBRIDGE_SFSIM, "--org.counts=Account=1"});
  ASSERT_TRUE(first);
  auto line = first->WaitForLine("sfsim listening on ", std::chrono::seconds(30));
  ASSERT_TRUE(line);
  std::string port = line->substr(line->rfind(':') + 1);
  auto second = testing::RunCommand({SFBRIDGE_SFSIM, "--http.port=" + port});
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_THAT(second.output, HasSubstr("cannot listen on 127.0.0.1:" + port));
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(std::chrono::seconds(20)), 0);
}

}  // namespace
}  // namespace sfbridge
