#include "common/core/json_writer.h"

#include <gtest/gtest.h>

namespace sfbridge::core {
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

}  // namespace
}  // namespace sfbridge::core
