#pragma once

// The type bytes of the PostgreSQL protocol v3 messages, by name. One byte means different
// messages in the two directions ('D' is Describe from the client and DataRow from the server;
// 'd' is CopyData both ways), so each direction has a namespace of its own; so do the fields of
// an error. Constants only: usable from any thread.

namespace sfbridge::proxy::wire {

// Messages the client (frontend) sends.
namespace frontend {
inline constexpr char kBind = 'B';
inline constexpr char kClose = 'C';
inline constexpr char kCopyData = 'd';
inline constexpr char kCopyDone = 'c';
inline constexpr char kCopyFail = 'f';
inline constexpr char kDescribe = 'D';
inline constexpr char kExecute = 'E';
inline constexpr char kFlush = 'H';
inline constexpr char kFunctionCall = 'F';
inline constexpr char kParse = 'P';
inline constexpr char kPassword = 'p';  // also the SASL and GSSAPI responses
inline constexpr char kQuery = 'Q';
inline constexpr char kSync = 'S';
inline constexpr char kTerminate = 'X';
}  // namespace frontend

// Messages the server (backend) sends.
namespace backend {
inline constexpr char kAuthentication = 'R';
inline constexpr char kBackendKeyData = 'K';
inline constexpr char kBindComplete = '2';
inline constexpr char kCloseComplete = '3';
inline constexpr char kCommandComplete = 'C';
inline constexpr char kCopyBothResponse = 'W';
inline constexpr char kCopyData = 'd';
inline constexpr char kCopyDone = 'c';
inline constexpr char kCopyInResponse = 'G';
inline constexpr char kCopyOutResponse = 'H';
inline constexpr char kDataRow = 'D';
inline constexpr char kEmptyQueryResponse = 'I';
inline constexpr char kErrorResponse = 'E';
inline constexpr char kFunctionCallResponse = 'V';
inline constexpr char kNoData = 'n';
inline constexpr char kNoticeResponse = 'N';
inline constexpr char kNotificationResponse = 'A';
inline constexpr char kParameterDescription = 't';
inline constexpr char kParameterStatus = 'S';
inline constexpr char kParseComplete = '1';
inline constexpr char kPortalSuspended = 's';
inline constexpr char kReadyForQuery = 'Z';
inline constexpr char kRowDescription = 'T';
}  // namespace backend

// The fields of an ErrorResponse or NoticeResponse, by their code byte.
namespace field {
inline constexpr char kSeverity = 'S';  // localized
inline constexpr char kSeverityNonLocalized = 'V';
inline constexpr char kSqlState = 'C';
inline constexpr char kMessage = 'M';
inline constexpr char kDetail = 'D';
inline constexpr char kHint = 'H';
inline constexpr char kWhere = 'W';  // the context: a call stack
inline constexpr char kSchema = 's';
inline constexpr char kTable = 't';
inline constexpr char kColumn = 'c';
inline constexpr char kFile = 'F';  // of the server's source code
inline constexpr char kLine = 'L';
inline constexpr char kRoutine = 'R';
}  // namespace field

// What a Describe or Close names.
inline constexpr char kStatement = 'S';
inline constexpr char kPortal = 'P';

// Authentication request codes (the Int32 after 'R') the proxy looks at.
inline constexpr int kAuthSasl = 10;

}  // namespace sfbridge::proxy::wire
