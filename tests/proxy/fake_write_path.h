#pragma once

// A WritePath for the session's tests. Statements that write table `fake_synced` are planned as
// mutations, those naming `fake_refused` are refused (0A000); everything else passes through.
// Execute behaves by the words in the statement:
//   'error'       → an error outcome (23505 with detail, hint, column, table, schema)
//   'queryfail'   → a derived query that fails on the server (division by zero), then an error
//   'notice'      → a NOTICE before the result
//   'returning'   → RETURNING rows: "SELECT 42::int4 AS id, $1::text AS name" with the first
//                   parameter (or 'fake'), tag "INSERT 0 1"
//   'returnfail'  → a RETURNING query that fails (division by zero), tag "INSERT 0 1"
//   'passthrough' → pass_through: the statement runs on the server as it is
//   otherwise     → records its first parameter (or 'none') in table fake_log through the
//                   querier — on the client's connection, in its transaction — and answers
//                   "INSERT 0 1"
// Every Execute call is recorded (statement, parameters, transaction status, the querier's
// result). Thread-safe.

#include <mutex>
#include <string>
#include <vector>

#include "proxy/write_path.h"

namespace sfbridge::proxy::testing {

class FakeWritePath : public WritePath {
 public:
  struct Call {
    std::string sql;
    std::vector<std::optional<std::string>> params;
    TxStatus tx_status;
    std::string derived_value;  // what the querier's SELECT returned
  };

  absl::StatusOr<std::vector<std::string>> Split(std::string_view sql) override;
  StatementPlan Plan(std::string_view statement_sql) override;
  MutationOutcome Execute(const Mutation& mutation, const BoundParams& params, TxStatus tx_status,
                          ServerQuerier& server) override;

  std::vector<Call> calls() const;
  size_t plan_count() const;

 private:
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  size_t plans_ = 0;
};

}  // namespace sfbridge::proxy::testing
