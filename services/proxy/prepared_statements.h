#pragma once

// The statements and portals of one client connection that the session must recognise when the
// client executes them, kept from the client's Parse, Bind and Close messages: those the write
// path planned as mutations or refusals (with their bound parameters), and those that end a
// transaction or roll back to a savepoint (with their text). Every other statement is not
// tracked and runs as the client sent it. Pure bookkeeping over message bodies: no I/O.
//
// Not thread-safe: belongs to one session.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/write_path.h"

namespace sfbridge::proxy {

// A named or unnamed statement the write path planned as a mutation or a refusal.
struct PreparedStatement {
  StatementPlan plan;
  std::vector<uint32_t> param_types;  // as the client's Parse sent them
};

// A portal bound to a PreparedStatement.
struct PreparedPortal {
  std::shared_ptr<const PreparedStatement> statement;
  BoundParams params;
  std::vector<int16_t> result_formats;  // as the client's Bind sent them
};

class PreparedStatements {
 public:
  // Plans a statement's text (WritePath::Plan). Called only for text that may write (MayWrite).
  using Planner = std::function<StatementPlan(std::string_view sql)>;
  explicit PreparedStatements(Planner plan) : plan_(std::move(plan)) {}

  // The bodies of the client's messages, in the order the server receives them. A body that
  // does not decode is ignored: Postgres rejects the message and nothing comes of it.
  void OnParse(std::string_view body);
  void OnBind(std::string_view body);
  void OnClose(std::string_view body);
  // A simple Query: it drops the unnamed statement and portal.
  void OnQuery();
  // The transaction ended (ReadyForQuery reported idle): portals end with it.
  void OnTransactionEnd();

  // What the portal an Execute (its body) runs was prepared as. `mutation` points into this
  // registry (copy it before anything changes it); `transaction_control` is looked up only when
  // asked for.
  struct Executed {
    const PreparedPortal* mutation = nullptr;
    const std::string* transaction_control = nullptr;  // the statement's text
  };
  Executed OnExecute(std::string_view body, bool want_transaction_control) const;

  // Counts, for tests and the session's fast paths.
  size_t statements() const { return statements_.size(); }
  size_t portals() const { return portals_.size(); }

 private:
  Planner plan_;
  std::unordered_map<std::string, std::shared_ptr<const PreparedStatement>> statements_;
  std::unordered_map<std::string, PreparedPortal> portals_;
  // Statements and portals that end a transaction or roll back to a savepoint, by name: their
  // text.
  std::unordered_map<std::string, std::string> tx_statements_;
  std::unordered_map<std::string, std::string> tx_portals_;
};

}  // namespace sfbridge::proxy
