#include "proxy/writes/derived_query.h"

#include <map>
#include <set>
#include <utility>

#include "common/core/strings.h"
#include "proxy/writes/sql_tree.h"
#include "proxy/writes/write_checks.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;

// Placeholders in templates: far above any parameter number a client sends.
constexpr int kSlot = 999'999;
constexpr int kRowsJsonParam = 999'998;

struct Param {
  std::optional<std::string> value;
  int16_t format = 0;
  uint32_t type_oid = 0;
};

// Renumbers the parameters `stmt` uses to 1..k in order of their old numbers and returns their
// values: the client's for $1..$n, `extra` for placeholders.
absl::StatusOr<BoundParams> Renumber(pg_query::Node& stmt, const BoundParams& client,
                                     const std::map<int, Param>& extra = {}) {
  std::vector<pg_query::ParamRef*> refs = FindParamRefs(stmt);
  std::set<int> used;
  for (const pg_query::ParamRef* ref : refs) used.insert(ref->number());
  std::map<int, int> renumbered;
  BoundParams params;
  for (int old : used) {
    Param p;
    if (auto it = extra.find(old); it != extra.end()) {
      p = it->second;
    } else if (old >= 1 && static_cast<size_t>(old) <= client.values.size()) {
      const size_t i = static_cast<size_t>(old - 1);
      p.value = client.values[i];
      p.format = i < client.formats.size() ? client.formats[i] : 0;
      p.type_oid = i < client.type_oids.size() ? client.type_oids[i] : 0;
    } else {
      return absl::InvalidArgumentError(
          StrCat("there is no parameter $", old, " (", client.values.size(), " bound)"));
    }
    renumbered[old] = static_cast<int>(params.values.size()) + 1;
    params.values.push_back(std::move(p.value));
    params.formats.push_back(p.format);
    params.type_oids.push_back(p.type_oid);
  }
  for (pg_query::ParamRef* ref : refs) ref->set_number(renumbered[ref->number()]);
  return params;
}

// `template_sql`'s single SELECT target expression with $kSlot replaced by `value`.
absl::StatusOr<pg_query::Node> Wrap(std::string_view template_sql, pg_query::Node value) {
  absl::StatusOr<pg_query::Node> stmt = TemplateStatement(template_sql);
  if (!stmt.ok()) return stmt.status();
  pg_query::Node expr = stmt->select_stmt().target_list(0).res_target().val();
  bool replaced = false;
  ForEachNode(expr, [&](pg_query::Node& node) {
    if (!replaced && node.has_param_ref() && node.param_ref().number() == kSlot) {
      node = value;
      replaced = true;
    }
  });
  return expr;
}

absl::StatusOr<pg_query::Node> WireValue(pg_query::Node expr, const SyncedField& field) {
  absl::StatusOr<pg_query::Node> cast = CastNode(std::move(expr), field.column_type);
  if (!cast.ok()) return cast.status();
  switch (WireKindOf(field.column_type)) {
    case WireKind::kText:
      return cast;
    case WireKind::kEpochMillis:
    case WireKind::kMillisOfDay:
      return Wrap("SELECT floor(extract(epoch FROM $999999) * 1000)::bigint", *std::move(cast));
    case WireKind::kEpochDays:
      return Wrap("SELECT $999999 - DATE '1970-01-01'", *std::move(cast));
  }
  return cast;
}

absl::StatusOr<const SyncedField*> Column(const SyncedTable& table, const std::string& column) {
  const SyncedField* field = ColumnOf(table, column);
  if (field == nullptr) {
    return absl::NotFoundError(
        StrCat("column \"", column, "\" of relation \"", table.table, "\" does not exist"));
  }
  return field;
}

// The write's target as the resolved table, keeping the client's alias.
pg_query::Node TargetRange(const pg_query::RangeVar& written, const SyncedTable& table) {
  pg_query::Node node;
  pg_query::RangeVar* rel = node.mutable_range_var();
  *rel = written;
  rel->set_catalogname("");
  rel->set_schemaname(table.schema);
  rel->set_relname(table.table);
  return node;
}

absl::StatusOr<pg_query::Node> EmptySelect() { return TemplateStatement("SELECT"); }

absl::StatusOr<DerivedQuery> Finish(pg_query::Node stmt, const BoundParams& client,
                                    const std::map<int, Param>& extra = {}) {
  absl::StatusOr<BoundParams> params = Renumber(stmt, client, extra);
  if (!params.ok()) return params.status();
  absl::StatusOr<std::string> sql = Deparse(stmt);
  if (!sql.ok()) return sql.status();
  return DerivedQuery{*std::move(sql), *std::move(params)};
}

pg_query::Node IdColumn(const AnalyzedWrite& write) {
  return ResTargetNode(ColumnRefNode({write.RowName(), "id"}));
}

// to_jsonb(<row name>.*)::text: the target row as JSON, column -> value.
absl::StatusOr<pg_query::Node> RowJson(const AnalyzedWrite& write) {
  std::vector<pg_query::Node> args;
  args.push_back(StarRefNode(write.RowName()));
  return CastNode(FuncCallNode({"pg_catalog", "to_jsonb"}, std::move(args)), "text");
}

// In `list` (RETURNING), references to the target qualified by its schema (schema.table.c,
// schema.table.*, database.schema.table.c) made relative to the row name (table.c), which is
// what the rows of the RETURNING query are called. PostgreSQL accepts them only when the target
// has no alias, and so does this.
void UnqualifyTargetRefs(google::protobuf::RepeatedPtrField<pg_query::Node>& list,
                         const AnalyzedWrite& write, const SyncedTable& table) {
  if (!write.alias.empty()) return;
  auto is = [](const pg_query::Node& n, std::string_view s) {
    return n.has_string() && n.string().sval() == s;
  };
  for (pg_query::Node& item : list) {
    ForEachNode(item, [&](pg_query::Node& node) {
      if (!node.has_column_ref()) return;
      auto* fields = node.mutable_column_ref()->mutable_fields();
      const int n = fields->size();
      // The last field is the column (or *), the one before it the table.
      if (n < 3 || !is(fields->Get(n - 2), table.table) || !is(fields->Get(n - 3), table.schema)) {
        return;
      }
      fields->DeleteSubrange(0, n - 2);
    });
  }
}

absl::StatusOr<DerivedQuery> InsertRows(const AnalyzedWrite& write, const SyncedTable& table,
                                        const BoundParams& client) {
  const pg_query::InsertStmt& insert = write.statement.insert_stmt();
  std::vector<const SyncedField*> fields;
  for (const std::string& column : write.columns) {
    absl::StatusOr<const SyncedField*> f = Column(table, column);
    if (!f.ok()) return f.status();
    fields.push_back(*f);
  }
  absl::StatusOr<pg_query::Node> stmt = EmptySelect();
  if (!stmt.ok()) return stmt.status();
  pg_query::SelectStmt* out = stmt->mutable_select_stmt();
  if (insert.has_with_clause()) *out->mutable_with_clause() = insert.with_clause();
  const pg_query::SelectStmt& source = insert.select_stmt().select_stmt();
  if (write.from_values) {
    for (const pg_query::Node& row : source.values_lists()) {
      pg_query::Node* list = out->add_values_lists();
      pg_query::List* items = list->mutable_list();
      for (int i = 0; i < row.list().items_size(); ++i) {
        // DEFAULT: no value of the client's (write_checks.h decides what that means).
        const pg_query::Node& item = row.list().items(i);
        absl::StatusOr<pg_query::Node> v =
            WireValue(item.has_set_to_default() ? NullNode() : item, *fields[i]);
        if (!v.ok()) return v.status();
        *items->add_items() = *std::move(v);
      }
    }
  } else {
    pg_query::Node sub;
    pg_query::RangeSubselect* range = sub.mutable_range_subselect();
    *range->mutable_subquery() = insert.select_stmt();
    range->mutable_alias()->set_aliasname("sfbridge_new");
    for (size_t i = 0; i < fields.size(); ++i) {
      const std::string name = StrCat("c", i + 1);
      *range->mutable_alias()->add_colnames() = StringNode(name);
      absl::StatusOr<pg_query::Node> v =
          WireValue(ColumnRefNode({"sfbridge_new", name}), *fields[i]);
      if (!v.ok()) return v.status();
      *out->add_target_list() = ResTargetNode(*std::move(v));
    }
    *out->add_from_clause() = std::move(sub);
  }
  return Finish(*std::move(stmt), client);
}

absl::StatusOr<DerivedQuery> UpdateRows(const AnalyzedWrite& write, const SyncedTable& table,
                                        const BoundParams& client, const ColumnPlan* plan) {
  const pg_query::UpdateStmt& update = write.statement.update_stmt();
  absl::StatusOr<pg_query::Node> stmt = EmptySelect();
  if (!stmt.ok()) return stmt.status();
  pg_query::SelectStmt* out = stmt->mutable_select_stmt();
  if (update.has_with_clause()) *out->mutable_with_clause() = update.with_clause();
  *out->add_target_list() = IdColumn(write);
  for (int i = 0; i < update.target_list_size(); ++i) {
    const pg_query::ResTarget& target = update.target_list(i).res_target();
    absl::StatusOr<const SyncedField*> f = Column(table, target.name());
    if (!f.ok()) return f.status();
    pg_query::Node value = target.val();
    if (value.has_set_to_default()) value = NullNode();
    if (value.has_multi_assign_ref()) {
      // SET (a, b) = (x, y): column colno takes the colno-th expression of the row.
      const pg_query::MultiAssignRef& multi = value.multi_assign_ref();
      const auto& args = multi.source().row_expr().args();
      if (multi.colno() < 1 || multi.colno() > args.size()) {
        return absl::InvalidArgumentError("number of columns does not match number of values");
      }
      pg_query::Node picked = args.Get(multi.colno() - 1);  // a copy: `args` lives in `value`
      value = std::move(picked);
    }
    absl::StatusOr<pg_query::Node> v = WireValue(std::move(value), **f);
    if (!v.ok()) return v.status();
    *out->add_target_list() = ResTargetNode(*std::move(v));
  }
  // The current values of the server-set columns, which the new ones may only repeat.
  int current_at = -1;
  for (size_t i = 0; plan != nullptr && i < plan->roles.size(); ++i) {
    if (plan->roles[i] != ColumnRole::kServerSet) continue;
    if (current_at < 0) current_at = out->target_list_size();
    absl::StatusOr<const SyncedField*> f = Column(table, write.columns[i]);
    if (!f.ok()) return f.status();
    absl::StatusOr<pg_query::Node> v =
        WireValue(ColumnRefNode({write.RowName(), write.columns[i]}), **f);
    if (!v.ok()) return v.status();
    *out->add_target_list() = ResTargetNode(*std::move(v));
  }
  int row_json_at = -1;
  if (write.returning) {
    // The row as it is, for the RETURNING list's check before Salesforce is called.
    row_json_at = out->target_list_size();
    absl::StatusOr<pg_query::Node> json = RowJson(write);
    if (!json.ok()) return json.status();
    *out->add_target_list() = ResTargetNode(*std::move(json));
  }
  *out->add_from_clause() = TargetRange(update.relation(), table);
  for (const pg_query::Node& from : update.from_clause()) *out->add_from_clause() = from;
  if (update.has_where_clause()) *out->mutable_where_clause() = update.where_clause();
  absl::StatusOr<DerivedQuery> q = Finish(*std::move(stmt), client);
  if (q.ok()) {
    q->current_at = current_at;
    q->row_json_at = row_json_at;
  }
  return q;
}

absl::StatusOr<DerivedQuery> DeleteRows(const AnalyzedWrite& write, const SyncedTable& table,
                                        const BoundParams& client) {
  const pg_query::DeleteStmt& del = write.statement.delete_stmt();
  absl::StatusOr<pg_query::Node> stmt = EmptySelect();
  if (!stmt.ok()) return stmt.status();
  pg_query::SelectStmt* out = stmt->mutable_select_stmt();
  if (del.has_with_clause()) *out->mutable_with_clause() = del.with_clause();
  *out->add_target_list() = IdColumn(write);
  if (write.returning) {
    // The row as it is before the delete, for RETURNING.
    absl::StatusOr<pg_query::Node> json = RowJson(write);
    if (!json.ok()) return json.status();
    *out->add_target_list() = ResTargetNode(*std::move(json));
  }
  *out->add_from_clause() = TargetRange(del.relation(), table);
  for (const pg_query::Node& from : del.using_clause()) *out->add_from_clause() = from;
  if (del.has_where_clause()) *out->mutable_where_clause() = del.where_clause();
  absl::StatusOr<DerivedQuery> q = Finish(*std::move(stmt), client);
  if (q.ok() && write.returning) q->row_json_at = 1;
  return q;
}

}  // namespace

WireKind WireKindOf(std::string_view column_type) {
  if (column_type.starts_with("timestamp")) return WireKind::kEpochMillis;
  if (column_type == "date") return WireKind::kEpochDays;
  if (column_type.starts_with("time")) return WireKind::kMillisOfDay;
  return WireKind::kText;
}

absl::StatusOr<DerivedQuery> BuildAffectedRowsQuery(const AnalyzedWrite& write,
                                                    const SyncedTable& table,
                                                    const BoundParams& client,
                                                    const ColumnPlan* plan) {
  switch (write.operation) {
    case Operation::kInsert:
      return InsertRows(write, table, client);
    case Operation::kUpdate:
      return UpdateRows(write, table, client, plan);
    case Operation::kDelete:
      return DeleteRows(write, table, client);
  }
  return absl::InternalError("unknown operation");
}

absl::StatusOr<DerivedQuery> BuildReturningQuery(const AnalyzedWrite& write,
                                                 const SyncedTable& table,
                                                 const BoundParams& client, std::string rows_json) {
  const google::protobuf::RepeatedPtrField<pg_query::Node>* returning = nullptr;
  switch (write.operation) {
    case Operation::kInsert:
      returning = &write.statement.insert_stmt().returning_list();
      break;
    case Operation::kUpdate:
      returning = &write.statement.update_stmt().returning_list();
      break;
    case Operation::kDelete:
      returning = &write.statement.delete_stmt().returning_list();
      break;
  }
  absl::StatusOr<pg_query::Node> stmt = TemplateStatement(
      "SELECT FROM jsonb_populate_recordset(NULL::sfbridge_schema.sfbridge_table, "
      "$999998::jsonb) AS sfbridge_rows");
  if (!stmt.ok()) return stmt.status();
  pg_query::SelectStmt* out = stmt->mutable_select_stmt();
  *out->mutable_target_list() = *returning;
  UnqualifyTargetRefs(*out->mutable_target_list(), write, table);
  pg_query::RangeFunction* range = out->mutable_from_clause(0)->mutable_range_function();
  range->mutable_alias()->set_aliasname(write.RowName());
  // functions: a List of (FuncCall, column definitions); the row type is the first argument.
  pg_query::FuncCall* call =
      range->mutable_functions(0)->mutable_list()->mutable_items(0)->mutable_func_call();
  pg_query::TypeName* type = call->mutable_args(0)->mutable_type_cast()->mutable_type_name();
  type->clear_names();
  *type->add_names() = StringNode(table.schema);
  *type->add_names() = StringNode(table.table);
  return Finish(*std::move(stmt), client,
                {{kRowsJsonParam, Param{std::move(rows_json), 0, kJsonbOid}}});
}

}  // namespace sfbridge::proxy::writes
