// DecodeRecordChange against protobuf's own parser: on every message the fetcher and the proxy
// can produce, on merged and hand-made wire forms (unknown fields, wrong wire types, groups,
// fields sent twice) and on garbage, both must accept the same bytes and read the same values.

#include "writer/record_view.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/stubs/logging.h"
#include "sfbridge/v1/record.pb.h"

namespace sfbridge::writer {
namespace {

// protobuf's reading of `bytes`, or nullopt when it refuses them.
std::optional<v1::RecordChange> Parse(const std::string& bytes) {
  v1::RecordChange c;
  if (!c.ParseFromString(bytes)) return std::nullopt;
  return c;
}

bool SameValue(const FieldView& a, const FieldView& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case v1::FieldValue::kNull:
    case v1::FieldValue::kBoolean:
      return a.boolean == b.boolean;
    case v1::FieldValue::kText:
    case v1::FieldValue::kNumber:
    case v1::FieldValue::kMulti:
      return a.text == b.text;
    case v1::FieldValue::kDatetimeMs:
    case v1::FieldValue::kDateDays:
    case v1::FieldValue::kTimeMs:
      return a.integer == b.integer;
    case v1::FieldValue::KIND_NOT_SET:
      return true;
  }
  return false;
}

// Decodes `bytes` both ways and checks that they agree; returns whether protobuf accepted them.
bool ExpectAgreement(const std::string& bytes) {
  google::protobuf::LogSilencer quiet;  // protobuf logs every string that is not UTF-8
  const std::optional<v1::RecordChange> expected = Parse(bytes);
  std::vector<FieldEntry> store = {FieldEntry{"before", {}}};  // decoding appends after it
  ChangeView view;
  const bool decoded = DecodeRecordChange(bytes, store, view);
  EXPECT_EQ(decoded, expected.has_value()) << "bytes of size " << bytes.size();
  if (!decoded || !expected) {
    if (!decoded) {
      EXPECT_EQ(store.size(), 1u);
    }
    return expected.has_value();
  }
  const v1::RecordChange& m = *expected;
  EXPECT_EQ(view.org_id(), m.org_id());
  EXPECT_EQ(view.object_name(), m.object_name());
  EXPECT_EQ(view.record_id(), m.record_id());
  EXPECT_EQ(view.schema_fingerprint(), m.schema_fingerprint());
  EXPECT_EQ(view.system_modstamp_ms(), m.system_modstamp_ms());
  EXPECT_EQ(view.deleted(), m.deleted());
  // The map keeps the last entry of a name; so does everything that reads the view.
  std::map<std::string_view, FieldView> fields;
  for (const FieldEntry& f : view.fields()) fields[f.name] = f.value;
  EXPECT_EQ(fields.size(), m.fields().size());
  for (const auto& [name, value] : m.fields()) {
    auto it = fields.find(name);
    if (it == fields.end()) {
      ADD_FAILURE() << "field " << name << " missing";
      continue;
    }
    EXPECT_TRUE(SameValue(it->second, ViewOf(value))) << "field " << name;
  }
  EXPECT_EQ(store[0].name, "before");
  return true;
}

std::string RandomText(std::mt19937& rng, bool ascii) {
  static const std::vector<std::string> pieces = {"a", "Z", "0", " ",  "\t", "\n", "\\",
                                                  "ü", "✓", "𝄞", "\"", "'",  ";",  "\0"};
  std::string out;
  const int n = std::uniform_int_distribution<int>(0, 20)(rng);
  for (int i = 0; i < n; ++i) {
    const size_t k = std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng);
    if (k == pieces.size() - 1) {
      out.push_back('\0');
    } else if (!ascii || pieces[k].size() == 1) {
      out += pieces[k];
    }
  }
  return out;
}

v1::FieldValue RandomValue(std::mt19937& rng) {
  v1::FieldValue v;
  std::uniform_int_distribution<int64_t> any(INT64_MIN, INT64_MAX);
  switch (std::uniform_int_distribution<int>(0, 8)(rng)) {
    case 0:
      v.set_null(true);
      break;
    case 1:
      v.set_text(RandomText(rng, false));
      break;
    case 2:
      v.set_boolean(rng() % 2 == 0);
      break;
    case 3:
      v.set_number(std::to_string(any(rng)) + ".5");
      break;
    case 4:
      v.set_datetime_ms(any(rng));
      break;
    case 5:
      v.set_date_days(static_cast<int32_t>(any(rng)));
      break;
    case 6:
      v.set_time_ms(static_cast<int32_t>(any(rng)));
      break;
    case 7:
      v.set_multi(RandomText(rng, true));
      break;
    default:
      break;  // no kind set
  }
  return v;
}

v1::RecordChange RandomChange(std::mt19937& rng) {
  v1::RecordChange c;
  if (rng() % 4) c.set_org_id("00D000000000001AAA");
  if (rng() % 8) c.set_object_name(rng() % 2 ? "Contact" : "Invoice__c");
  if (rng() % 8) c.set_record_id("003" + std::to_string(rng()));
  c.set_system_modstamp_ms(static_cast<int64_t>(rng()) * (rng() % 2 ? 1 : -1) * 1000);
  c.set_deleted(rng() % 5 == 0);
  c.set_source(static_cast<v1::ChangeSource>(rng() % 6));
  if (rng() % 2) c.set_schema_fingerprint("fp-" + std::to_string(rng() % 3));
  c.set_fetched_at_ms(static_cast<int64_t>(rng()));
  const int fields = c.deleted() ? 0 : std::uniform_int_distribution<int>(0, 12)(rng);
  for (int i = 0; i < fields; ++i) {
    (*c.mutable_fields())["F" + std::to_string(rng() % 10) + "__c"] = RandomValue(rng);
  }
  return c;
}

// Wire-format pieces for hand-made messages.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Tag(uint32_t number, uint32_t type) { return Varint((number << 3) | type); }
std::string Len(uint32_t number, const std::string& payload) {
  return Tag(number, 2) + Varint(payload.size()) + payload;
}
std::string Entry(const std::string& name, const std::string& value_payload) {
  return Len(7, Len(1, name) + Len(2, value_payload));
}

TEST(RecordViewTest, AgreesWithProtobufOnRandomMessages) {
  std::mt19937 rng(20240501);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    accepted += ExpectAgreement(RandomChange(rng).SerializeAsString());
    if (HasFailure()) return;
  }
  EXPECT_EQ(accepted, 3000);
}

TEST(RecordViewTest, AgreesOnMergedMessages) {
  // Concatenated messages are one message to protobuf: scalars and strings take the last value,
  // map entries the last of each name.
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    std::string bytes = RandomChange(rng).SerializeAsString();
    bytes += RandomChange(rng).SerializeAsString();
    if (rng() % 2) bytes += RandomChange(rng).SerializeAsString();
    EXPECT_TRUE(ExpectAgreement(bytes));
    if (HasFailure()) return;
  }
}

TEST(RecordViewTest, AgreesOnEmptyAbsentAndEveryKind) {
  EXPECT_TRUE(ExpectAgreement(""));  // every field absent
  v1::RecordChange c;
  c.set_org_id("00D");
  c.set_object_name("Account");
  c.set_record_id("001A");
  c.set_system_modstamp_ms(1);
  auto& f = *c.mutable_fields();
  f["Null"].set_null(true);
  f["Empty"].set_text("");
  f["Text"].set_text("x\ty");
  f["True"].set_boolean(true);
  f["False"].set_boolean(false);
  f["Number"].set_number("-12.50");
  f["At"].set_datetime_ms(-1);
  f["On"].set_date_days(-719162);
  f["Opens"].set_time_ms(86399999);
  f["Tags"].set_multi("A;B");
  f["Unset"];
  f[""].set_text("nameless");
  EXPECT_TRUE(ExpectAgreement(c.SerializeAsString()));
  c.clear_fields();
  c.set_deleted(true);
  EXPECT_TRUE(ExpectAgreement(c.SerializeAsString()));
}

TEST(RecordViewTest, AgreesOnHandMadeWireForms) {
  const std::string text = Len(2, "hello");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"unknown varint, fixed32, fixed64, bytes", Len(2, "Contact") + Tag(99, 0) + Varint(5) +
                                                      Tag(100, 5) + "abcd" + Tag(101, 1) +
                                                      "abcdefgh" + Len(102, "\xff\xfe")},
      {"unknown group, nested", Len(2, "Contact") + Tag(50, 3) + Tag(51, 3) + Tag(1, 0) +
                                    Varint(1) + Tag(51, 4) + Tag(50, 4)},
      {"group ended by another number", Len(2, "Contact") + Tag(50, 3) + Tag(51, 4)},
      {"unterminated group", Len(2, "Contact") + Tag(50, 3) + Tag(1, 0) + Varint(1)},
      {"stray end group", Len(2, "Contact") + Tag(50, 4)},
      {"field number 0", Tag(0, 0) + Varint(1)},
      {"wire type 6", Tag(3, 6)},
      {"wire type 7", Tag(3, 7)},
      {"modstamp as bytes (skipped)", Len(2, "Contact") + Len(4, "zzz")},
      {"record id as varint (skipped)", Len(2, "Contact") + Tag(3, 0) + Varint(7)},
      {"10-byte varint", Len(2, "C") + Tag(4, 0) + std::string(9, '\xff') + '\x01'},
      {"11-byte varint", Len(2, "C") + Tag(4, 0) + std::string(10, '\xff') + '\x01'},
      {"negative modstamp", Len(2, "C") + Tag(4, 0) + Varint(static_cast<uint64_t>(-5))},
      {"deleted = 2", Len(2, "C") + Tag(5, 0) + Varint(2)},
      {"length past the end", Len(2, "C") + Tag(3, 2) + Varint(50) + "short"},
      {"length of 2 GiB", Len(2, "C") + Tag(3, 2) + "\x80\x80\x80\x80\x08"},
      {"truncated tag", Len(2, "C") + "\x80"},
      {"6-byte tag", Len(2, "C") + "\x80\x80\x80\x80\x80\x01"},
      {"invalid UTF-8 in record_id", Len(2, "C") + Len(3, "a\xc3")},
      {"overlong UTF-8", Len(2, "C") + Len(1, "\xc0\xaf")},
      {"surrogate", Len(2, "C") + Len(1, "\xed\xa0\x80")},
      {"past U+10FFFF", Len(2, "C") + Len(8, "\xf4\x90\x80\x80")},
      {"four-byte UTF-8", Len(2, "C") + Len(8, "\xf0\x9d\x84\x9e")},
      {"entry: value only", Len(2, "C") + Len(7, Len(2, text))},
      {"entry: name only", Len(2, "C") + Len(7, Len(1, "Name"))},
      {"entry: empty", Len(2, "C") + Len(7, "")},
      {"entry: value then name", Len(2, "C") + Len(7, Len(2, text) + Len(1, "Name"))},
      {"entry: two values merge",
       Len(2, "C") + Len(7, Len(1, "N") + Len(2, text) + Len(2, Tag(3, 0) + Varint(1)))},
      {"entry: two names", Len(2, "C") + Len(7, Len(1, "A") + Len(1, "B") + Len(2, text))},
      {"entry: unknown fields", Len(2, "C") + Len(7, Len(1, "N") + Tag(9, 0) + Varint(3) +
                                                         Len(2, text + Tag(20, 5) + "1234"))},
      {"entry: invalid UTF-8 name", Len(2, "C") + Entry("N\xff", text)},
      {"entry: invalid UTF-8 text", Len(2, "C") + Entry("N", Len(2, "\xff"))},
      {"entry: invalid UTF-8 in unknown bytes", Len(2, "C") + Entry("N", Len(9, "\xff"))},
      {"entry: name as varint", Len(2, "C") + Len(7, Tag(1, 0) + Varint(1) + Len(2, text))},
      {"entry: truncated value", Len(2, "C") + Len(7, Len(1, "N") + Tag(2, 2) + Varint(9))},
      {"fields as varint (skipped)", Len(2, "C") + Tag(7, 0) + Varint(1)},
      {"same name twice, last wins",
       Len(2, "C") + Entry("N", Len(2, "first")) + Entry("N", Tag(3, 0) + Varint(0))},
      {"value: every kind in turn",
       Len(2, "C") +
           Entry("N", Tag(1, 0) + Varint(0) + Len(2, "t") + Tag(3, 0) + Varint(1) + Len(4, "1.5") +
                          Tag(5, 0) + Varint(123) + Tag(6, 0) + Varint(static_cast<uint64_t>(-3)) +
                          Tag(7, 0) + Varint(9) + Len(8, "a;b"))},
      {"value: null = false", Len(2, "C") + Entry("N", Tag(1, 0) + Varint(0))},
      {"value: date_days past 32 bits", Len(2, "C") + Entry("N", Tag(6, 0) + Varint(1ull << 40))},
      {"value: text as varint (skipped)", Len(2, "C") + Entry("N", Tag(2, 0) + Varint(1))},
      {"value: group inside", Len(2, "C") + Entry("N", Tag(30, 3) + Tag(30, 4) + text)},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    ExpectAgreement(bytes);
  }
}

TEST(RecordViewTest, AgreesOnDeeplyNestedGroups) {
  for (int depth : {1, 98, 99, 100, 101, 150}) {
    SCOPED_TRACE(depth);
    // Groups at the top level, and inside a FieldValue (two levels down already).
    std::string open, close;
    for (int i = 0; i < depth; ++i) {
      open += Tag(40, 3);
      close += Tag(40, 4);
    }
    ExpectAgreement(Len(2, "C") + open + close);
    ExpectAgreement(Len(2, "C") + Entry("N", open + close));
  }
}

TEST(RecordViewTest, AgreesOnGarbage) {
  std::mt19937 rng(99);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      // Random bytes.
      bytes.resize(std::uniform_int_distribution<size_t>(0, 64)(rng));
      for (char& b : bytes) b = static_cast<char>(rng());
    } else {
      // A valid message, damaged: bytes changed, cut short, or spliced.
      bytes = RandomChange(rng).SerializeAsString();
      if (bytes.empty()) continue;
      const int edits = std::uniform_int_distribution<int>(1, 3)(rng);
      for (int e = 0; e < edits && !bytes.empty(); ++e) {
        const size_t at = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
        switch (rng() % 3) {
          case 0:
            bytes[at] = static_cast<char>(rng());
            break;
          case 1:
            bytes.resize(at);
            break;
          default:
            bytes.insert(at, 1, static_cast<char>(rng()));
            break;
        }
      }
    }
    accepted += ExpectAgreement(bytes);
    if (HasFailure()) return;
  }
  // Both kinds of outcome were exercised.
  EXPECT_GT(accepted, 100);
  EXPECT_LT(accepted, 19000);
}

TEST(RecordViewTest, ViewsOfMessagesReadTheirFields) {
  v1::RecordChange a;
  a.set_org_id("00D");
  a.set_object_name("Account");
  a.set_record_id("001A");
  a.set_system_modstamp_ms(5);
  a.set_schema_fingerprint("fp");
  (*a.mutable_fields())["Name"].set_text("Acme");
  v1::RecordChange b;
  b.set_deleted(true);
  std::vector<FieldEntry> store;
  const std::vector<ChangeView> views = ViewsOf({&a, &b}, store);
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views[0].org_id(), "00D");
  EXPECT_EQ(views[0].object_name(), "Account");
  EXPECT_EQ(views[0].record_id(), "001A");
  EXPECT_EQ(views[0].system_modstamp_ms(), 5);
  EXPECT_EQ(views[0].schema_fingerprint(), "fp");
  EXPECT_FALSE(views[0].deleted());
  ASSERT_EQ(views[0].fields().size(), 1u);
  EXPECT_EQ(views[0].fields()[0].name, "Name");
  EXPECT_EQ(views[0].fields()[0].value.kind, v1::FieldValue::kText);
  EXPECT_EQ(views[0].fields()[0].value.text, "Acme");
  EXPECT_TRUE(views[1].deleted());
  EXPECT_TRUE(views[1].fields().empty());
}

TEST(RecordViewTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii, long enough for the eight-byte steps"));
  EXPECT_TRUE(IsValidUtf8("ü ✓ 𝄞 \x7f"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x9f\xbf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xbf\xbf"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf0\x8f\xbf\xbf"));  // overlong
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("abcdefgh\xe2\x9c"));  // cut short
}

}  // namespace
}  // namespace sfbridge::writer
