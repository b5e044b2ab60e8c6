#include "common/postgres/connection.h"

#include <map>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>
#include <regex>
#include <utility>

#include "common/core/backoff.h"
#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::postgres {
namespace {

constexpr size_t kCopyChunk = 8 * 1024;

// libpqxx 6 leaves sqlstate() empty for some errors it maps to its own exception classes
// (insufficient_privilege among them); the class still says which SQLSTATE it was.
std::string SqlStateOfClass(const std::exception& e) {
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e)) return "42501";
  if (dynamic_cast<const pqxx::unique_violation*>(&e)) return "23505";
  if (dynamic_cast<const pqxx::foreign_key_violation*>(&e)) return "23503";
  if (dynamic_cast<const pqxx::not_null_violation*>(&e)) return "23502";
  if (dynamic_cast<const pqxx::check_violation*>(&e)) return "23514";
  if (dynamic_cast<const pqxx::undefined_table*>(&e)) return "42P01";
  if (dynamic_cast<const pqxx::undefined_column*>(&e)) return "42703";
  if (dynamic_cast<const pqxx::syntax_error*>(&e)) return "42601";
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e)) return "40P01";
  if (dynamic_cast<const pqxx::serialization_failure*>(&e)) return "40001";
  return "";
}

absl::Status FromException(const std::exception& e, std::string_view context) {
  if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    std::string state = sql->sqlstate();
    if (state.empty()) state = SqlStateOfClass(e);
    std::string message = sql->what();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    return absl::Status(core::SqlStateToCode(state),
                        core::StrCat(context, ": ", message, " (SQLSTATE ", state, ")"));
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    return absl::UnavailableError(core::StrCat(context, ": connection lost: ", e.what()));
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return absl::UnknownError(core::StrCat(context, ": commit outcome unknown: ", e.what()));
  }
  return absl::InternalError(core::StrCat(context, ": ", e.what()));
}

QueryResult ToResult(const pqxx::result& r) {
  QueryResult out;
  out.affected_rows = r.affected_rows();
  for (pqxx::row::size_type c = 0; c < r.columns(); ++c) out.columns.emplace_back(r.column_name(c));
  out.rows.reserve(r.size());
  for (const auto& row : r) {
    std::vector<Value> values;
    values.reserve(row.size());
    for (const auto& field : row) {
      if (field.is_null()) {
        values.emplace_back(std::nullopt);
      } else {
        values.emplace_back(std::string(field.c_str(), field.size()));
      }
    }
    out.rows.push_back(std::move(values));
  }
  return out;
}

pqxx::result Run(pqxx::transaction_base& tx, std::string_view sql, const Params& params) {
  if (params.empty()) return tx.exec(std::string(sql));
  return tx.exec_params(std::string(sql), pqxx::prepare::make_dynamic_params(params));
}

}  // namespace

std::string Transaction::Begin(std::string_view sql) {
  if (!begin_) return std::string(sql);
  begin_ = false;
  if (!sql.empty()) return core::StrCat("BEGIN; ", sql);
  tx_.exec("BEGIN");
  return "";
}

absl::StatusOr<QueryResult> Transaction::Exec(std::string_view sql, const Params& params) {
  absl::StatusOr<QueryResult> r = Send(sql, params);
  if (!r.ok()) failed_ = true;
  return r;
}

absl::StatusOr<QueryResult> Transaction::Send(std::string_view sql, const Params& params) {
  try {
    if (begin_) {
      if (!params.empty()) {
        Begin("");
      } else {
        return ToResult(Run(tx_, Begin(sql), params));
      }
    }
    return ToResult(Run(tx_, sql, params));
  } catch (const std::exception& e) {
    return FromException(e, "query");
  }
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
absl::Status Transaction::CopyIn(const std::string& table, const std::vector<std::string>& columns,
                                 std::string_view data) {
  if (!data.empty() && data.back() != '\n') {
    return absl::InvalidArgumentError("copy: data must end with a newline");
  }
  try {
    // tablewriter sends each raw line with PQputCopyData and appends the newline itself, so
    // passing several lines at once (minus the last newline) sends them in one chunk.
    Begin("");
    pqxx::tablewriter writer(tx_, table, columns.begin(), columns.end());
    size_t pos = 0;
    while (pos < data.size()) {
      size_t end = std::min(data.size(), pos + kCopyChunk);
      size_t nl = data.find('\n', end - 1);
      writer.write_raw_line(std::string(data.substr(pos, nl - pos)));
      pos = nl + 1;
    }
    writer.complete();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    failed_ = true;
    return FromException(e, core::StrCat("copy into ", table));
  }
}

absl::Status Transaction::CopyIn(const std::string& table, const std::vector<std::string>& columns,
                                 const std::function<bool(std::string& chunk)>& next) {
  try {
    Begin("");
    pqxx::tablewriter writer(tx_, table, columns.begin(), columns.end());
    std::string chunk;
    while (next(chunk)) {
      if (chunk.empty()) continue;
      if (chunk.back() == '\n') chunk.pop_back();
      writer.write_raw_line(chunk);
      chunk.clear();
    }
    writer.complete();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    failed_ = true;
    return FromException(e, core::StrCat("copy into ", table));
  }
}
#pragma GCC diagnostic pop

absl::Status Transaction::RollbackToSavepoint(std::string_view name) {
  const std::string q = QuoteName(name);
  absl::StatusOr<QueryResult> r =
      Send(core::StrCat("ROLLBACK TO SAVEPOINT ", q, "; RELEASE SAVEPOINT ", q), {});
  if (!r.ok()) return r.status();
  failed_ = false;
  return absl::OkStatus();
}

std::string Transaction::QuoteName(std::string_view identifier) const {
  return tx_.quote_name(std::string(identifier));
}

std::string Transaction::QuoteLiteral(std::string_view text) const {
  return tx_.quote(std::string(text));
}

namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel, std::vector<Notification>& sink)
      : pqxx::notification_receiver(conn, channel), sink_(sink) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override {
    sink_.push_back(Notification{channel(), payload});
  }

 private:
  std::vector<Notification>& sink_;
};

// Opens a connection; libpqxx's own reactivation is off, so a lost one is seen as lost here.
absl::StatusOr<std::unique_ptr<pqxx::connection>> Open(const std::string& conninfo) {
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    return conn;
  } catch (const pqxx::broken_connection& e) {
    std::string why = e.what();
    while (!why.empty() && why.back() == '\n') why.pop_back();
    absl::StatusCode code = why.find("authentication failed") != std::string::npos
                                ? absl::StatusCode::kPermissionDenied
                                : absl::StatusCode::kUnavailable;
    return absl::Status(
        code, core::StrCat("cannot connect to PostgreSQL (", RedactConninfo(conninfo), "): ", why));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        core::StrCat("cannot connect to PostgreSQL (", RedactConninfo(conninfo), "): ", e.what()));
  }
}

}  // namespace

struct Connection::Impl {
  std::string conninfo;
  ReconnectOptions options;
  core::Clock& clock;
  core::Backoff backoff;
  std::unique_ptr<pqxx::connection> conn;  // never null; broken while `lost`
  bool lost = false;
  core::Clock::MonoTime retry_at = {};
  std::string lost_reason = {};
  int reconnects = 0;
  int server_version = 0;
  std::map<std::string, std::string> prepared = {};  // sql -> statement name
  std::vector<Notification> received = {};
  std::vector<std::string> channels = {};  // listened to, in order
  // Destroyed (and unregistered) before `conn` is replaced or destroyed.
  std::vector<std::unique_ptr<Receiver>> receivers = {};

  Impl(std::string conninfo_in, ReconnectOptions options_in,
       std::unique_ptr<pqxx::connection> conn_in)
      : conninfo(std::move(conninfo_in)),
        options(options_in),
        clock(options.clock ? *options.clock : core::SystemClock::Instance()),
        backoff(options.initial_backoff, options.max_backoff),
        conn(std::move(conn_in)),
        server_version(conn->server_version()) {}
  ~Impl() { receivers.clear(); }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

absl::StatusOr<std::unique_ptr<Connection>> Connection::Connect(const std::string& conninfo,
                                                                ReconnectOptions reconnect) {
  absl::StatusOr<std::unique_ptr<pqxx::connection>> conn = Open(conninfo);
  if (!conn.ok()) {
    if (reconnect.state && conn.status().code() == absl::StatusCode::kUnavailable) {
      reconnect.state->ReportFailure(core::ToString(conn.status().message()));
    }
    return conn.status();
  }
  if (reconnect.state) reconnect.state->ReportOk();
  try {
    auto impl = std::make_unique<Impl>(conninfo, reconnect, *std::move(conn));
    return std::unique_ptr<Connection>(new Connection(std::move(impl)));
  } catch (const std::exception& e) {
    return FromException(e, "connect");
  }
}

absl::Status Connection::EnsureConnected() {
  Impl& m = *impl_;
  if (!m.lost) return absl::OkStatus();
  const core::Clock::MonoTime now = m.clock.Monotonic();
  if (now < m.retry_at) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(m.retry_at - now);
    return absl::UnavailableError(core::StrCat("PostgreSQL connection lost (", m.lost_reason,
                                               "); next attempt in ", wait.count(), " ms"));
  }
  absl::StatusOr<std::unique_ptr<pqxx::connection>> conn = Open(m.conninfo);
  absl::Status s = conn.status();
  if (s.ok()) {
    try {
      m.receivers.clear();
      m.conn = *std::move(conn);
      m.server_version = m.conn->server_version();
      m.prepared.clear();
      for (const std::string& channel : m.channels) {
        m.receivers.push_back(std::make_unique<Receiver>(*m.conn, channel, m.received));
      }
      m.conn->get_notifs();  // LISTEN is sent lazily by libpqxx
    } catch (const std::exception& e) {
      s = FromException(e, "reconnect");
    }
  }
  if (!s.ok()) {
    m.retry_at = now + m.backoff.Failed();
    m.lost_reason = core::ToString(s.message());
    if (m.options.state) m.options.state->ReportFailure(m.lost_reason);
    return absl::UnavailableError(m.lost_reason);
  }
  m.lost = false;
  m.backoff.Reset();
  ++m.reconnects;
  return absl::OkStatus();
}

absl::Status Connection::Failed(absl::Status error) {
  Impl& m = *impl_;
  // A server-side failure (a constraint, a syntax error) leaves the connection working.
  bool broken = m.conn->sock() < 0 || !m.conn->is_open();
  if (!broken) {
    if (m.options.state) m.options.state->ReportOk();
    return error;
  }
  m.lost = true;
  m.retry_at = m.clock.Monotonic();  // the first attempt at once
  m.lost_reason = core::ToString(error.message());
  if (m.options.state) m.options.state->ReportFailure(m.lost_reason);
  if (error.code() != absl::StatusCode::kUnknown) {
    // Whatever the server said last (57P01 terminating connection...), the connection is gone:
    // the call may be retried once it is back.
    return absl::UnavailableError(core::StrCat("connection lost: ", error.message()));
  }
  return error;
}

void Connection::Succeeded() {
  if (impl_->options.state) impl_->options.state->ReportOk();
}

bool Connection::connected() const { return !impl_->lost; }
int Connection::reconnects() const { return impl_->reconnects; }

absl::StatusOr<QueryResult> Connection::Exec(std::string_view sql, const Params& params) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  try {
    // Autocommit, so that statements that refuse a transaction block (CREATE DATABASE) work.
    pqxx::nontransaction tx(*impl_->conn);
    QueryResult r = ToResult(Run(tx, sql, params));
    Succeeded();
    return r;
  } catch (const std::exception& e) {
    return Failed(FromException(e, "query"));
  }
}

absl::StatusOr<QueryResult> Connection::ExecPrepared(const std::string& sql, const Params& params) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  try {
    auto it = impl_->prepared.find(sql);
    if (it == impl_->prepared.end()) {
      std::string name = core::StrCat("sfbridge_", std::to_string(impl_->prepared.size() + 1));
      impl_->conn->prepare(name, sql);
      it = impl_->prepared.emplace(sql, std::move(name)).first;
    }
    pqxx::nontransaction tx(*impl_->conn);
    QueryResult r =
        ToResult(tx.exec_prepared(it->second, pqxx::prepare::make_dynamic_params(params)));
    Succeeded();
    return r;
  } catch (const std::exception& e) {
    return Failed(FromException(e, "query"));
  }
}

absl::Status Connection::InTransaction(const std::function<absl::Status(Transaction&)>& body) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  try {
    pqxx::work tx(*impl_->conn);
    Transaction t(tx, /*begin_pending=*/false);
    absl::Status s = body(t);
    if (!s.ok()) {
      tx.abort();
      return Failed(s);
    }
    tx.commit();
    Succeeded();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return Failed(FromException(e, "transaction"));
  }
}

absl::Status Connection::InTransactionBegunByFirstStatement(
    const std::function<absl::Status(Transaction&)>& body) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  try {
    pqxx::nontransaction tx(*impl_->conn);
    Transaction t(tx, /*begin_pending=*/true);
    absl::Status s;
    try {
      s = body(t);
    } catch (const std::exception& e) {
      s = FromException(e, "transaction");
    }
    if (t.begin_) return s;  // nothing was sent
    // A statement failed inside and the body went on: the server would turn COMMIT into ROLLBACK.
    if (s.ok() && t.failed_) {
      s = absl::AbortedError("transaction: a statement in it failed, so it is rolled back");
    }
    tx.exec(s.ok() ? "COMMIT" : "ROLLBACK");
    if (!s.ok()) return Failed(s);
    Succeeded();
    return s;
  } catch (const std::exception& e) {
    return Failed(FromException(e, "transaction"));
  }
}

absl::Status Connection::Listen(const std::string& channel) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  try {
    impl_->receivers.push_back(std::make_unique<Receiver>(*impl_->conn, channel, impl_->received));
    impl_->channels.push_back(channel);
    Succeeded();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return Failed(FromException(e, core::StrCat("listen ", channel)));
  }
}

absl::StatusOr<std::vector<Notification>> Connection::WaitForNotifications(
    std::chrono::milliseconds timeout) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  try {
    impl_->conn->get_notifs();
    if (impl_->received.empty() && timeout.count() > 0) {
      impl_->conn->await_notification(timeout.count() / 1000, (timeout.count() % 1000) * 1000);
    }
    // await_notification returns quietly on a connection that broke while waiting.
    if (impl_->conn->sock() < 0 || !impl_->conn->is_open()) {
      return Failed(absl::UnavailableError("wait for notifications: connection lost"));
    }
    Succeeded();
    return std::exchange(impl_->received, {});
  } catch (const std::exception& e) {
    return Failed(FromException(e, "wait for notifications"));
  }
}

std::string Connection::QuoteName(std::string_view identifier) const {
  return impl_->conn->quote_name(std::string(identifier));
}

std::string Connection::QuoteLiteral(std::string_view text) const {
  return impl_->conn->quote(std::string(text));
}

int Connection::ServerVersion() const { return impl_->server_version; }

std::string RedactConninfo(std::string_view conninfo) {
  static const std::regex kUriPassword(R"((://[^:/@]*:)[^@]*@)");
  static const std::regex kKeyPassword(R"((password\s*=\s*)('([^'\\]|\\.)*'|[^\s&]+))",
                                       std::regex::icase);
  std::string out = std::regex_replace(std::string(conninfo), kUriPassword, "$1***@");
  out = std::regex_replace(out, kKeyPassword, "$1***");
  return out;
}

}  // namespace sfbridge::postgres
