#include "proxy/writes/statement_analysis.h"

#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "common/core/strings.h"
#include "proxy/writes/sql_tree.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;

constexpr std::string_view kFeatureNotSupported = "0A000";
constexpr std::string_view kSyntaxError = "42601";

Analysis Refuse(std::string_view sqlstate, std::string message, std::string hint = {},
                std::string table = {}) {
  Analysis a;
  a.kind = Analysis::Kind::kRefused;
  a.error.sqlstate = std::string(sqlstate);
  a.error.message = std::move(message);
  a.error.hint = std::move(hint);
  a.error.table = std::move(table);
  return a;
}

Analysis PassThrough() { return Analysis{}; }

std::string Named(const pg_query::RangeVar& rel) {
  return rel.schemaname().empty() ? rel.relname() : StrCat(rel.schemaname(), ".", rel.relname());
}

bool IsSynced(const pg_query::RangeVar& rel, const SyncedNameTest& may_be_synced) {
  return may_be_synced(rel.schemaname(), rel.relname());
}

// The synced table a data-modifying statement node writes, if it writes one.
const pg_query::RangeVar* WrittenSyncedTable(const pg_query::Node& node,
                                             const SyncedNameTest& may_be_synced) {
  const pg_query::RangeVar* rel = nullptr;
  switch (node.node_case()) {
    case pg_query::Node::kInsertStmt:
      rel = &node.insert_stmt().relation();
      break;
    case pg_query::Node::kUpdateStmt:
      rel = &node.update_stmt().relation();
      break;
    case pg_query::Node::kDeleteStmt:
      rel = &node.delete_stmt().relation();
      break;
    case pg_query::Node::kMergeStmt:
      rel = &node.merge_stmt().relation();
      break;
    default:
      return nullptr;
  }
  return IsSynced(*rel, may_be_synced) ? rel : nullptr;
}

bool IsDataModifying(const pg_query::Node& node) {
  switch (node.node_case()) {
    case pg_query::Node::kInsertStmt:
    case pg_query::Node::kUpdateStmt:
    case pg_query::Node::kDeleteStmt:
    case pg_query::Node::kMergeStmt:
      return true;
    default:
      return false;
  }
}

// A refusal when `with` holds a data-modifying statement that writes a synced table, or any
// data-modifying statement at all when `in_synced_write` (its effect could not be kept apart
// from the derived queries).
std::optional<Analysis> CheckWith(const pg_query::WithClause& with, bool in_synced_write,
                                  const SyncedNameTest& may_be_synced) {
  for (const pg_query::Node& cte : with.ctes()) {
    const pg_query::Node& query = cte.common_table_expr().ctequery();
    if (!IsDataModifying(query)) continue;
    const pg_query::RangeVar* rel = WrittenSyncedTable(query, may_be_synced);
    if (rel != nullptr || in_synced_write) {
      return Refuse(kFeatureNotSupported,
                    rel != nullptr
                        ? StrCat("a data-modifying WITH query on synced table ", Named(*rel),
                                 " is not supported")
                        : "a data-modifying WITH query in a write to a synced table is not "
                          "supported",
                    "Write to the synced table in a statement of its own.",
                    rel != nullptr ? rel->relname() : "");
    }
  }
  return std::nullopt;
}

// The write of INSERT, UPDATE or DELETE `stmt` (`statement` its node), before its columns.
template <typename Stmt>
std::shared_ptr<AnalyzedWrite> NewWrite(Operation op, const Stmt& stmt,
                                        const pg_query::Node& statement) {
  const pg_query::RangeVar& rel = stmt.relation();
  auto w = std::make_shared<AnalyzedWrite>();
  w->operation = op;
  w->returning = stmt.returning_list_size() > 0;
  w->schema = rel.schemaname();
  w->relation = rel.relname();
  w->alias = rel.has_alias() ? rel.alias().aliasname() : "";
  w->statement = statement;
  return w;
}

Analysis Write(std::shared_ptr<AnalyzedWrite> write) {
  Analysis a;
  a.kind = Analysis::Kind::kWrite;
  a.write = std::move(write);
  return a;
}

// What UPDATE and DELETE refuse alike: WHERE CURRENT OF (no derived query can name the cursor's
// row), and RETURNING together with other relations (`joined`: FROM or USING), which RETURNING
// may refer to but the confirmed rows do not carry.
std::optional<Analysis> CheckUpdateOrDelete(std::string_view verb, std::string_view joined,
                                            const pg_query::RangeVar& rel, bool has_where,
                                            const pg_query::Node& where, bool has_joined,
                                            bool returning) {
  const std::string name = Named(rel);
  if (has_where && ContainsNode(where, pg_query::Node::kCurrentOfExpr)) {
    return Refuse(kFeatureNotSupported,
                  StrCat(verb, " ... WHERE CURRENT OF on synced table ", name, " is not supported"),
                  "Identify the rows by their id.", rel.relname());
  }
  if (has_joined && returning) {
    return Refuse(
        kFeatureNotSupported,
        StrCat(verb, " ... ", joined, " ... RETURNING on synced table ", name, " is not supported"),
        StrCat("Leave out RETURNING, or the ", joined, " list."), rel.relname());
  }
  return std::nullopt;
}

// What INSERT, UPDATE and DELETE (`Stmt`) check first: a data-modifying WITH query (CheckWith),
// then whether the statement writes a synced table at all (if not, it passes through).
// nullopt when the analysis goes on.
template <typename Stmt>
std::optional<Analysis> CheckTarget(const Stmt& stmt, const SyncedNameTest& may_be_synced) {
  const bool synced = IsSynced(stmt.relation(), may_be_synced);
  if (stmt.has_with_clause()) {
    if (auto r = CheckWith(stmt.with_clause(), synced, may_be_synced)) return r;
  }
  if (!synced) return PassThrough();
  return std::nullopt;
}

// The refusal of an INSERT whose rows have `expressions` values for `columns` target columns.
Analysis ColumnCountMismatch(size_t expressions, size_t columns, const pg_query::RangeVar& rel) {
  return Refuse(kSyntaxError,
                expressions > columns ? "INSERT has more expressions than target columns"
                                      : "INSERT has more target columns than expressions",
                {}, rel.relname());
}

// ON CONFLICT (column) DO NOTHING, or DO UPDATE SET c = EXCLUDED.c, ... without WHERE: what a
// Salesforce upsert by one field can do. kInvalidArgument saying what else it is.
absl::StatusOr<AnalyzedWrite::Upsert> AnalyzeOnConflict(const pg_query::OnConflictClause& c) {
  if (!c.has_infer() || c.infer().index_elems_size() != 1 || !c.infer().conname().empty()) {
    return absl::InvalidArgumentError("the conflict target must be one column");
  }
  if (c.infer().has_where_clause()) {
    return absl::InvalidArgumentError("a conflict target with WHERE is not supported");
  }
  const pg_query::IndexElem& elem = c.infer().index_elems(0).index_elem();
  if (elem.name().empty()) {
    return absl::InvalidArgumentError("the conflict target must be a column, not an expression");
  }
  AnalyzedWrite::Upsert upsert;
  upsert.column = elem.name();
  if (c.action() == pg_query::ONCONFLICT_NOTHING) {
    upsert.do_nothing = true;
    return upsert;
  }
  if (c.has_where_clause()) {
    return absl::InvalidArgumentError("DO UPDATE ... WHERE is not supported");
  }
  for (const pg_query::Node& t : c.target_list()) {
    const pg_query::ResTarget& target = t.res_target();
    const pg_query::Node& v = target.val();
    const bool from_excluded = v.has_column_ref() && v.column_ref().fields_size() == 2 &&
                               v.column_ref().fields(0).has_string() &&
                               v.column_ref().fields(0).string().sval() == "excluded" &&
                               v.column_ref().fields(1).has_string() &&
                               v.column_ref().fields(1).string().sval() == target.name();
    if (target.indirection_size() > 0 || !from_excluded) {
      return absl::InvalidArgumentError(
          StrCat("DO UPDATE may only set a column to its EXCLUDED value (SET ", target.name(),
                 " = EXCLUDED.", target.name(),
                 "): a Salesforce upsert writes the same fields whether it "
                 "creates or updates"));
    }
    upsert.set_columns.push_back(target.name());
  }
  return upsert;
}

Analysis AnalyzeInsert(const pg_query::Node& node, const SyncedNameTest& may_be_synced) {
  const pg_query::InsertStmt& stmt = node.insert_stmt();
  const pg_query::RangeVar& rel = stmt.relation();
  if (auto r = CheckTarget(stmt, may_be_synced)) return *r;
  const std::string name = Named(rel);
  std::optional<AnalyzedWrite::Upsert> upsert;
  if (stmt.has_on_conflict_clause()) {
    absl::StatusOr<AnalyzedWrite::Upsert> u = AnalyzeOnConflict(stmt.on_conflict_clause());
    if (!u.ok()) {
      return Refuse(
          kFeatureNotSupported,
          StrCat("INSERT ... ON CONFLICT on synced table ", name, ": ", u.status().message()),
          "Use ON CONFLICT (external_id_column) DO UPDATE SET c = EXCLUDED.c, ... (a "
          "Salesforce upsert by that external-id field) or DO NOTHING.",
          rel.relname());
    }
    upsert = *std::move(u);
  }
  auto write = NewWrite(Operation::kInsert, stmt, node);
  write->upsert = std::move(upsert);
  if (!stmt.has_select_stmt()) {
    if (write->upsert) {
      return Refuse(kFeatureNotSupported,
                    StrCat("INSERT ... DEFAULT VALUES ... ON CONFLICT on synced table ", name,
                           " is not supported"),
                    "Give the external id's value.", rel.relname());
    }
    write->default_values = true;
    return Write(std::move(write));
  }
  if (stmt.cols_size() == 0) {
    return Refuse(kFeatureNotSupported,
                  StrCat("INSERT into synced table ", name, " must name its columns"),
                  "List the columns to set: INSERT INTO t (a, b) VALUES (...).", rel.relname());
  }
  for (const pg_query::Node& col : stmt.cols()) {
    const pg_query::ResTarget& target = col.res_target();
    if (target.indirection_size() > 0) {
      return Refuse(kFeatureNotSupported,
                    StrCat("INSERT into a subscript or field of column \"", target.name(),
                           "\" of synced table ", name, " is not supported"),
                    {}, rel.relname());
    }
    write->columns.push_back(target.name());
  }
  const pg_query::SelectStmt& select = stmt.select_stmt().select_stmt();
  const size_t ncols = write->columns.size();
  if (select.values_lists_size() > 0) {
    write->from_values = true;
    for (const pg_query::Node& row : select.values_lists()) {
      const auto& items = row.list().items();
      if (static_cast<size_t>(items.size()) != ncols) {
        return ColumnCountMismatch(static_cast<size_t>(items.size()), ncols, rel);
      }
      ++write->value_rows;
      write->defaults.resize(ncols, 0);
      for (size_t i = 0; i < ncols; ++i) {
        if (items.Get(static_cast<int>(i)).has_set_to_default()) ++write->defaults[i];
      }
    }
  } else if (select.op() == pg_query::SETOP_NONE && select.target_list_size() > 0) {
    bool star = false;
    for (const pg_query::Node& t : select.target_list()) {
      star = star || ContainsNode(t.res_target().val(), pg_query::Node::kAStar);
    }
    if (!star && static_cast<size_t>(select.target_list_size()) != ncols) {
      return ColumnCountMismatch(static_cast<size_t>(select.target_list_size()), ncols, rel);
    }
  }
  return Write(std::move(write));
}

Analysis AnalyzeUpdate(const pg_query::Node& node, const SyncedNameTest& may_be_synced) {
  const pg_query::UpdateStmt& stmt = node.update_stmt();
  const pg_query::RangeVar& rel = stmt.relation();
  if (auto r = CheckTarget(stmt, may_be_synced)) return *r;
  const std::string name = Named(rel);
  auto write = NewWrite(Operation::kUpdate, stmt, node);
  for (const pg_query::Node& t : stmt.target_list()) {
    const pg_query::ResTarget& target = t.res_target();
    if (target.indirection_size() > 0) {
      return Refuse(kFeatureNotSupported,
                    StrCat("UPDATE of a subscript or field of column \"", target.name(),
                           "\" of synced table ", name, " is not supported"),
                    {}, rel.relname());
    }
    if (target.val().has_multi_assign_ref() &&
        !target.val().multi_assign_ref().source().has_row_expr()) {
      return Refuse(kFeatureNotSupported,
                    StrCat("SET (...) = (SELECT ...) on synced table ", name, " is not supported"),
                    "Set each column to its own expression.", rel.relname());
    }
    write->columns.push_back(target.name());
    write->defaults.push_back(target.val().has_set_to_default() ? 1 : 0);
  }
  write->value_rows = 1;
  if (auto r =
          CheckUpdateOrDelete("UPDATE", "FROM", rel, stmt.has_where_clause(), stmt.where_clause(),
                              stmt.from_clause_size() > 0, write->returning)) {
    return *r;
  }
  return Write(std::move(write));
}

Analysis AnalyzeDelete(const pg_query::Node& node, const SyncedNameTest& may_be_synced) {
  const pg_query::DeleteStmt& stmt = node.delete_stmt();
  const pg_query::RangeVar& rel = stmt.relation();
  if (auto r = CheckTarget(stmt, may_be_synced)) return *r;
  auto write = NewWrite(Operation::kDelete, stmt, node);
  if (auto r =
          CheckUpdateOrDelete("DELETE", "USING", rel, stmt.has_where_clause(), stmt.where_clause(),
                              stmt.using_clause_size() > 0, write->returning)) {
    return *r;
  }
  return Write(std::move(write));
}

bool ExplainAnalyzes(const pg_query::ExplainStmt& stmt) {
  for (const pg_query::Node& option : stmt.options()) {
    const pg_query::DefElem& def = option.def_elem();
    if (def.defname() != "analyze") continue;
    if (!def.has_arg()) return true;
    const pg_query::Node& arg = def.arg();
    if (arg.has_string()) return arg.string().sval() != "false" && arg.string().sval() != "off";
    if (arg.has_a_const() && arg.a_const().has_boolval()) return arg.a_const().boolval().boolval();
    if (arg.has_boolean()) return arg.boolean().boolval();
    return true;
  }
  return false;
}

}  // namespace

std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kInsert:
      return "insert";
    case Operation::kUpdate:
      return "update";
    case Operation::kDelete:
      return "delete";
  }
  return "unknown";
}

Analysis AnalyzeTree(const pg_query::Node& node, const SyncedNameTest& may_be_synced) {
  switch (node.node_case()) {
    case pg_query::Node::kInsertStmt:
      return AnalyzeInsert(node, may_be_synced);
    case pg_query::Node::kUpdateStmt:
      return AnalyzeUpdate(node, may_be_synced);
    case pg_query::Node::kDeleteStmt:
      return AnalyzeDelete(node, may_be_synced);
    case pg_query::Node::kMergeStmt: {
      const pg_query::MergeStmt& stmt = node.merge_stmt();
      if (stmt.has_with_clause()) {
        if (auto r = CheckWith(stmt.with_clause(), false, may_be_synced)) return *r;
      }
      if (!IsSynced(stmt.relation(), may_be_synced)) return PassThrough();
      return Refuse(kFeatureNotSupported,
                    StrCat("MERGE into synced table ", Named(stmt.relation()), " is not supported"),
                    "Use INSERT, UPDATE and DELETE statements.", stmt.relation().relname());
    }
    case pg_query::Node::kCopyStmt: {
      const pg_query::CopyStmt& stmt = node.copy_stmt();
      if (!stmt.is_from() || !stmt.has_relation() || !IsSynced(stmt.relation(), may_be_synced)) {
        return PassThrough();
      }
      return Refuse(
          kFeatureNotSupported,
          StrCat("COPY FROM into synced table ", Named(stmt.relation()), " is not supported"),
          "Use INSERT statements (up to 200 rows each).", stmt.relation().relname());
    }
    case pg_query::Node::kTruncateStmt:
      for (const pg_query::Node& r : node.truncate_stmt().relations()) {
        if (IsSynced(r.range_var(), may_be_synced)) {
          return Refuse(
              kFeatureNotSupported,
              StrCat("TRUNCATE of synced table ", Named(r.range_var()), " is not supported"),
              "Use DELETE: records are deleted in Salesforce first.", r.range_var().relname());
        }
      }
      return PassThrough();
    case pg_query::Node::kSelectStmt: {
      const pg_query::SelectStmt& stmt = node.select_stmt();
      if (stmt.has_with_clause()) {
        if (auto r = CheckWith(stmt.with_clause(), false, may_be_synced)) return *r;
      }
      return PassThrough();
    }
    case pg_query::Node::kExplainStmt: {
      const pg_query::ExplainStmt& stmt = node.explain_stmt();
      if (!ExplainAnalyzes(stmt)) return PassThrough();
      Analysis inner = AnalyzeTree(stmt.query(), may_be_synced);
      if (inner.kind == Analysis::Kind::kPassThrough) return inner;
      if (inner.kind == Analysis::Kind::kRefused) return inner;
      return Refuse(kFeatureNotSupported,
                    StrCat("EXPLAIN ANALYZE of a write to synced table ", inner.write->relation,
                           " is not supported"),
                    "EXPLAIN without ANALYZE shows the plan without running the write.",
                    inner.write->relation);
    }
    case pg_query::Node::kPrepareStmt: {
      Analysis inner = AnalyzeTree(node.prepare_stmt().query(), may_be_synced);
      if (inner.kind != Analysis::Kind::kWrite) return inner;
      return Refuse(
          kFeatureNotSupported,
          StrCat("PREPARE of a write to synced table ", inner.write->relation, " is not supported"),
          "Use the extended query protocol (a prepared statement of your driver).",
          inner.write->relation);
    }
    default:
      return PassThrough();
  }
}

Analysis Analyze(std::string_view statement_sql, const SyncedNameTest& may_be_synced) {
  absl::StatusOr<pg_query::ParseResult> tree = ParseTree(statement_sql);
  if (!tree.ok() || tree->stmts_size() == 0) return PassThrough();
  if (tree->stmts_size() == 1) return AnalyzeTree(tree->stmts(0).stmt(), may_be_synced);
  for (const pg_query::RawStmt& raw : tree->stmts()) {
    Analysis a = AnalyzeTree(raw.stmt(), may_be_synced);
    if (a.kind == Analysis::Kind::kRefused) return a;
    if (a.kind == Analysis::Kind::kWrite) {
      return Refuse(
          kFeatureNotSupported,
          StrCat("a write to synced table ", a.write->relation, " must be a statement of its own"),
          "Send the statements one at a time.", a.write->relation);
    }
  }
  return PassThrough();
}

}  // namespace sfbridge::proxy::writes
