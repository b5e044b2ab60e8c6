#include "proxy/session.h"

#include <poll.h>

#include <algorithm>

#include "common/core/logging.h"
#include "common/core/strings.h"

namespace sfbridge::proxy {
namespace {

using core::StrCat;

constexpr size_t kReadChunk = 64 << 10;
// Stop reading one side while the other side's unsent bytes exceed this (back-pressure).
constexpr size_t kHighWater = 4 << 20;
// Postgres's own bound on a startup packet.
constexpr size_t kMaxStartupPacket = 10000;
// Server messages are trusted but still framed; Postgres never sends more than 1 GB in one.
constexpr size_t kMaxServerMessage = size_t{1} << 31;

// The reply message that ends the reply to a message of type `msg`.
bool Ends(char msg, char reply) {
  switch (msg) {
    case 'P':
      return reply == '1';
    case 'B':
      return reply == '2';
    case 'D':
      return reply == 'T' || reply == 'n';
    case 'E':
      return reply == 'C' || reply == 's' || reply == 'I';
    case 'C':
      return reply == '3';
    case 'F':
      return reply == 'V';
    default:
      return false;  // 'S', 'Q': ReadyForQuery, handled apart; 'd': see OnServerMessage
  }
}

}  // namespace

Session::Session(Fd client, int stop_fd, const SessionOptions& options, WritePath& write_path,
                 CancelKeys& cancel_keys, const SessionCounters& counters, uint64_t id)
    : client_fd_(std::move(client)),
      stop_fd_(stop_fd),
      options_(options),
      write_path_(write_path),
      cancel_keys_(cancel_keys),
      counters_(counters),
      id_(id),
      log_(core::Logger("proxy.session")) {}

Session::~Session() {
  if (proxy_key_) cancel_keys_.Unregister(*proxy_key_);
}

void Session::Run() {
  client_ = std::make_unique<Stream>(std::move(client_fd_));
  absl::Status status = Startup();
  if (status.ok() && server_) status = Serve();
  if (!status.ok()) {
    log_->debug("session={} ended: {}", id_, core::ToString(status.message()));
  }
  if (server_ && !lost_) {
    // Tell Postgres the client is gone, so it does not log an unexpected EOF.
    server_out_.Clear();
    wire::Writer(server_out_.back()).Begin('X').End();
    (void)server_->WriteAll(server_out_, std::chrono::milliseconds(200));
  }
  if (!client_out_.empty()) (void)client_->WriteAll(client_out_, std::chrono::milliseconds(1000));
}

void Session::ProtocolError(std::string_view message) {
  counters_.protocol_errors->Increment();
  log_->warn("session={} protocol error: {}", id_, message);
  PgError e;
  e.severity = "FATAL";
  e.sqlstate = "08P01";
  e.message = std::string(message);
  wire::AppendErrorResponse(client_out_.back(), e);
  closing_ = true;
}

absl::Status Session::ReadStartupPacket(wire::Frame* frame) {
  auto deadline = std::chrono::steady_clock::now() + options_.startup_timeout;
  while (true) {
    switch (wire::DecodeStartupFrame(client_in_.view(), kMaxStartupPacket, frame)) {
      case wire::DecodeResult::kFrame:
        return absl::OkStatus();
      case wire::DecodeResult::kTooLarge:
        ProtocolError("invalid length of startup packet");
        return absl::InvalidArgumentError("startup packet too large");
      case wire::DecodeResult::kBadLength:
        ProtocolError("invalid length of startup packet");
        return absl::InvalidArgumentError("startup packet length invalid");
      case wire::DecodeResult::kNeedMore:
        break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !client_->WaitReadable(left)) {
      return absl::DeadlineExceededError("no startup packet in time");
    }
    IoResult r = client_->Read(client_in_, kMaxStartupPacket);
    if (r == IoResult::kClosed || r == IoResult::kError) {
      if (!client_in_.empty()) {
        counters_.protocol_errors->Increment();
        log_->warn("session={} protocol error: truncated startup packet", id_);
      }
      return absl::UnavailableError("client closed during startup");
    }
  }
}

absl::Status Session::Startup() {
  constexpr auto kShort = std::chrono::milliseconds(5000);
  // A TLS ClientHello as the very first byte: direct TLS (sslnegotiation=direct), no SSLRequest.
  if (options_.tls && client_->PeekByte(options_.startup_timeout) == 0x16) {
    if (absl::Status s = client_->AcceptTls(options_.tls, options_.startup_timeout); !s.ok()) {
      counters_.protocol_errors->Increment();
      return s;
    }
  }
  while (true) {
    wire::Frame frame;
    if (absl::Status s = ReadStartupPacket(&frame); !s.ok()) return s;
    absl::StatusOr<wire::StartupPacket> packet = wire::ParseStartup(frame.body);
    std::string raw(client_in_.view().substr(0, frame.size));
    client_in_.Consume(frame.size);
    if (!packet.ok()) {
      ProtocolError(core::ToString(packet.status().message()));
      return packet.status();
    }
    switch (packet->code) {
      case wire::kSslRequestCode:
      case wire::kGssEncRequestCode: {
        bool tls = packet->code == wire::kSslRequestCode && options_.tls && !client_->tls();
        // Bytes sent after the request but before the handshake would be trusted as if they
        // had come through TLS: refuse them.
        if (!client_in_.empty()) {
          ProtocolError("received unencrypted data after SSL request");
          return absl::InvalidArgumentError("data after SSLRequest");
        }
        ByteBuffer answer;
        answer.Append(tls ? "S" : "N");
        if (absl::Status s = client_->WriteAll(answer, kShort); !s.ok()) return s;
        if (tls) {
          if (absl::Status s = client_->AcceptTls(options_.tls, options_.startup_timeout);
              !s.ok()) {
            counters_.protocol_errors->Increment();
            return s;
          }
        }
        continue;
      }
      case wire::kCancelRequestCode:
        HandleCancel(*packet);
        return absl::OkStatus();
      default:
        break;
    }
    absl::StatusOr<Fd> fd =
        Connect(options_.upstream_host, options_.upstream_port, options_.connect_timeout);
    if (!fd.ok()) {
      PgError e;
      e.severity = "FATAL";
      e.sqlstate = "08006";
      e.message = StrCat("the proxy cannot reach the database: ", fd.status().message());
      wire::AppendErrorResponse(client_out_.back(), e);
      log_->warn("session={} {}", id_, e.message);
      return fd.status();
    }
    server_ = std::make_unique<Stream>(*std::move(fd));
    // Forwarded unchanged: Postgres answers a newer minor version or _pq_ options itself
    // (NegotiateProtocolVersion), and sees the client's own user, database and options.
    server_out_.Append(raw);
    log_->debug(
        "session={} user={} database={} tls={}", id_, packet->params["user"],
        packet->params.count("database") ? packet->params["database"] : packet->params["user"],
        client_->tls());
    return absl::OkStatus();
  }
}

void Session::HandleCancel(const wire::StartupPacket& packet) {
  std::optional<wire::BackendKey> server_key =
      cancel_keys_.Find({packet.cancel_pid, packet.cancel_secret});
  if (!server_key) {
    log_->info("session={} cancel request with an unknown key ignored", id_);
    return;
  }
  absl::StatusOr<Fd> fd =
      Connect(options_.upstream_host, options_.upstream_port, options_.connect_timeout);
  if (!fd.ok()) {
    log_->warn("session={} cancel not delivered: {}", id_, core::ToString(fd.status().message()));
    return;
  }
  Stream server(*std::move(fd));
  ByteBuffer out;
  wire::AppendCancelRequest(out.back(), *server_key);
  (void)server.WriteAll(out, std::chrono::milliseconds(5000));
  // Postgres closes the connection once it has the request; waiting for that keeps the cancel
  // ahead of anything the client does next.
  server.WaitReadable(std::chrono::milliseconds(5000));
  log_->debug("session={} cancel forwarded to server pid {}", id_, server_key->pid);
}

absl::Status Session::Serve() {
  while (!lost_) {
    if (closing_ && client_out_.empty() && server_out_.empty()) break;
    pollfd fds[3];
    short client_events = 0, server_events = 0;
    if (!closing_ && server_out_.size() < kHighWater) client_events |= client_->ReadEvents();
    if (!client_out_.empty()) client_events |= client_->WriteEvents();
    if (client_out_.size() < kHighWater) server_events |= server_->ReadEvents();
    if (!server_out_.empty()) server_events |= server_->WriteEvents();
    fds[0] = {client_->fd(), client_events, 0};
    fds[1] = {server_->fd(), server_events, 0};
    fds[2] = {stop_fd_, POLLIN, 0};
    bool buffered = client_->HasBufferedInput() && (client_events & POLLIN);
    int n = poll(fds, 3, buffered ? 0 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError("poll failed");
    }
    if (fds[2].revents) return absl::CancelledError("proxy stopping");
    bool want_read = !closing_ && server_out_.size() < kHighWater;
    if (want_read && ((fds[0].revents & (client_->ReadEvents() | POLLHUP | POLLERR)) || buffered)) {
      {
        IoResult r = client_->Read(client_in_, kReadChunk);
        if (r == IoResult::kClosed || r == IoResult::kError) {
          if (!client_in_.empty()) {
            counters_.protocol_errors->Increment();
            log_->warn("session={} protocol error: client closed inside a message", id_);
          }
          return absl::OkStatus();
        }
        if (r == IoResult::kOk) {
          if (absl::Status s = ProcessClientInput(); !s.ok()) return s;
        }
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      IoResult r = server_->Read(server_in_, kReadChunk);
      if (r == IoResult::kClosed || r == IoResult::kError) {
        lost_ = true;
        ProcessServerInput();  // whatever complete messages arrived (a FATAL error, usually)
        return absl::UnavailableError("server closed the connection");
      }
      if (r == IoResult::kOk) ProcessServerInput();
    }
    if (!server_out_.empty()) {
      IoResult r = server_->Write(server_out_);
      if (r == IoResult::kError || r == IoResult::kClosed) {
        lost_ = true;
        return absl::UnavailableError("server connection lost");
      }
    }
    if (!client_out_.empty()) {
      IoResult r = client_->Write(client_out_);
      if (r == IoResult::kError || r == IoResult::kClosed) {
        client_out_.Clear();
        return absl::UnavailableError("client connection lost");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Session::ProcessClientInput() {
  while (!closing_ && !lost_) {
    wire::Frame frame;
    switch (wire::DecodeFrame(client_in_.view(), options_.max_message_size, &frame)) {
      case wire::DecodeResult::kNeedMore:
        return absl::OkStatus();
      case wire::DecodeResult::kTooLarge:
        ProtocolError(StrCat("message of type '", frame.type, "' exceeds the maximum size of ",
                             options_.max_message_size, " bytes"));
        client_in_.Clear();
        return absl::OkStatus();
      case wire::DecodeResult::kBadLength:
        ProtocolError("invalid message length");
        client_in_.Clear();
        return absl::OkStatus();
      case wire::DecodeResult::kFrame:
        break;
    }
    std::string_view raw = client_in_.view().substr(0, frame.size);
    OnClientMessage(frame, raw);
    client_in_.Consume(frame.size);
  }
  return absl::OkStatus();
}

void Session::Expecting(char msg, Route route) {
  if (msg == 'S') {
    if (copy_in_) return;  // ignored by Postgres in COPY-in mode
    server_discarding_ = false;
    expects_.push_back({msg, route});
    return;
  }
  if (server_discarding_) return;  // the server skips it: no reply
  expects_.push_back({msg, route});
}

void Session::OnClientMessage(const wire::Frame& frame, std::string_view raw) {
  if (skip_until_sync_) {
    if (frame.type != 'S' && frame.type != 'X') return;  // skipped, as PostgreSQL skips it
    skip_until_sync_ = false;
  }
  switch (frame.type) {
    case 'Q': {
      FinishHeld();
      absl::StatusOr<std::string_view> sql = wire::ReadQuery(frame.body);
      if (!sql.ok()) break;  // Postgres reports the malformed message
      if (std::optional<std::string> named = WithCommittedIds(*sql)) {
        std::string rebuilt;
        wire::AppendQuery(&rebuilt, *named);
        OnQuery(*named, rebuilt);
        return;
      }
      OnQuery(*sql, raw);
      return;
    }
    case 'P': {
      if (!committed_ids_.empty()) {
        absl::StatusOr<wire::ParseMsg> parse = wire::ReadParse(frame.body);
        std::optional<std::string> sql = parse.ok() ? WithCommittedIds(parse->query) : std::nullopt;
        if (sql) {
          std::string rebuilt;
          wire::AppendParse(&rebuilt, parse->statement, *sql, parse->param_types);
          wire::Frame replaced{
              .type = 'P', .body = std::string_view(rebuilt).substr(5), .size = rebuilt.size()};
          OnParse(replaced);
          server_out_.Append(rebuilt);
          Expecting('P', Route::kClient);
          return;
        }
      }
      OnParse(frame);
      server_out_.Append(raw);
      Expecting('P', Route::kClient);
      return;
    }
    case 'B': {
      std::optional<std::string> rebuilt = BindWithCommittedIds(frame.body);
      if (rebuilt) {
        wire::Frame replaced{
            .type = 'B', .body = std::string_view(*rebuilt).substr(5), .size = rebuilt->size()};
        OnBind(replaced);
        server_out_.Append(*rebuilt);
      } else {
        OnBind(frame);
        server_out_.Append(raw);
      }
      Expecting('B', Route::kClient);
      return;
    }
    case 'E': {
      // Whether the client's next message is already here and is a Sync.
      std::string_view rest = client_in_.view().substr(frame.size);
      OnExecute(frame, raw, !rest.empty() && rest[0] == 'S');
      return;
    }
    case 'D': {
      absl::StatusOr<wire::DescribeMsg> d = wire::ReadDescribe(frame.body);
      server_out_.Append(raw);
      if (d.ok()) Expecting(d->kind == 'S' ? 'd' : 'D', Route::kClient);
      return;
    }
    case 'C':
      OnClose(frame);
      server_out_.Append(raw);
      Expecting('C', Route::kClient);
      return;
    case 'S':
      FinishHeld();
      server_out_.Append(raw);
      Expecting('S', Route::kClient);
      return;
    case 'H':  // Flush: the client wants every answer so far
      FinishHeld();
      break;
    case 'F':
      server_out_.Append(raw);
      Expecting('F', Route::kClient);
      return;
    case 'c':  // CopyDone
    case 'f':  // CopyFail
      copy_in_ = false;
      break;
    case 'X':
      closing_ = true;
      break;
    default:  // CopyData, Flush, authentication responses, and anything Postgres will judge
      break;
  }
  server_out_.Append(raw);
}

void Session::OnParse(const wire::Frame& frame) {
  absl::StatusOr<wire::ParseMsg> parse = wire::ReadParse(frame.body);
  if (!parse.ok()) return;
  std::string name(parse->statement);
  if (ClassifyTransactionControl(parse->query) != TransactionControl::kNone) {
    tx_statements_[name] = std::string(parse->query);
  } else if (!tx_statements_.empty()) {
    tx_statements_.erase(name);
  }
  if (!MayWrite(parse->query)) {
    if (!statements_.empty()) statements_.erase(name);
    return;
  }
  StatementPlan plan = write_path_.Plan(parse->query);
  if (plan.kind == StatementPlan::Kind::kPassThrough) {
    statements_.erase(name);
    return;
  }
  auto info = std::make_shared<StatementInfo>();
  info->plan = std::move(plan);
  info->param_types = std::move(parse->param_types);
  statements_[name] = std::move(info);
}

void Session::OnBind(const wire::Frame& frame) {
  if (!tx_statements_.empty() || !tx_portals_.empty()) {
    absl::StatusOr<wire::BindMsg> bind = wire::ReadBind(frame.body);
    if (bind.ok()) {
      auto it = tx_statements_.find(std::string(bind->statement));
      if (it != tx_statements_.end()) {
        tx_portals_[std::string(bind->portal)] = it->second;
      } else {
        tx_portals_.erase(std::string(bind->portal));
      }
    }
  }
  if (statements_.empty()) {
    if (!portals_.empty()) {
      absl::StatusOr<wire::BindMsg> bind = wire::ReadBind(frame.body);
      if (bind.ok()) portals_.erase(std::string(bind->portal));
    }
    return;
  }
  absl::StatusOr<wire::BindMsg> bind = wire::ReadBind(frame.body);
  if (!bind.ok()) return;
  std::string portal(bind->portal);
  auto it = statements_.find(std::string(bind->statement));
  if (it == statements_.end()) {
    portals_.erase(portal);
    return;
  }
  absl::StatusOr<std::vector<int16_t>> formats =
      wire::ExpandFormats(bind->param_formats, bind->values.size());
  if (!formats.ok()) {  // Postgres rejects this Bind; no portal comes of it
    portals_.erase(portal);
    return;
  }
  PortalInfo info;
  info.statement = it->second;
  info.params.formats = *std::move(formats);
  info.params.values.reserve(bind->values.size());
  for (const auto& v : bind->values) {
    info.params.values.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
  }
  info.params.type_oids = it->second->param_types;
  info.params.type_oids.resize(info.params.values.size(), 0);
  info.result_formats = std::move(bind->result_formats);
  portals_[portal] = std::move(info);
}

void Session::OnClose(const wire::Frame& frame) {
  absl::StatusOr<wire::DescribeMsg> close = wire::ReadDescribe(frame.body);
  if (!close.ok()) return;
  std::string name(close->name);
  if (close->kind == 'P') {
    portals_.erase(name);
    tx_portals_.erase(name);
    return;
  }
  tx_statements_.erase(name);
  auto it = statements_.find(name);
  if (it == statements_.end()) return;
  // Closing a statement closes the portals made from it.
  for (auto p = portals_.begin(); p != portals_.end();) {
    p = p->second.statement == it->second ? portals_.erase(p) : std::next(p);
  }
  statements_.erase(it);
}

void Session::OnExecute(const wire::Frame& frame, std::string_view raw, bool last_before_sync) {
  if (!portals_.empty() || (WatchingTransactionControl() && !tx_portals_.empty())) {
    absl::StatusOr<wire::ExecuteMsg> exec = wire::ReadExecute(frame.body);
    if (exec.ok()) {
      auto it = portals_.find(std::string(exec->portal));
      if (it != portals_.end()) {
        PortalInfo portal = it->second;  // a copy: interception may change portals_
        InterceptExecute(portal, raw, last_before_sync);
        return;
      }
      auto tx = tx_portals_.find(std::string(exec->portal));
      if (WatchingTransactionControl() && tx != tx_portals_.end() &&
          !BeforeTransactionControl(tx->second)) {
        return;
      }
    }
  }
  counters_.passthrough->Increment();
  server_out_.Append(raw);
  Expecting('E', Route::kClient);
}

void Session::ProcessServerInput() {
  while (true) {
    wire::Frame frame;
    wire::DecodeResult r = wire::DecodeFrame(server_in_.view(), kMaxServerMessage, &frame);
    if (r == wire::DecodeResult::kNeedMore) return;
    if (r != wire::DecodeResult::kFrame) {
      log_->error("session={} the server sent a malformed message", id_);
      lost_ = true;
      return;
    }
    OnServerMessage(frame, server_in_.view().substr(0, frame.size));
    server_in_.Consume(frame.size);
  }
}

void Session::OnServerMessage(const wire::Frame& frame, std::string_view raw) {
  Expect* front = expects_.empty() ? nullptr : &expects_.front();
  Route route = front ? front->route : Route::kClient;
  switch (frame.type) {
    case 'S':  // ParameterStatus
    case 'A':  // NotificationResponse
      ToClient(raw);
      return;
    case 'N':  // NoticeResponse: the client's, not those of the session's own queries
      if (route == Route::kClient || route == Route::kTranslated) ToClient(raw);
      return;
    case 'R':
      OnAuthRequest(frame, raw);
      return;
    case 'K':
      OnBackendKeyData(frame);
      return;
    case 'Z': {
      absl::StatusOr<char> status = wire::ReadReadyForQuery(frame.body);
      if (status.ok()) tx_status_ = *status;
      // A Sync of the session's own (EndTransactionSilently): the client does not hear it.
      const bool own = front && front->msg == 'S' && front->route == Route::kRaise;
      if (front && (front->msg == 'S' || front->msg == 'Q')) expects_.pop_front();
      if (own) return;
      if (tx_status_ == 'I') {  // portals end with their transaction
        portals_.clear();
        tx_portals_.clear();
        tx_mode_ = TxMode::kUnknown;
        applied_in_salesforce_ = false;
        if (unit_deferred_ && held_) write_path_.DiscardHeld(*held_);  // it ended without us
        unit_deferred_ = false;
      }
      copy_in_ = false;
      ToClient(raw);
      return;
    }
    case 'E':
      OnServerError(frame, raw, route);
      return;
    case 'G':  // CopyInResponse
    case 'W':  // CopyBothResponse
      copy_in_ = true;
      // Syncs sent behind the COPY reach Postgres in COPY-in mode, which ignores them.
      if (front) {
        Expect head = *front;
        std::erase_if(expects_, [](const Expect& e) { return e.msg == 'S'; });
        if (head.msg == 'S') expects_.push_front(head);
      }
      if (translating_) {
        // The client is not being read while a translated Query runs.
        wire::Writer(server_out_.back())
            .Begin('f')
            .CString(
                "COPY FROM STDIN is not supported in a query string that writes a synced "
                "table")
            .End();
        copy_in_ = false;
        return;
      }
      break;
    case 'C': {
      absl::StatusOr<std::string_view> tag = wire::ReadCommandComplete(frame.body);
      if (tag.ok()) {
        if (*tag == "BEGIN" || *tag == "START TRANSACTION") {
          tx_status_ = 'T';
        } else if (*tag == "COMMIT" || *tag == "ROLLBACK" || *tag == "PREPARE TRANSACTION") {
          tx_status_ = 'I';
          applied_in_salesforce_ = false;  // that transaction is over, committed or not
        }
      }
      break;
    }
    default:
      break;
  }
  Deliver(route, frame, raw);
  if (!front) return;
  if (front->msg == 'd' && frame.type == 't') {
    front->msg = 'D';  // then RowDescription or NoData
  } else if (Ends(front->msg, frame.type)) {
    expects_.pop_front();
  }
}

void Session::Deliver(Route route, const wire::Frame& frame, std::string_view raw) {
  switch (route) {
    case Route::kClient:
      ToClient(raw);
      return;
    case Route::kRaise:
      return;  // its error goes through OnServerError; nothing else reaches the client
    case Route::kTranslated:
      // The extended protocol's acknowledgements have no simple-Query counterpart.
      if (frame.type == '1' || frame.type == '2' || frame.type == '3' || frame.type == 'n' ||
          frame.type == 't') {
        return;
      }
      ToClient(raw);
      return;
    case Route::kResult:
      if (frame.type == 'D') {
        ToClient(raw);
      } else if (frame.type == 'C') {
        absl::StatusOr<std::string_view> tag = wire::ReadCommandComplete(frame.body);
        capture_.tag = tag.ok() ? std::string(*tag) : "";
      }
      return;
    case Route::kCapture:
      if (frame.type == 'T') {
        absl::StatusOr<std::vector<wire::FieldDescription>> fields =
            wire::ReadRowDescription(frame.body);
        if (fields.ok()) capture_.fields = *std::move(fields);
      } else if (frame.type == 'D') {
        absl::StatusOr<std::vector<std::optional<std::string>>> row = wire::ReadDataRow(frame.body);
        if (row.ok()) capture_.rows.push_back(*std::move(row));
      } else if (frame.type == 'C') {
        absl::StatusOr<std::string_view> tag = wire::ReadCommandComplete(frame.body);
        capture_.tag = tag.ok() ? std::string(*tag) : "";
      }
      return;
  }
}

void Session::AppendApplied(std::vector<std::pair<char, std::string>> fields,
                            std::string_view what_failed, std::string_view detail,
                            std::string_view hint) {
  std::string code = "XX000", message;
  for (const auto& [type, value] : fields) {
    if (type == 'C') code = value;
    if (type == 'M') message = value;
  }
  std::erase_if(fields, [](const auto& f) {
    return f.first == 'C' || f.first == 'M' || f.first == 'D' || f.first == 'H';
  });
  fields.emplace_back('C', "58000");
  fields.emplace_back('M', StrCat(what_failed, message));
  fields.emplace_back('D', StrCat(detail, " (SQLSTATE ", code, ")."));
  fields.emplace_back('H', std::string(hint));
  wire::AppendFields(ClientOut(), 'E', fields);
}

void Session::AppendAppliedButReturningFailed(std::vector<std::pair<char, std::string>> fields) {
  AppendApplied(std::move(fields),
                "the write IS applied in Salesforce and in the table, but its RETURNING failed: ",
                "RETURNING failed on the values Salesforce confirmed",
                "Do not repeat the statement; read the rows back with a SELECT.");
}

void Session::AppendAppliedButCommitFailed(std::vector<std::pair<char, std::string>> fields) {
  AppendApplied(std::move(fields),
                "the writes to synced tables ARE applied in Salesforce, but the transaction "
                "failed to commit: ",
                "PostgreSQL refused the commit after Salesforce accepted the writes; they reach "
                "the tables through the sync",
                "Do not repeat the writes to synced tables; read them back first.");
}

void Session::OnServerError(const wire::Frame& frame, std::string_view raw, Route route) {
  if (tx_status_ == 'T') tx_status_ = 'E';
  copy_in_ = false;
  absl::StatusOr<std::vector<std::pair<char, std::string>>> fields = wire::ReadFields(frame.body);
  if (route == Route::kCapture) {
    capture_.error = fields.ok() ? wire::ToPgError(*fields) : PgError{.sqlstate = "XX000"};
    if (!fields.ok()) capture_.error->message = "malformed error from the server";
  } else if (route == Route::kRaise && fields.ok()) {
    // The error is the proxy's: the DO block's context and source location are noise.
    std::erase_if(*fields, [](const auto& f) {
      return f.first == 'W' || f.first == 'F' || f.first == 'L' || f.first == 'R';
    });
    wire::AppendFields(ClientOut(), 'E', *fields);
  } else if ((route == Route::kClient || route == Route::kTranslated) && fields.ok() &&
             applied_in_salesforce_) {
    // The commit that was to follow Salesforce's acceptance failed: say what did happen.
    applied_in_salesforce_ = false;
    AppendAppliedButCommitFailed(*fields);
  } else if (route == Route::kResult && fields.ok() && !provisional_answer_) {
    // RETURNING failed after the write was made (its check before Salesforce passed on the
    // expected rows): the error must not read as "nothing changed".
    AppendAppliedButReturningFailed(*fields);
  } else {
    ToClient(raw);
  }
  if (expects_.empty()) return;
  char head = expects_.front().msg;
  if (head == 'Q' || head == 'S') return;  // ReadyForQuery still ends it
  // The extended protocol: Postgres skips everything up to the next Sync.
  while (!expects_.empty() && expects_.front().msg != 'S') expects_.pop_front();
  if (expects_.empty()) server_discarding_ = true;
}

void Session::OnAuthRequest(const wire::Frame& frame, std::string_view raw) {
  absl::StatusOr<wire::AuthRequest> auth = wire::ReadAuthRequest(frame.body);
  if (auth.ok() && auth->code == 10 && client_->tls()) {
    std::vector<std::string> mechanisms;
    for (auto& m : auth->mechanisms) {
      if (m != "SCRAM-SHA-256-PLUS") mechanisms.push_back(std::move(m));
    }
    wire::AppendAuthSasl(client_out_.back(), mechanisms);
    return;
  }
  ToClient(raw);
}

void Session::OnBackendKeyData(const wire::Frame& frame) {
  absl::StatusOr<wire::BackendKey> key = wire::ReadBackendKeyData(frame.body);
  if (!key.ok()) return;
  server_pid_ = static_cast<int>(key->pid);
  if (proxy_key_) cancel_keys_.Unregister(*proxy_key_);
  proxy_key_ = cancel_keys_.Register(*key);
  wire::AppendBackendKeyData(client_out_.back(), *proxy_key_);
}

bool Session::Drain() {
  // Postgres holds extended-protocol replies until a Flush or Sync; the client may not have
  // sent one yet.
  if (!expects_.empty()) wire::AppendFlush(server_out_.back());
  while (!expects_.empty() && !lost_) {
    if (!server_out_.empty()) {
      IoResult r = server_->Write(server_out_);
      if (r == IoResult::kError || r == IoResult::kClosed) {
        lost_ = true;
        return false;
      }
    }
    if (!client_out_.empty()) {
      if (client_->Write(client_out_) == IoResult::kError) client_out_.Clear();
    }
    pollfd fds[3];
    short server_events = server_->ReadEvents();
    if (!server_out_.empty()) server_events |= server_->WriteEvents();
    fds[0] = {server_->fd(), server_events, 0};
    fds[1] = {client_->fd(), static_cast<short>(client_out_.empty() ? 0 : client_->WriteEvents()),
              0};
    fds[2] = {stop_fd_, POLLIN, 0};
    int n = poll(fds, 3, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      lost_ = true;
      return false;
    }
    if (fds[2].revents) {
      lost_ = true;
      return false;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      IoResult r = server_->Read(server_in_, kReadChunk);
      if (r == IoResult::kClosed || r == IoResult::kError) {
        lost_ = true;
        ProcessServerInput();
        return false;
      }
      if (r == IoResult::kOk) ProcessServerInput();
    }
  }
  return !lost_;
}

}  // namespace sfbridge::proxy
