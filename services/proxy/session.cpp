// The session's life and the client's side of the protocol: what each client message means for
// the session's bookkeeping, and which ones the session intercepts (session.h).

#include "proxy/session.h"

#include "common/core/logging.h"
#include "common/core/strings.h"
#include "proxy/pg_message_types.h"

namespace sfbridge::proxy {
namespace {

using core::StrCat;
namespace fe = wire::frontend;

// The frame of a whole message composed by the session.
wire::Frame FrameOf(std::string_view message) {
  return {.type = message[0], .body = message.substr(5), .size = message.size()};
}

}  // namespace

Session::Session(Fd client, int stop_fd, const SessionOptions& options, WritePath& write_path,
                 CancelKeys& cancel_keys, const SessionCounters& counters, uint64_t id)
    : options_(options),
      write_path_(write_path),
      cancel_keys_(cancel_keys),
      counters_(counters),
      id_(id),
      log_(core::Logger("proxy.session")),
      io_(std::move(client), stop_fd),
      prepared_([&write_path](std::string_view sql) { return write_path.Plan(sql); }) {}

Session::~Session() {
  if (proxy_key_) cancel_keys_.Unregister(*proxy_key_);
}

void Session::Run() {
  absl::Status status = Startup();
  if (status.ok() && io_.has_server()) status = io_.Serve(*this);
  if (!status.ok()) {
    log_->debug("session={} ended: {}", id_, core::ToString(status.message()));
  }
  std::string terminate;
  wire::Writer(&terminate).Begin(fe::kTerminate).End();
  io_.Finish(terminate);
}

void Session::ProtocolError(std::string_view message) {
  counters_.protocol_errors->Increment();
  log_->warn("session={} protocol error: {}", id_, message);
  PgError e;
  e.severity = "FATAL";
  e.sqlstate = "08P01";
  e.message = std::string(message);
  wire::AppendErrorResponse(io_.client_out().back(), e);
  io_.StopReadingClient();
}

void Session::OnClientClosed(bool inside_message) {
  if (!inside_message) return;
  counters_.protocol_errors->Increment();
  log_->warn("session={} protocol error: client closed inside a message", id_);
}

bool Session::Drain() {
  // Postgres holds extended-protocol replies until a Flush or Sync; the client may not have
  // sent one yet.
  if (!replies_.empty()) wire::AppendFlush(ServerOut());
  return io_.Drain(*this);
}

void Session::OnClientInput() {
  InputBuffer& in = io_.client_in();
  while (io_.reading_client() && !io_.lost()) {
    wire::Frame frame;
    switch (wire::DecodeFrame(in.view(), options_.max_message_size, &frame)) {
      case wire::DecodeResult::kNeedMore:
        return;
      case wire::DecodeResult::kTooLarge:
        ProtocolError(StrCat("message of type '", frame.type, "' exceeds the maximum size of ",
                             options_.max_message_size, " bytes"));
        in.Clear();
        return;
      case wire::DecodeResult::kBadLength:
        ProtocolError("invalid message length");
        in.Clear();
        return;
      case wire::DecodeResult::kFrame:
        break;
    }
    std::string_view raw = in.view().substr(0, frame.size);
    OnClientMessage(frame, raw);
    in.Consume(frame.size);
  }
}

void Session::OnClientMessage(const wire::Frame& frame, std::string_view raw) {
  if (skip_until_sync_) {
    // Skipped, as PostgreSQL skips it.
    if (frame.type != fe::kSync && frame.type != fe::kTerminate) return;
    skip_until_sync_ = false;
  }
  ByteBuffer& server_out = io_.server_out();
  switch (frame.type) {
    case fe::kQuery: {
      FinishHeld();
      absl::StatusOr<std::string_view> sql = wire::ReadQuery(frame.body);
      if (!sql.ok()) break;  // Postgres reports the malformed message
      if (std::optional<std::string> named = committed_ids_.InSql(*sql)) {
        std::string rebuilt;
        wire::AppendQuery(&rebuilt, *named);
        OnQuery(*named, rebuilt);
        return;
      }
      OnQuery(*sql, raw);
      return;
    }
    case fe::kParse:
      OnParse(frame, raw);
      return;
    case fe::kBind:
      OnBind(frame, raw);
      return;
    case fe::kExecute: {
      // Whether the client's next message is already here and is a Sync.
      std::string_view rest = io_.client_in().view().substr(frame.size);
      OnExecute(frame, raw, !rest.empty() && rest[0] == fe::kSync);
      return;
    }
    case fe::kDescribe: {
      absl::StatusOr<wire::DescribeMsg> d = wire::ReadDescribe(frame.body);
      server_out.Append(raw);
      if (d.ok()) {
        Expecting(d->kind == wire::kStatement ? Request::kDescribeStatement : Request::kDescribe,
                  Route::kClient);
      }
      return;
    }
    case fe::kClose:
      prepared_.OnClose(frame.body);
      server_out.Append(raw);
      Expecting(Request::kClose, Route::kClient);
      return;
    case fe::kSync:
      FinishHeld();
      server_out.Append(raw);
      Expecting(Request::kSync, Route::kClient);
      return;
    case fe::kFlush:  // the client wants every answer so far
      FinishHeld();
      break;
    case fe::kFunctionCall:
      server_out.Append(raw);
      Expecting(Request::kFunctionCall, Route::kClient);
      return;
    case fe::kCopyDone:
    case fe::kCopyFail:
      replies_.OnCopyEnd();
      break;
    case fe::kTerminate:
      io_.StopReadingClient();
      break;
    default:  // CopyData, authentication responses, and anything Postgres will judge
      break;
  }
  server_out.Append(raw);
}

void Session::OnParse(const wire::Frame& frame, std::string_view raw) {
  if (!committed_ids_.empty()) {
    absl::StatusOr<wire::ParseMsg> parse = wire::ReadParse(frame.body);
    std::optional<std::string> sql = parse.ok() ? committed_ids_.InSql(parse->query) : std::nullopt;
    if (sql) {
      std::string rebuilt;
      wire::AppendParse(&rebuilt, parse->statement, *sql, parse->param_types);
      prepared_.OnParse(FrameOf(rebuilt).body);
      io_.server_out().Append(rebuilt);
      Expecting(Request::kParse, Route::kClient);
      return;
    }
  }
  prepared_.OnParse(frame.body);
  io_.server_out().Append(raw);
  Expecting(Request::kParse, Route::kClient);
}

void Session::OnBind(const wire::Frame& frame, std::string_view raw) {
  std::optional<std::string> rebuilt = committed_ids_.InBind(frame.body);
  if (rebuilt) {
    prepared_.OnBind(FrameOf(*rebuilt).body);
    io_.server_out().Append(*rebuilt);
  } else {
    prepared_.OnBind(frame.body);
    io_.server_out().Append(raw);
  }
  Expecting(Request::kBind, Route::kClient);
}

void Session::OnExecute(const wire::Frame& frame, std::string_view raw, bool last_before_sync) {
  const PreparedStatements::Executed executed =
      prepared_.OnExecute(frame.body, WatchingTransactionControl());
  if (executed.mutation) {
    PreparedPortal portal = *executed.mutation;  // a copy: interception may change the registry
    InterceptExecute(portal, raw, last_before_sync);
    return;
  }
  if (executed.transaction_control) {
    const std::string sql = *executed.transaction_control;  // the registry may change meanwhile
    if (!BeforeTransactionControl(sql)) return;
  }
  counters_.passthrough->Increment();
  io_.server_out().Append(raw);
  Expecting(Request::kExecute, Route::kClient);
}

}  // namespace sfbridge::proxy
