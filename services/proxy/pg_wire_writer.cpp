// The writing half of pg_wire.h: Writer, and the messages the proxy composes. (The reading half,
// framing and decoding, is pg_wire.cpp.)

#include "proxy/pg_wire.h"

namespace sfbridge::proxy::wire {

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
  w.Byte(field::kSeverity).CString(e.severity);
  w.Byte(field::kSeverityNonLocalized).CString(e.severity);
  w.Byte(field::kSqlState).CString(e.sqlstate.empty() ? "XX000" : e.sqlstate);
  w.Byte(field::kMessage).CString(e.message);
  if (!e.detail.empty()) w.Byte(field::kDetail).CString(e.detail);
  if (!e.hint.empty()) w.Byte(field::kHint).CString(e.hint);
  if (!e.schema.empty()) w.Byte(field::kSchema).CString(e.schema);
  if (!e.table.empty()) w.Byte(field::kTable).CString(e.table);
  if (!e.column.empty()) w.Byte(field::kColumn).CString(e.column);
  w.Byte('\0');
  w.End();
}

}  // namespace

void AppendErrorResponse(std::string* out, const PgError& error) {
  AppendPgError(out, backend::kErrorResponse, error);
}

void AppendNotice(std::string* out, const PgError& notice) {
  AppendPgError(out, backend::kNoticeResponse, notice);
}

void AppendFields(std::string* out, char type,
                  const std::vector<std::pair<char, std::string>>& fields) {
  Writer w(out);
  w.Begin(type);
  for (const auto& [code, value] : fields) w.Byte(code).CString(value);
  w.Byte('\0');
  w.End();
}

void AppendCommandComplete(std::string* out, std::string_view tag) {
  Writer(out).Begin(backend::kCommandComplete).CString(tag).End();
}

void AppendReadyForQuery(std::string* out, char status) {
  Writer(out).Begin(backend::kReadyForQuery).Byte(status).End();
}

void AppendBackendKeyData(std::string* out, BackendKey key) {
  Writer(out).Begin(backend::kBackendKeyData).Int32(key.pid).Int32(key.secret).End();
}

void AppendAuthSasl(std::string* out, const std::vector<std::string>& mechanisms) {
  Writer w(out);
  w.Begin(backend::kAuthentication).Int32(kAuthSasl);
  for (const auto& m : mechanisms) w.CString(m);
  w.Byte('\0');
  w.End();
}

void AppendQuery(std::string* out, std::string_view sql) {
  Writer(out).Begin(frontend::kQuery).CString(sql).End();
}

void AppendParse(std::string* out, std::string_view statement, std::string_view sql,
                 const std::vector<uint32_t>& param_types) {
  Writer w(out);
  w.Begin(frontend::kParse)
      .CString(statement)
      .CString(sql)
      .Int16(static_cast<int16_t>(param_types.size()));
  for (uint32_t t : param_types) w.Int32(static_cast<int32_t>(t));
  w.End();
}

void AppendBind(std::string* out, std::string_view portal, std::string_view statement,
                const BoundParams& params, const std::vector<int16_t>& result_formats) {
  Writer w(out);
  w.Begin(frontend::kBind).CString(portal).CString(statement);
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
  Writer(out).Begin(frontend::kDescribe).Byte(kind).CString(name).End();
}

void AppendExecute(std::string* out, std::string_view portal, int32_t max_rows) {
  Writer(out).Begin(frontend::kExecute).CString(portal).Int32(max_rows).End();
}

void AppendClose(std::string* out, char kind, std::string_view name) {
  Writer(out).Begin(frontend::kClose).Byte(kind).CString(name).End();
}

void AppendSync(std::string* out) { Writer(out).Begin(frontend::kSync).End(); }

void AppendFlush(std::string* out) { Writer(out).Begin(frontend::kFlush).End(); }

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

}  // namespace sfbridge::proxy::wire
