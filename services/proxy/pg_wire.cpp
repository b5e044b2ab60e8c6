#include "proxy/pg_wire.h"

#include <cstring>

#include "absl/status/status.h"

namespace sfbridge::proxy::wire {
namespace {

int32_t LoadInt32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) |
                              (uint32_t{u[2]} << 8) | uint32_t{u[3]});
}

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(std::string("malformed ") + std::string(what) + " message");
}

// `value` when `r` read its whole body without running short; otherwise the malformed `what`.
template <typename T>
absl::StatusOr<T> Complete(const Reader& r, std::string_view what, T value) {
  if (!r.ok() || !r.AtEnd()) return Malformed(what);
  return value;
}

// An Int16 count of items of at least `item_size` bytes each; -1 when it is negative or more
// than the rest of the body can hold (`exact`: when the items would not fill it exactly).
int ReadCount(Reader& r, size_t item_size, bool exact = false) {
  const int16_t n = r.Int16();
  if (!r.ok() || n < 0) return -1;
  const size_t size = static_cast<size_t>(n) * item_size;
  if (exact ? r.remaining() != size : r.remaining() < size) return -1;
  return n;
}

std::vector<int16_t> ReadInt16s(Reader& r, int n) {
  std::vector<int16_t> values;
  values.reserve(n);
  for (int i = 0; i < n; ++i) values.push_back(r.Int16());
  return values;
}

// A value after its Int32 length (-1: NULL); the malformed `what` when it runs past the body.
absl::StatusOr<std::optional<std::string_view>> ReadValue(Reader& r, std::string_view what) {
  const int32_t len = r.Int32();
  if (len == -1) return std::optional<std::string_view>();
  std::string_view v = r.Bytes(len < 0 ? SIZE_MAX : static_cast<size_t>(len));
  if (!r.ok()) return Malformed(what);
  return std::optional<std::string_view>(v);
}

}  // namespace

DecodeResult DecodeFrame(std::string_view data, size_t max_size, Frame* frame) {
  if (data.size() < 5) return DecodeResult::kNeedMore;
  int32_t length = LoadInt32(data.data() + 1);
  if (length < 4) return DecodeResult::kBadLength;
  if (static_cast<size_t>(length) > max_size) return DecodeResult::kTooLarge;
  size_t total = 1 + static_cast<size_t>(length);
  if (data.size() < total) return DecodeResult::kNeedMore;
  frame->type = data[0];
  frame->body = data.substr(5, total - 5);
  frame->size = total;
  return DecodeResult::kFrame;
}

DecodeResult DecodeStartupFrame(std::string_view data, size_t max_size, Frame* frame) {
  if (data.size() < 4) return DecodeResult::kNeedMore;
  int32_t length = LoadInt32(data.data());
  if (length < 8) return DecodeResult::kBadLength;  // length + code at least
  if (static_cast<size_t>(length) > max_size) return DecodeResult::kTooLarge;
  if (data.size() < static_cast<size_t>(length)) return DecodeResult::kNeedMore;
  frame->type = 0;
  frame->body = data.substr(4, static_cast<size_t>(length) - 4);
  frame->size = static_cast<size_t>(length);
  return DecodeResult::kFrame;
}

absl::StatusOr<StartupPacket> ParseStartup(std::string_view body) {
  Reader r(body);
  StartupPacket packet;
  packet.code = r.Int32();
  if (!r.ok()) return Malformed("startup");
  switch (packet.code) {
    case kSslRequestCode:
    case kGssEncRequestCode:
      if (!r.AtEnd()) return Malformed("startup");
      return packet;
    case kCancelRequestCode:
      packet.cancel_pid = r.Int32();
      packet.cancel_secret = r.Int32();
      if (!r.ok() || !r.AtEnd()) return Malformed("cancel request");
      return packet;
    default:
      break;
  }
  if ((packet.code >> 16) != 3) {
    return absl::InvalidArgumentError("unsupported frontend protocol " +
                                      std::to_string(packet.code >> 16) + "." +
                                      std::to_string(packet.code & 0xffff) + ": expected 3.x");
  }
  // Name/value pairs, then a terminating NUL.
  while (true) {
    std::string_view name = r.CString();
    if (!r.ok()) return Malformed("startup");
    if (name.empty()) break;
    std::string_view value = r.CString();
    if (!r.ok()) return Malformed("startup");
    packet.params[std::string(name)] = std::string(value);
  }
  if (!r.AtEnd()) return Malformed("startup");
  if (!packet.params.count("user")) {
    return absl::InvalidArgumentError("no PostgreSQL user name specified in startup packet");
  }
  return packet;
}

const char* Reader::Take(size_t n) {
  if (!ok_ || remaining() < n) {
    ok_ = false;
    return nullptr;
  }
  const char* p = data_.data() + pos_;
  pos_ += n;
  return p;
}

int16_t Reader::Int16() {
  const auto* u = reinterpret_cast<const unsigned char*>(Take(2));
  return u == nullptr ? 0 : static_cast<int16_t>((u[0] << 8) | u[1]);
}

int32_t Reader::Int32() {
  const char* p = Take(4);
  return p == nullptr ? 0 : LoadInt32(p);
}

char Reader::Byte() {
  const char* p = Take(1);
  return p == nullptr ? 0 : *p;
}

std::string_view Reader::CString() {
  if (!ok_) return {};
  size_t end = data_.find('\0', pos_);
  if (end == std::string_view::npos) {
    ok_ = false;
    return {};
  }
  std::string_view s = data_.substr(pos_, end - pos_);
  pos_ = end + 1;
  return s;
}

std::string_view Reader::Bytes(size_t n) {
  const char* p = Take(n);
  return p == nullptr ? std::string_view() : std::string_view(p, n);
}

absl::StatusOr<ParseMsg> ReadParse(std::string_view body) {
  Reader r(body);
  ParseMsg m;
  m.statement = r.CString();
  m.query = r.CString();
  const int n = ReadCount(r, 4, /*exact=*/true);
  if (n < 0) return Malformed("Parse");
  m.param_types.reserve(n);
  for (int i = 0; i < n; ++i) m.param_types.push_back(static_cast<uint32_t>(r.Int32()));
  return m;
}

absl::StatusOr<BindMsg> ReadBind(std::string_view body) {
  Reader r(body);
  BindMsg m;
  m.portal = r.CString();
  m.statement = r.CString();
  const int nformats = ReadCount(r, 2);
  if (nformats < 0) return Malformed("Bind");
  m.param_formats = ReadInt16s(r, nformats);
  // Each value takes at least its 4-byte length: bound the reservation by what is there.
  const int nvalues = ReadCount(r, 4);
  if (nvalues < 0) return Malformed("Bind");
  m.values.reserve(nvalues);
  for (int i = 0; i < nvalues; ++i) {
    absl::StatusOr<std::optional<std::string_view>> v = ReadValue(r, "Bind");
    if (!v.ok()) return v.status();
    m.values.push_back(*v);
  }
  const int nresults = ReadCount(r, 2, /*exact=*/true);
  if (nresults < 0) return Malformed("Bind");
  m.result_formats = ReadInt16s(r, nresults);
  return m;
}

absl::StatusOr<DescribeMsg> ReadDescribe(std::string_view body) {
  Reader r(body);
  DescribeMsg m;
  m.kind = r.Byte();
  m.name = r.CString();
  if (m.kind != 'S' && m.kind != 'P') return Malformed("Describe");
  return Complete(r, "Describe", m);
}

absl::StatusOr<ExecuteMsg> ReadExecute(std::string_view body) {
  Reader r(body);
  ExecuteMsg m;
  m.portal = r.CString();
  m.max_rows = r.Int32();
  return Complete(r, "Execute", m);
}

absl::StatusOr<std::string_view> ReadQuery(std::string_view body) {
  Reader r(body);
  return Complete(r, "Query", r.CString());
}

absl::StatusOr<std::vector<FieldDescription>> ReadRowDescription(std::string_view body) {
  Reader r(body);
  const int n = ReadCount(r, 19);
  if (n < 0) return Malformed("RowDescription");
  std::vector<FieldDescription> fields(n);
  for (auto& f : fields) {
    f.name = std::string(r.CString());
    f.table_oid = static_cast<uint32_t>(r.Int32());
    f.column = r.Int16();
    f.type_oid = static_cast<uint32_t>(r.Int32());
    f.type_size = r.Int16();
    f.type_modifier = r.Int32();
    f.format = r.Int16();
  }
  return Complete(r, "RowDescription", std::move(fields));
}

absl::StatusOr<std::vector<std::optional<std::string>>> ReadDataRow(std::string_view body) {
  Reader r(body);
  const int n = ReadCount(r, 4);
  if (n < 0) return Malformed("DataRow");
  std::vector<std::optional<std::string>> values;
  values.reserve(n);
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<std::optional<std::string_view>> v = ReadValue(r, "DataRow");
    if (!v.ok()) return v.status();
    values.emplace_back(*v ? std::optional<std::string>(std::string(**v)) : std::nullopt);
  }
  return Complete(r, "DataRow", std::move(values));
}

absl::StatusOr<std::string_view> ReadCommandComplete(std::string_view body) {
  Reader r(body);
  return Complete(r, "CommandComplete", r.CString());
}

absl::StatusOr<char> ReadReadyForQuery(std::string_view body) {
  if (body.size() != 1 || (body[0] != 'I' && body[0] != 'T' && body[0] != 'E')) {
    return Malformed("ReadyForQuery");
  }
  return body[0];
}

absl::StatusOr<std::vector<std::pair<char, std::string>>> ReadFields(std::string_view body) {
  Reader r(body);
  std::vector<std::pair<char, std::string>> fields;
  while (true) {
    char code = r.Byte();
    if (!r.ok()) return Malformed("ErrorResponse");
    if (code == 0) break;
    std::string_view value = r.CString();
    if (!r.ok()) return Malformed("ErrorResponse");
    fields.emplace_back(code, std::string(value));
  }
  if (!r.AtEnd()) return Malformed("ErrorResponse");
  return fields;
}

PgError ToPgError(const std::vector<std::pair<char, std::string>>& fields) {
  PgError e;
  for (const auto& [code, value] : fields) {
    switch (code) {
      case field::kSeverity:  // localized; the non-localized one that follows wins
      case field::kSeverityNonLocalized:
        e.severity = value;
        break;
      case field::kSqlState:
        e.sqlstate = value;
        break;
      case field::kMessage:
        e.message = value;
        break;
      case field::kDetail:
        e.detail = value;
        break;
      case field::kHint:
        e.hint = value;
        break;
      case field::kColumn:
        e.column = value;
        break;
      case field::kTable:
        e.table = value;
        break;
      case field::kSchema:
        e.schema = value;
        break;
      default:
        break;
    }
  }
  return e;
}

absl::StatusOr<AuthRequest> ReadAuthRequest(std::string_view body) {
  Reader r(body);
  AuthRequest a;
  a.code = r.Int32();
  if (!r.ok()) return Malformed("Authentication");
  if (a.code == 10) {
    while (true) {
      std::string_view m = r.CString();
      if (!r.ok()) return Malformed("AuthenticationSASL");
      if (m.empty()) break;
      a.mechanisms.emplace_back(m);
    }
    if (!r.AtEnd()) return Malformed("AuthenticationSASL");
  }
  return a;
}

absl::StatusOr<BackendKey> ReadBackendKeyData(std::string_view body) {
  Reader r(body);
  BackendKey k;
  k.pid = r.Int32();
  k.secret = r.Int32();
  return Complete(r, "BackendKeyData", k);
}

absl::StatusOr<std::vector<int16_t>> ExpandFormats(const std::vector<int16_t>& formats, size_t n) {
  if (formats.empty()) return std::vector<int16_t>(n, 0);
  if (formats.size() == 1) return std::vector<int16_t>(n, formats[0]);
  if (formats.size() == n) return formats;
  return absl::InvalidArgumentError("bind message has " + std::to_string(formats.size()) +
                                    " format codes for " + std::to_string(n) + " items");
}

}  // namespace sfbridge::proxy::wire
