#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sfsim/http/http_types.h"

namespace sfbridge::sfsim {
namespace {

TEST(HttpTypesTest, ErrorResponseHasSalesforceShape) {
  Response r = ErrorResponse(400, "REQUIRED_FIELD_MISSING",
                             "Required fields are missing: [LastName]", {"LastName"});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"([{"message":"Required fields are missing: [LastName]",)"
                    R"("errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}])");
}

TEST(HttpTypesTest, FormAndUrlDecoding) {
  auto form = ParseFormEncoded("grant_type=password&username=a%40b.c&password=p%2Bq+r&empty=&x");
  EXPECT_EQ(form["grant_type"], "password");
  EXPECT_EQ(form["username"], "a@b.c");
  EXPECT_EQ(form["password"], "p+q r");
  EXPECT_EQ(form["empty"], "");
  EXPECT_TRUE(form.contains("x"));
  EXPECT_EQ(UrlDecode("a+b%20c%zz%4", false), "a+b c%zz%4");
  EXPECT_EQ(UrlDecode("%", true), "%");
}

}  // namespace
}  // namespace sfbridge::sfsim
