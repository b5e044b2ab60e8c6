// What a session's client receives while writes are held, and the held bytes cut around each
// held statement's answer: no servers.
#include "proxy/client_output.h"

#include <gtest/gtest.h>

namespace sfbridge::proxy {
namespace {

TEST(ClientOutputTest, SendsAtOnceUnlessHolding) {
  ByteBuffer sent;
  ClientOutput out(sent);
  out.Append("a");
  out.Compose()->append("b");
  EXPECT_EQ(sent.view(), "ab");
  out.Hold();
  out.Append("c");
  out.Compose()->append("d");
  EXPECT_EQ(sent.view(), "ab");
  HeldOutput held = out.Release();
  EXPECT_EQ(held.bytes, "cd");
  EXPECT_FALSE(out.holding());
  out.Append("e");
  EXPECT_EQ(sent.view(), "abe");
}

TEST(ClientOutputTest, HoldingAgainKeepsWhatIsAlreadyHeld) {
  ByteBuffer sent;
  ClientOutput out(sent);
  out.Hold();
  out.Append("x");
  out.Hold();
  out.Append("y");
  EXPECT_EQ(out.Release().bytes, "xy");
  out.Hold();  // a new unit starts empty
  EXPECT_EQ(out.Release().bytes, "");
  EXPECT_TRUE(sent.empty());
}

// The answers of two held statements, with a pass-through statement's answer between them and
// after them: "<a1>" "mid" "<a2>" "end".
HeldOutput TwoHeldAnswers() {
  ByteBuffer sent;
  ClientOutput out(sent);
  out.Hold();
  out.Append("pre");
  size_t begin = out.AnswerBegins();
  out.Append("<a1>");
  out.AnswerEnds(begin, {1}, /*simple=*/false);
  out.Append("mid");
  begin = out.AnswerBegins();
  out.Append("<a2>");
  out.AnswerEnds(begin, {}, /*simple=*/true);
  out.Append("end");
  return out.Release();
}

TEST(ClientOutputTest, AppliedUnitIsAnsweredAgainBetweenTheBytesAroundEachAnswer) {
  HeldOutput held = TwoHeldAnswers();
  ASSERT_EQ(held.answers.size(), 2u);
  EXPECT_EQ(held.answers[0].result_formats, std::vector<int16_t>{1});
  EXPECT_TRUE(held.answers[1].simple);
  std::string replayed;
  for (size_t i = 0; i < held.answers.size(); ++i) {
    replayed.append(held.Gap(i));
    replayed.append("<confirmed" + std::to_string(i + 1) + ">");
  }
  replayed.append(held.Tail());
  EXPECT_EQ(replayed, "pre<confirmed1>mid<confirmed2>end");
}

TEST(ClientOutputTest, RefusedUnitGivesTheBytesBeforeTheRefusedStatementOnly) {
  HeldOutput held = TwoHeldAnswers();
  EXPECT_EQ(held.Before(0), "pre");
  EXPECT_EQ(held.Before(1), "pre<a1>mid");
  EXPECT_EQ(held.Before(7), "pre<a1>mid");  // past the last: the last one's
}

TEST(ClientOutputTest, WithoutHeldAnswersEverythingIsBeforeAndTail) {
  ByteBuffer sent;
  ClientOutput out(sent);
  out.Hold();
  out.Append("only");
  HeldOutput held = out.Release();
  EXPECT_EQ(held.Before(0), "only");
  EXPECT_EQ(held.Tail(), "only");
}

}  // namespace
}  // namespace sfbridge::proxy
