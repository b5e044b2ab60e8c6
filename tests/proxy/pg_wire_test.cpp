#include "proxy/pg_wire.h"

#include <gtest/gtest.h>

#include "proxy/write_path.h"

namespace sfbridge::proxy::wire {
namespace {

std::string Framed(char type, std::string_view body) {
  std::string out;
  Writer(&out).Begin(type).Bytes(body).End();
  return out;
}

TEST(PgWireTest, DecodesBackToBackFramesAndWaitsForPartialOnes) {
  std::string data = Framed('Q', std::string("select 1") + '\0') + Framed('S', "");
  Frame f;
  ASSERT_EQ(DecodeFrame(data, 1024, &f), DecodeResult::kFrame);
  EXPECT_EQ(f.type, 'Q');
  EXPECT_EQ(*ReadQuery(f.body), "select 1");
  std::string_view rest = std::string_view(data).substr(f.size);
  ASSERT_EQ(DecodeFrame(rest, 1024, &f), DecodeResult::kFrame);
  EXPECT_EQ(f.type, 'S');
  EXPECT_EQ(f.size, 5u);
  for (size_t cut = 0; cut < data.size() - 5; ++cut) {
    std::string_view part = std::string_view(data).substr(0, cut);
    EXPECT_EQ(DecodeFrame(part, 1024, &f),
              cut >= 14 ? DecodeResult::kFrame : DecodeResult::kNeedMore)
        << cut;
  }
}

TEST(PgWireTest, RejectsLengthsAboveTheLimitBeforeTheBytesArrive) {
  std::string header = {'Q', '\x7f', '\xff', '\xff', '\xff'};  // declares ~2 GB
  Frame f;
  EXPECT_EQ(DecodeFrame(header, 1 << 20, &f), DecodeResult::kTooLarge);
  std::string small = {'Q', 0, 0, 0, 3};
  EXPECT_EQ(DecodeFrame(small, 1 << 20, &f), DecodeResult::kBadLength);
  std::string negative = {'Q', '\xff', '\xff', '\xff', '\xfe'};
  EXPECT_EQ(DecodeFrame(negative, 1 << 20, &f), DecodeResult::kBadLength);
}

TEST(PgWireTest, ParsesStartupSslCancelAndRejectsOtherProtocols) {
  std::string startup;
  AppendStartup(&startup, {{"user", "alice"}, {"database", "db"}});
  Frame f;
  ASSERT_EQ(DecodeStartupFrame(startup, 10000, &f), DecodeResult::kFrame);
  absl::StatusOr<StartupPacket> p = ParseStartup(f.body);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->code, kProtocolV3);
  EXPECT_EQ(p->params.at("user"), "alice");
  EXPECT_EQ(p->params.at("database"), "db");

  std::string cancel;
  AppendCancelRequest(&cancel, {42, -7});
  ASSERT_EQ(DecodeStartupFrame(cancel, 10000, &f), DecodeResult::kFrame);
  p = ParseStartup(f.body);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->code, kCancelRequestCode);
  EXPECT_EQ(p->cancel_pid, 42);
  EXPECT_EQ(p->cancel_secret, -7);

  std::string ssl;
  Writer(&ssl).BeginStartup().Int32(kSslRequestCode).End();
  ASSERT_EQ(DecodeStartupFrame(ssl, 10000, &f), DecodeResult::kFrame);
  EXPECT_EQ(ParseStartup(f.body)->code, kSslRequestCode);

  std::string v2;
  Writer(&v2).BeginStartup().Int32(0x20000).CString("user").CString("x").Byte(0).End();
  ASSERT_EQ(DecodeStartupFrame(v2, 10000, &f), DecodeResult::kFrame);
  EXPECT_EQ(ParseStartup(f.body).status().code(), absl::StatusCode::kInvalidArgument);

  std::string no_user;
  Writer(&no_user).BeginStartup().Int32(kProtocolV3).CString("database").CString("x").Byte(0).End();
  ASSERT_EQ(DecodeStartupFrame(no_user, 10000, &f), DecodeResult::kFrame);
  EXPECT_FALSE(ParseStartup(f.body).ok());

  std::string unterminated;
  Writer(&unterminated).BeginStartup().Int32(kProtocolV3).Bytes("user").End();
  ASSERT_EQ(DecodeStartupFrame(unterminated, 10000, &f), DecodeResult::kFrame);
  EXPECT_FALSE(ParseStartup(f.body).ok());

  std::string huge = {'\x00', '\x10', '\x00', '\x00'};
  EXPECT_EQ(DecodeStartupFrame(huge, 10000, &f), DecodeResult::kTooLarge);
}

TEST(PgWireTest, ParseBindDescribeExecuteRoundTrip) {
  std::string out;
  AppendParse(&out, "s1", "insert into t values ($1, $2)", {23, 0});
  BoundParams params;
  params.values = {std::string("7"), std::nullopt};
  params.formats = {0, 1};
  AppendBind(&out, "p1", "s1", params, {1});
  AppendDescribe(&out, 'P', "p1");
  AppendExecute(&out, "p1", 10);
  AppendClose(&out, 'S', "s1");

  std::string_view rest = out;
  Frame f;
  ASSERT_EQ(DecodeFrame(rest, 1024, &f), DecodeResult::kFrame);
  auto parse = ReadParse(f.body);
  ASSERT_TRUE(parse.ok());
  EXPECT_EQ(parse->statement, "s1");
  EXPECT_EQ(parse->query, "insert into t values ($1, $2)");
  EXPECT_EQ(parse->param_types, (std::vector<uint32_t>{23, 0}));
  rest.remove_prefix(f.size);

  ASSERT_EQ(DecodeFrame(rest, 1024, &f), DecodeResult::kFrame);
  auto bind = ReadBind(f.body);
  ASSERT_TRUE(bind.ok());
  EXPECT_EQ(bind->portal, "p1");
  EXPECT_EQ(bind->statement, "s1");
  ASSERT_EQ(bind->values.size(), 2u);
  EXPECT_EQ(*bind->values[0], "7");
  EXPECT_FALSE(bind->values[1].has_value());
  EXPECT_EQ(bind->param_formats, (std::vector<int16_t>{0, 1}));
  EXPECT_EQ(bind->result_formats, (std::vector<int16_t>{1}));
  rest.remove_prefix(f.size);

  ASSERT_EQ(DecodeFrame(rest, 1024, &f), DecodeResult::kFrame);
  auto describe = ReadDescribe(f.body);
  ASSERT_TRUE(describe.ok());
  EXPECT_EQ(describe->kind, 'P');
  EXPECT_EQ(describe->name, "p1");
  rest.remove_prefix(f.size);

  ASSERT_EQ(DecodeFrame(rest, 1024, &f), DecodeResult::kFrame);
  auto exec = ReadExecute(f.body);
  ASSERT_TRUE(exec.ok());
  EXPECT_EQ(exec->portal, "p1");
  EXPECT_EQ(exec->max_rows, 10);
  rest.remove_prefix(f.size);

  ASSERT_EQ(DecodeFrame(rest, 1024, &f), DecodeResult::kFrame);
  auto close = ReadDescribe(f.body);
  ASSERT_TRUE(close.ok());
  EXPECT_EQ(close->kind, 'S');
}

TEST(PgWireTest, MalformedFrontendBodiesAreErrorsNotCrashes) {
  EXPECT_FALSE(ReadParse(std::string("s\0q", 3)).ok());                 // no NUL after query
  EXPECT_FALSE(ReadParse(std::string("\0q\0\x00\x05", 5)).ok());        // 5 types announced, none
  EXPECT_FALSE(ReadBind(std::string("\0\0\x00\x00\x7f\xff", 6)).ok());  // 32767 values, none
  std::string lying_value("\0\0\x00\x00\x00\x01\x00\x00\x10\x00", 10);  // 4096 bytes promised
  EXPECT_FALSE(ReadBind(lying_value).ok());
  EXPECT_FALSE(ReadDescribe(std::string("X\0", 2)).ok());
  EXPECT_FALSE(ReadExecute(std::string("p\0\0", 3)).ok());
  EXPECT_FALSE(ReadQuery("no terminator").ok());
  EXPECT_FALSE(ReadReadyForQuery("Q").ok());
  EXPECT_FALSE(ReadRowDescription(std::string("\x7f\xff", 2)).ok());
  EXPECT_FALSE(ReadDataRow(std::string("\x00\x01\xff\xff\xff\xfe", 6)).ok());  // length -2
}

TEST(PgWireTest, ExpandsBindFormats) {
  EXPECT_EQ(*ExpandFormats({}, 3), (std::vector<int16_t>{0, 0, 0}));
  EXPECT_EQ(*ExpandFormats({1}, 2), (std::vector<int16_t>{1, 1}));
  EXPECT_EQ(*ExpandFormats({0, 1}, 2), (std::vector<int16_t>{0, 1}));
  EXPECT_FALSE(ExpandFormats({0, 1}, 3).ok());
}

TEST(PgWireTest, ErrorResponseRoundTripsThroughPgError) {
  PgError e{.severity = "ERROR",
            .sqlstate = "23502",
            .message = "Required fields are missing: [LastName]",
            .detail = "columns: lastname",
            .hint = "set it",
            .column = "lastname",
            .table = "contact",
            .schema = "salesforce"};
  std::string out;
  AppendErrorResponse(&out, e);
  Frame f;
  ASSERT_EQ(DecodeFrame(out, 1024, &f), DecodeResult::kFrame);
  EXPECT_EQ(f.type, 'E');
  auto fields = ReadFields(f.body);
  ASSERT_TRUE(fields.ok());
  PgError back = ToPgError(*fields);
  EXPECT_EQ(back.severity, e.severity);
  EXPECT_EQ(back.sqlstate, e.sqlstate);
  EXPECT_EQ(back.message, e.message);
  EXPECT_EQ(back.detail, e.detail);
  EXPECT_EQ(back.hint, e.hint);
  EXPECT_EQ(back.column, e.column);
  EXPECT_EQ(back.table, e.table);
  EXPECT_EQ(back.schema, e.schema);

  absl::Status status = ServerErrorStatus(e);
  EXPECT_EQ(status.message(), e.message);
  std::optional<PgError> carried = GetServerError(status);
  ASSERT_TRUE(carried.has_value());
  EXPECT_EQ(carried->sqlstate, "23502");
  EXPECT_EQ(carried->column, "lastname");
  EXPECT_FALSE(GetServerError(absl::UnavailableError("lost")).has_value());
}

TEST(PgWireTest, AuthenticationSaslMechanisms) {
  std::string out;
  AppendAuthSasl(&out, {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"});
  Frame f;
  ASSERT_EQ(DecodeFrame(out, 1024, &f), DecodeResult::kFrame);
  auto auth = ReadAuthRequest(f.body);
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->code, 10);
  EXPECT_EQ(auth->mechanisms, (std::vector<std::string>{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}));
}

TEST(PgWireTest, WriterDropsNulsInsideCStrings) {
  std::string out;
  AppendQuery(&out, std::string("sel\0ect 1", 9));
  Frame f;
  ASSERT_EQ(DecodeFrame(out, 1024, &f), DecodeResult::kFrame);
  EXPECT_EQ(*ReadQuery(f.body), "select 1");
}

}  // namespace
}  // namespace sfbridge::proxy::wire
