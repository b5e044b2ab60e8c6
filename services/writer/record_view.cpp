#include "writer/record_view.h"

#include <cstring>

namespace sfbridge::writer {
namespace {

// Wire types.
constexpr uint32_t kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4,
                   kFixed32 = 5;
// protobuf's default recursion limit: nested messages and groups.
constexpr int kMaxDepth = 100;

// Reads protobuf's wire format from [p, end) the way protobuf's own parser does: each reader
// returns false where protobuf's parse would fail.
class WireReader {
 public:
  WireReader(const char* p, const char* end) : p_(p), end_(end) {}

  bool done() const { return p_ == end_; }

  // Up to 10 bytes; bits past 64 are dropped.
  bool Varint(uint64_t& v) {
    v = 0;
    for (int i = 0; i < 10; ++i) {
      if (p_ == end_) return false;
      const uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) return true;
    }
    return false;
  }

  // Up to 5 bytes, truncated to 32 bits; field number 0 is refused.
  bool Tag(uint32_t& tag) {
    tag = 0;
    for (int i = 0; i < 5; ++i) {
      if (p_ == end_) return false;
      const uint8_t b = static_cast<uint8_t>(*p_++);
      tag |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) return (tag >> 3) != 0 || (tag & 7) == kEndGroup;
    }
    return false;
  }

  // A length-delimited payload: a size below 2 GiB that fits in what is left.
  bool Bytes(std::string_view& out) {
    uint32_t size = 0;
    for (int i = 0;; ++i) {
      if (p_ == end_) return false;
      const uint8_t b = static_cast<uint8_t>(*p_++);
      if (i == 4 && b >= 8) return false;
      size |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) break;
    }
    if (size > static_cast<size_t>(end_ - p_)) return false;
    out = std::string_view(p_, size);
    p_ += size;
    return true;
  }

  bool String(std::string_view& out) { return Bytes(out) && IsValidUtf8(out); }

  // Skips a field of an unknown number (or of a known number with another wire type).
  bool Skip(uint32_t tag, int depth) {
    uint64_t ignored;
    std::string_view bytes;
    switch (tag & 7) {
      case kVarint:
        return Varint(ignored);
      case kFixed64:
        return Advance(8);
      case kLen:
        return Bytes(bytes);
      case kFixed32:
        return Advance(4);
      case kStartGroup: {
        if (depth + 1 > kMaxDepth) return false;
        for (;;) {
          uint32_t inner;
          if (!Tag(inner)) return false;
          if ((inner & 7) == kEndGroup) return inner == tag + 1;
          if (!Skip(inner, depth + 1)) return false;
        }
      }
      default:  // a stray end-group, wire types 6 and 7
        return false;
    }
  }

 private:
  bool Advance(size_t n) {
    if (n > static_cast<size_t>(end_ - p_)) return false;
    p_ += n;
    return true;
  }

  const char* p_;
  const char* end_;
};

// Merges a FieldValue payload into `value` (depth: of the FieldValue itself).
bool ReadFieldValue(std::string_view bytes, int depth, FieldView& value) {
  if (depth > kMaxDepth) return false;
  WireReader r(bytes.data(), bytes.data() + bytes.size());
  while (!r.done()) {
    uint32_t tag;
    if (!r.Tag(tag)) return false;
    const uint32_t number = tag >> 3, type = tag & 7;
    uint64_t v;
    if (type == kVarint &&
        (number == 1 || number == 3 || number == 5 || number == 6 || number == 7)) {
      if (!r.Varint(v)) return false;
      value.text = {};
      value.integer = 0;
      value.boolean = false;
      switch (number) {
        case 1:
          value.kind = v1::FieldValue::kNull;
          value.boolean = v != 0;
          break;
        case 3:
          value.kind = v1::FieldValue::kBoolean;
          value.boolean = v != 0;
          break;
        case 5:
          value.kind = v1::FieldValue::kDatetimeMs;
          value.integer = static_cast<int64_t>(v);
          break;
        case 6:
          value.kind = v1::FieldValue::kDateDays;
          value.integer = static_cast<int32_t>(static_cast<uint32_t>(v));
          break;
        default:
          value.kind = v1::FieldValue::kTimeMs;
          value.integer = static_cast<int32_t>(static_cast<uint32_t>(v));
          break;
      }
    } else if (type == kLen && (number == 2 || number == 4 || number == 8)) {
      std::string_view text;
      if (!r.String(text)) return false;
      value.kind = number == 2   ? v1::FieldValue::kText
                   : number == 4 ? v1::FieldValue::kNumber
                                 : v1::FieldValue::kMulti;
      value.text = text;
      value.integer = 0;
      value.boolean = false;
    } else if (!r.Skip(tag, depth)) {
      return false;
    }
  }
  return true;
}

// One entry of the fields map (depth: of the entry).
bool ReadFieldEntry(std::string_view bytes, int depth, FieldEntry& entry) {
  if (depth > kMaxDepth) return false;
  WireReader r(bytes.data(), bytes.data() + bytes.size());
  while (!r.done()) {
    uint32_t tag;
    if (!r.Tag(tag)) return false;
    std::string_view payload;
    if (tag == ((1 << 3) | kLen)) {
      if (!r.String(entry.name)) return false;
    } else if (tag == ((2 << 3) | kLen)) {
      if (!r.Bytes(payload) || !ReadFieldValue(payload, depth + 1, entry.value)) return false;
    } else if (!r.Skip(tag, depth)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  while (p < end) {
    // ASCII runs, eight bytes at a time.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if (word & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p == end) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the byte after the lead
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // past U+10FFFF
    } else {
      return false;
    }
    if (end - p <= n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int i = 2; i <= n; ++i) {
      if (p[i] < 0x80 || p[i] > 0xbf) return false;
    }
    p += n + 1;
  }
  return true;
}

bool DecodeRecordChange(std::string_view bytes, std::vector<FieldEntry>& store, ChangeView& out) {
  const size_t begin = store.size();
  ChangeView c;
  c.store_ = &store;
  c.fields_begin_ = static_cast<uint32_t>(begin);
  WireReader r(bytes.data(), bytes.data() + bytes.size());
  bool ok = true;
  while (ok && !r.done()) {
    uint32_t tag;
    if (!r.Tag(tag)) {
      ok = false;
      break;
    }
    uint64_t v;
    std::string_view payload;
    switch (tag) {
      case (1 << 3) | kLen:
        ok = r.String(c.org_id_);
        break;
      case (2 << 3) | kLen:
        ok = r.String(c.object_name_);
        break;
      case (3 << 3) | kLen:
        ok = r.String(c.record_id_);
        break;
      case (4 << 3) | kVarint:
        ok = r.Varint(v);
        c.system_modstamp_ms_ = static_cast<int64_t>(v);
        break;
      case (5 << 3) | kVarint:
        ok = r.Varint(v);
        c.deleted_ = v != 0;
        break;
      case (7 << 3) | kLen:
        ok = r.Bytes(payload);
        if (ok) {
          FieldEntry& entry = store.emplace_back();
          ok = ReadFieldEntry(payload, 1, entry);
        }
        break;
      case (8 << 3) | kLen:
        ok = r.String(c.schema_fingerprint_);
        break;
      default:  // source (6) and fetched_at_ms (9) are not needed; unknown fields
        ok = r.Skip(tag, 0);
        break;
    }
  }
  if (!ok) {
    store.resize(begin);
    return false;
  }
  c.fields_count_ = static_cast<uint32_t>(store.size() - begin);
  out = c;
  return true;
}

std::vector<ChangeView> ViewsOf(const std::vector<const v1::RecordChange*>& changes,
                                std::vector<FieldEntry>& store) {
  std::vector<ChangeView> views(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    const v1::RecordChange& m = *changes[i];
    ChangeView& c = views[i];
    c.org_id_ = m.org_id();
    c.object_name_ = m.object_name();
    c.record_id_ = m.record_id();
    c.schema_fingerprint_ = m.schema_fingerprint();
    c.system_modstamp_ms_ = m.system_modstamp_ms();
    c.deleted_ = m.deleted();
    c.store_ = &store;
    c.fields_begin_ = static_cast<uint32_t>(store.size());
    for (const auto& [name, value] : m.fields()) store.push_back({name, ViewOf(value)});
    c.fields_count_ = static_cast<uint32_t>(store.size() - c.fields_begin_);
  }
  return views;
}

}  // namespace sfbridge::writer
