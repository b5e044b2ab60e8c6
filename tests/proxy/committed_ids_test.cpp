// A client naming the provisional id of a record a deferred transaction inserted, after its
// COMMIT, in a statement's text or a Bind parameter: no servers.
#include "proxy/committed_ids.h"

#include <gtest/gtest.h>

#include "proxy/pg_wire.h"

namespace sfbridge::proxy {
namespace {

constexpr char kProvisional[] = "000p00000000000001";  // as held writes make them
constexpr char kReal[] = "003xx00000ABCDEFGH";

CommittedIds Remembered() {
  CommittedIds ids;
  ids.Remember({{kProvisional, kReal}});
  return ids;
}

std::string BindBody(const BoundParams& params) {
  std::string m;
  wire::AppendBind(&m, "portal", "stmt", params, {1});
  return m.substr(5);
}

TEST(CommittedIdsTest, StatementTextNamesSalesforcesIdInsteadOfTheProvisionalOne) {
  CommittedIds ids = Remembered();
  std::optional<std::string> sql = ids.InSql(std::string("SELECT * FROM contact WHERE id IN ('") +
                                             kProvisional + "', '" + kProvisional + "')");
  ASSERT_TRUE(sql);
  EXPECT_EQ(*sql,
            std::string("SELECT * FROM contact WHERE id IN ('") + kReal + "', '" + kReal + "')");
}

TEST(CommittedIdsTest, TextWithoutARememberedIdIsLeftAlone) {
  CommittedIds ids = Remembered();
  EXPECT_FALSE(ids.InSql("SELECT 1"));
  EXPECT_FALSE(ids.InSql("SELECT '000p00000000000999', '000p'"));
  EXPECT_FALSE(CommittedIds().InSql(std::string("SELECT '") + kProvisional + "'"));
}

TEST(CommittedIdsTest, TextParametersOfABindAreRewrittenAndBinaryOnesAreNot) {
  CommittedIds ids = Remembered();
  BoundParams params;
  params.values = {kProvisional, std::nullopt, kProvisional, "other"};
  params.formats = {0, 0, 1, 0};
  std::optional<std::string> bind = ids.InBind(BindBody(params));
  ASSERT_TRUE(bind);
  absl::StatusOr<wire::BindMsg> read = wire::ReadBind(std::string_view(*bind).substr(5));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*bind)[0], 'B');
  EXPECT_EQ(read->portal, "portal");
  EXPECT_EQ(read->statement, "stmt");
  ASSERT_EQ(read->values.size(), 4u);
  EXPECT_EQ(*read->values[0], kReal);
  EXPECT_FALSE(read->values[1]);
  EXPECT_EQ(*read->values[2], kProvisional);
  EXPECT_EQ(*read->values[3], "other");
  EXPECT_EQ(read->result_formats, std::vector<int16_t>{1});
}

TEST(CommittedIdsTest, ABindWithoutARememberedIdIsNotRebuilt) {
  CommittedIds ids = Remembered();
  BoundParams params;
  params.values = {"000p00000000000999"};
  params.formats = {0};
  EXPECT_FALSE(ids.InBind(BindBody(params)));
  EXPECT_FALSE(ids.InBind("garbage"));
}

TEST(CommittedIdsTest, RememberingPastTheLimitForgetsTheOlderIds) {
  CommittedIds ids = Remembered();
  std::vector<std::pair<std::string, std::string>> many;
  for (size_t i = 0; i < CommittedIds::kMaxRemembered; ++i) {
    many.emplace_back("p" + std::to_string(i), "r" + std::to_string(i));
  }
  ids.Remember(many);
  EXPECT_FALSE(ids.InSql(std::string("SELECT '") + kProvisional + "'"));
  EXPECT_FALSE(ids.empty());
}

}  // namespace
}  // namespace sfbridge::proxy
