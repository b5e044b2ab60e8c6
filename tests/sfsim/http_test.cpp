#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sfsim/http/http_types.h"
#include "sfsim/http/json_writer.h"

namespace sfbridge::sfsim {
namespace {

TEST(JsonWriterTest, NestedObjectsArraysAndEscapes) {
  JsonWriter w;
  w.BeginObject()
      .Member("s", "quote\" back\\ nl\n tab\t ctl\x01 ü")
      .Member("i", int64_t{-42})
      .Member("b", true)
      .Key("n")
      .Null()
      .Key("raw")
      .Raw("12345678901234567.89")
      .Key("a")
      .BeginArray()
      .Int(1)
      .BeginObject()
      .EndObject()
      .BeginArray()
      .EndArray()
      .EndArray()
      .StringArray("fields", {"A", "B"})
      .EndObject();
  EXPECT_EQ(w.str(), R"({"s":"quote\" back\\ nl\n tab\t ctl\u0001 ü","i":-42,"b":true,"n":null,)"
                     R"("raw":12345678901234567.89,"a":[1,{},[]],"fields":["A","B"]})");
}

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
