#pragma once

// The PostgreSQL frontend/backend protocol v3, as bytes: framing, the startup-phase packets, and
// typed reads and writes of the messages the proxy looks into or composes. Pure functions over
// buffers, no I/O; every read is bounds-checked and no length read from the wire decides an
// allocation (a frame is returned only once all its bytes are in the buffer). The message type
// bytes have names in pg_message_types.h. Reads are in pg_wire.cpp, writes in pg_wire_writer.cpp.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/pg_message_types.h"
#include "proxy/write_path.h"

namespace sfbridge::proxy::wire {

// Startup-phase codes (int32 after the length, no type byte).
inline constexpr int32_t kProtocolV3 = 196608;  // 3.0
inline constexpr int32_t kSslRequestCode = 80877103;
inline constexpr int32_t kGssEncRequestCode = 80877104;
inline constexpr int32_t kCancelRequestCode = 80877102;

// One regular message: the type byte and the body after the length.
struct Frame {
  char type = 0;
  std::string_view body;
  size_t size = 0;  // bytes on the wire: 1 + 4 + body.size()
};

enum class DecodeResult {
  kFrame,     // *frame is set
  kNeedMore,  // the buffer holds no complete frame yet
  kTooLarge,  // the declared length exceeds the limit
  kBadLength  // the declared length is below the minimum (4)
};

// Decodes the first regular message of `data`. `max_size` bounds the declared length.
DecodeResult DecodeFrame(std::string_view data, size_t max_size, Frame* frame);

// Decodes the first startup-phase packet (int32 length, then the body); frame->type is 0.
DecodeResult DecodeStartupFrame(std::string_view data, size_t max_size, Frame* frame);

// A startup-phase packet, decoded.
struct StartupPacket {
  int32_t code = 0;                           // kProtocolV3 (major 3, any minor), kSslRequestCode..
  std::map<std::string, std::string> params;  // StartupMessage: user, database, options, ...
  int32_t cancel_pid = 0;                     // CancelRequest
  int32_t cancel_secret = 0;
};
// Errors: kInvalidArgument for a malformed packet or an unsupported protocol major version.
absl::StatusOr<StartupPacket> ParseStartup(std::string_view body);

// Bounds-checked reads from a message body. After any failed read ok() is false and every
// further read returns a zero value.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  int16_t Int16();
  int32_t Int32();
  char Byte();
  std::string_view CString();  // up to the NUL, which is consumed
  std::string_view Bytes(size_t n);
  bool ok() const { return ok_; }
  bool AtEnd() const { return pos_ == data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  // The next `n` bytes, consumed; nullptr (and not ok() from then on) when fewer remain.
  const char* Take(size_t n);

  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Frontend messages the session reads. The string_views point into the frame.
struct ParseMsg {
  std::string_view statement;
  std::string_view query;
  std::vector<uint32_t> param_types;
};
struct BindMsg {
  std::string_view portal;
  std::string_view statement;
  std::vector<int16_t> param_formats;  // as sent: 0, 1 or n entries
  std::vector<std::optional<std::string_view>> values;
  std::vector<int16_t> result_formats;  // as sent: 0, 1 or n entries
};
struct DescribeMsg {  // also Close
  char kind = 0;      // 'S' statement or 'P' portal
  std::string_view name;
};
struct ExecuteMsg {
  std::string_view portal;
  int32_t max_rows = 0;
};
absl::StatusOr<ParseMsg> ReadParse(std::string_view body);
absl::StatusOr<BindMsg> ReadBind(std::string_view body);
absl::StatusOr<DescribeMsg> ReadDescribe(std::string_view body);  // Describe and Close
absl::StatusOr<ExecuteMsg> ReadExecute(std::string_view body);
absl::StatusOr<std::string_view> ReadQuery(std::string_view body);

// Backend messages the session reads.
struct FieldDescription {
  std::string name;
  uint32_t table_oid = 0;
  int16_t column = 0;
  uint32_t type_oid = 0;
  int16_t type_size = 0;
  int32_t type_modifier = 0;
  int16_t format = 0;
};
absl::StatusOr<std::vector<FieldDescription>> ReadRowDescription(std::string_view body);
absl::StatusOr<std::vector<std::optional<std::string>>> ReadDataRow(std::string_view body);
absl::StatusOr<std::string_view> ReadCommandComplete(std::string_view body);
absl::StatusOr<char> ReadReadyForQuery(std::string_view body);
// ErrorResponse / NoticeResponse: field code → value, in order.
absl::StatusOr<std::vector<std::pair<char, std::string>>> ReadFields(std::string_view body);
// The fields of an ErrorResponse as a PgError (severity, code, message, detail, hint, column,
// table, schema).
PgError ToPgError(const std::vector<std::pair<char, std::string>>& fields);
struct AuthRequest {
  int32_t code = 0;                     // 0 ok, 3 cleartext, 5 md5, 10 SASL, 11/12 SASL steps
  std::vector<std::string> mechanisms;  // code 10
};
absl::StatusOr<AuthRequest> ReadAuthRequest(std::string_view body);
struct BackendKey {
  int32_t pid = 0;
  int32_t secret = 0;
};
absl::StatusOr<BackendKey> ReadBackendKeyData(std::string_view body);

// Appends messages to a buffer. Begin() writes the type and a length placeholder; End() fills
// the length in. Messages may be built back to back into one buffer.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  Writer& Begin(char type);
  Writer& BeginStartup();  // no type byte
  Writer& Int16(int16_t v);
  Writer& Int32(int32_t v);
  Writer& Byte(char c);
  Writer& CString(std::string_view s);  // NULs inside are dropped
  Writer& Bytes(std::string_view s);
  void End();

 private:
  std::string* out_;
  size_t start_ = 0;
};

// Composed messages, appended to `out`.
void AppendErrorResponse(std::string* out, const PgError& error);  // 'E', or 'N' for a notice
void AppendNotice(std::string* out, const PgError& notice);
void AppendFields(std::string* out, char type,
                  const std::vector<std::pair<char, std::string>>& fields);
void AppendCommandComplete(std::string* out, std::string_view tag);
void AppendReadyForQuery(std::string* out, char status);
void AppendBackendKeyData(std::string* out, BackendKey key);
void AppendAuthSasl(std::string* out, const std::vector<std::string>& mechanisms);
void AppendQuery(std::string* out, std::string_view sql);
void AppendParse(std::string* out, std::string_view statement, std::string_view sql,
                 const std::vector<uint32_t>& param_types);
void AppendBind(std::string* out, std::string_view portal, std::string_view statement,
                const BoundParams& params, const std::vector<int16_t>& result_formats);
void AppendDescribe(std::string* out, char kind, std::string_view name);
void AppendExecute(std::string* out, std::string_view portal, int32_t max_rows);
void AppendClose(std::string* out, char kind, std::string_view name);
void AppendSync(std::string* out);
void AppendFlush(std::string* out);
void AppendCancelRequest(std::string* out, BackendKey key);
void AppendStartup(std::string* out, const std::map<std::string, std::string>& params);

// Bind's 0/1/n format convention expanded to one format per item (0 entries: all text; one: all
// that one). Errors: kInvalidArgument when the count is neither 0, 1 nor n.
absl::StatusOr<std::vector<int16_t>> ExpandFormats(const std::vector<int16_t>& formats, size_t n);

}  // namespace sfbridge::proxy::wire
