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
      case 'S':  // localized; the non-localized 'V' that follows wins
      case 'V':
        e.severity = value;
        break;
      case 'C':
        e.sqlstate = value;
        break;
      case 'M':
        e.message = value;
        break;
      case 'D':
        e.detail = value;
        break;
      case 'H':
        e.hint = value;
        break;
      case 'c':
        e.column = value;
        break;
      case 't':
        e.table = value;
        break;
      case 's':
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

Writer& Writer::Begin(char type) {
  out_->push_back(type);
  start_ = out_->size();
  out_->append(4, '\0');
  return *this;
}

Writer& Writer::BeginStartup() {
  start_ = out_->size();
  out_->append(4, '\0');
  return *this;
}

Writer& Writer::Int16(int16_t v) {
  auto u = static_cast<uint16_t>(v);
  out_->push_back(static_cast<char>(u >> 8));
  out_->push_back(static_cast<char>(u & 0xff));
  return *this;
}

Writer& Writer::Int32(int32_t v) {
  auto u = static_cast<uint32_t>(v);
  char b[4] = {static_cast<char>(u >> 24), static_cast<char>((u >> 16) & 0xff),
               static_cast<char>((u >> 8) & 0xff), static_cast<char>(u & 0xff)};
  out_->append(b, 4);
  return *this;
}

Writer& Writer::Byte(char c) {
  out_->push_back(c);
  return *this;
}

Writer& Writer::CString(std::string_view s) {
  for (char c : s) {
    if (c != '\0') out_->push_back(c);
  }
  out_->push_back('\0');
  return *this;
}

Writer& Writer::Bytes(std::string_view s) {
  out_->append(s);
  return *this;
}

void Writer::End() {
  auto len = static_cast<uint32_t>(out_->size() - start_);
  (*out_)[start_] = static_cast<char>(len >> 24);
  (*out_)[start_ + 1] = static_cast<char>((len >> 16) & 0xff);
  (*out_)[start_ + 2] = static_cast<char>((len >> 8) & 0xff);
  (*out_)[start_ + 3] = static_cast<char>(len & 0xff);
}

namespace {

void AppendPgError(std::string* out, char type, const PgError& e) {
  Writer w(out);
  w.Begin(type);
  w.Byte('S').CString(e.severity);
  w.Byte('V').CString(e.severity);
  w.Byte('C').CString(e.sqlstate.empty() ? "XX000" : e.sqlstate);
  w.Byte('M').CString(e.message);
  if (!e.detail.empty()) w.Byte('D').CString(e.detail);
  if (!e.hint.empty()) w.Byte('H').CString(e.hint);
  if (!e.schema.empty()) w.Byte('s').CString(e.schema);
  if (!e.table.empty()) w.Byte('t').CString(e.table);
  if (!e.column.empty()) w.Byte('c').CString(e.column);
  w.Byte('\0');
  w.End();
}

}  // namespace

void AppendErrorResponse(std::string* out, const PgError& error) { AppendPgError(out, 'E', error); }

void AppendNotice(std::string* out, const PgError& notice) { AppendPgError(out, 'N', notice); }

void AppendFields(std::string* out, char type,
                  const std::vector<std::pair<char, std::string>>& fields) {
  Writer w(out);
  w.Begin(type);
  for (const auto& [code, value] : fields) w.Byte(code).CString(value);
  w.Byte('\0');
  w.End();
}

void AppendCommandComplete(std::string* out, std::string_view tag) {
  Writer(out).Begin('C').CString(tag).End();
}

void AppendReadyForQuery(std::string* out, char status) {
  Writer(out).Begin('Z').Byte(status).End();
}

void AppendBackendKeyData(std::string* out, BackendKey key) {
  Writer(out).Begin('K').Int32(key.pid).Int32(key.secret).End();
}

void AppendAuthSasl(std::string* out, const std::vector<std::string>& mechanisms) {
  Writer w(out);
  w.Begin('R').Int32(10);
  for (const auto& m : mechanisms) w.CString(m);
  w.Byte('\0');
  w.End();
}

void AppendQuery(std::string* out, std::string_view sql) {
  Writer(out).Begin('Q').CString(sql).End();
}

void AppendParse(std::string* out, std::string_view statement, std::string_view sql,
                 const std::vector<uint32_t>& param_types) {
  Writer w(out);
  w.Begin('P').CString(statement).CString(sql).Int16(static_cast<int16_t>(param_types.size()));
  for (uint32_t t : param_types) w.Int32(static_cast<int32_t>(t));
  w.End();
}

void AppendBind(std::string* out, std::string_view portal, std::string_view statement,
                const BoundParams& params, const std::vector<int16_t>& result_formats) {
  Writer w(out);
  w.Begin('B').CString(portal).CString(statement);
  w.Int16(static_cast<int16_t>(params.formats.size()));
  for (int16_t f : params.formats) w.Int16(f);
  w.Int16(static_cast<int16_t>(params.values.size()));
  for (const auto& v : params.values) {
    if (!v) {
      w.Int32(-1);
    } else {
      w.Int32(static_cast<int32_t>(v->size())).Bytes(*v);
    }
  }
  w.Int16(static_cast<int16_t>(result_formats.size()));
  for (int16_t f : result_formats) w.Int16(f);
  w.End();
}

void AppendDescribe(std::string* out, char kind, std::string_view name) {
  Writer(out).Begin('D').Byte(kind).CString(name).End();
}

void AppendExecute(std::string* out, std::string_view portal, int32_t max_rows) {
  Writer(out).Begin('E').CString(portal).Int32(max_rows).End();
}

void AppendClose(std::string* out, char kind, std::string_view name) {
  Writer(out).Begin('C').Byte(kind).CString(name).End();
}

void AppendSync(std::string* out) { Writer(out).Begin('S').End(); }

void AppendFlush(std::string* out) { Writer(out).Begin('H').End(); }

void AppendCancelRequest(std::string* out, BackendKey key) {
  Writer(out).BeginStartup().Int32(kCancelRequestCode).Int32(key.pid).Int32(key.secret).End();
}

void AppendStartup(std::string* out, const std::map<std::string, std::string>& params) {
  Writer w(out);
  w.BeginStartup().Int32(kProtocolV3);
  for (const auto& [k, v] : params) w.CString(k).CString(v);
  w.Byte('\0');
  w.End();
}

absl::StatusOr<std::vector<int16_t>> ExpandFormats(const std::vector<int16_t>& formats, size_t n) {
  if (formats.empty()) return std::vector<int16_t>(n, 0);
  if (formats.size() == 1) return std::vector<int16_t>(n, formats[0]);
  if (formats.size() == n) return formats;
  return absl::InvalidArgumentError("bind message has " + std::to_string(formats.size()) +
                                    " format codes for " + std::to_string(n) + " items");
}

}  // namespace sfbridge::proxy::wire
