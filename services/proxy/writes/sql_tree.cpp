#include "proxy/writes/sql_tree.h"

#include <pg_query.h>

#include <map>
#include <memory>
#include <utility>

#include "common/core/strings.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status TooLong(size_t size) {
  return absl::InvalidArgumentError(StrCat("statement of ", size, " bytes is longer than the ",
                                           kMaxStatementBytes, " bytes analysed"));
}

std::string ErrorText(const PgQueryError* error) {
  return error->message != nullptr ? error->message : "syntax error";
}

// Calls `visit` on every message below `message` (not `message` itself), depth first.
template <typename Visit>
void WalkMessages(Message& message, const Visit& visit) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        Message* child = reflection->MutableRepeatedMessage(&message, field, i);
        visit(*child);
        WalkMessages(*child, visit);
      }
    } else {
      Message* child = reflection->MutableMessage(&message, field);
      visit(*child);
      WalkMessages(*child, visit);
    }
  }
}

bool AnyMessage(const Message& message, const std::function<bool(const Message&)>& test) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        const Message& child = reflection->GetRepeatedMessage(message, field, i);
        if (test(child) || AnyMessage(child, test)) return true;
      }
    } else {
      const Message& child = reflection->GetMessage(message, field);
      if (test(child) || AnyMessage(child, test)) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitStatements(std::string_view sql) {
  if (sql.size() > kMaxStatementBytes) return TooLong(sql.size());
  const std::string text(sql);
  PgQuerySplitResult result = pg_query_split_with_parser(text.c_str());
  std::unique_ptr<PgQuerySplitResult, void (*)(PgQuerySplitResult*)> guard(
      &result, [](PgQuerySplitResult* r) { pg_query_free_split_result(*r); });
  if (result.error != nullptr) return absl::InvalidArgumentError(ErrorText(result.error));
  std::vector<std::string> statements;
  for (int i = 0; i < result.n_stmts; ++i) {
    const PgQuerySplitStmt* stmt = result.stmts[i];
    const auto begin = static_cast<size_t>(stmt->stmt_location);
    const auto length = static_cast<size_t>(stmt->stmt_len);
    std::string_view piece = length == 0 ? std::string_view(text).substr(begin)
                                         : std::string_view(text).substr(begin, length);
    const size_t first = piece.find_first_not_of(" \t\r\n\f");
    if (first == std::string_view::npos) continue;
    statements.emplace_back(piece);
  }
  return statements;
}

absl::StatusOr<pg_query::ParseResult> ParseTree(std::string_view sql) {
  if (sql.size() > kMaxStatementBytes) return TooLong(sql.size());
  const std::string text(sql);
  PgQueryProtobufParseResult result = pg_query_parse_protobuf(text.c_str());
  std::unique_ptr<PgQueryProtobufParseResult, void (*)(PgQueryProtobufParseResult*)> guard(
      &result, [](PgQueryProtobufParseResult* r) { pg_query_free_protobuf_parse_result(*r); });
  if (result.error != nullptr) return absl::InvalidArgumentError(ErrorText(result.error));
  pg_query::ParseResult tree;
  if (!tree.ParseFromArray(result.parse_tree.data, static_cast<int>(result.parse_tree.len))) {
    return absl::InternalError("libpg_query returned a parse tree that does not decode");
  }
  return tree;
}

absl::StatusOr<std::string> Deparse(const pg_query::Node& statement) {
  pg_query::ParseResult tree;
  tree.set_version(PG_VERSION_NUM);
  *tree.add_stmts()->mutable_stmt() = statement;
  std::string bytes = tree.SerializeAsString();
  PgQueryProtobuf input{bytes.size(), bytes.data()};
  PgQueryDeparseResult result = pg_query_deparse_protobuf(input);
  std::unique_ptr<PgQueryDeparseResult, void (*)(PgQueryDeparseResult*)> guard(
      &result, [](PgQueryDeparseResult* r) { pg_query_free_deparse_result(*r); });
  if (result.error != nullptr) {
    return absl::InternalError(StrCat("deparse: ", ErrorText(result.error)));
  }
  return std::string(result.query);
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

pg_query::Node StringNode(std::string_view value) {
  pg_query::Node node;
  node.mutable_string()->set_sval(std::string(value));
  return node;
}

pg_query::Node ColumnRefNode(const std::vector<std::string>& fields) {
  pg_query::Node node;
  pg_query::ColumnRef* ref = node.mutable_column_ref();
  for (const std::string& field : fields) *ref->add_fields() = StringNode(field);
  ref->set_location(-1);
  return node;
}

pg_query::Node StarRefNode(std::string_view relation) {
  pg_query::Node node;
  pg_query::ColumnRef* ref = node.mutable_column_ref();
  *ref->add_fields() = StringNode(relation);
  ref->add_fields()->mutable_a_star();
  ref->set_location(-1);
  return node;
}

pg_query::Node ParamNode(int number) {
  pg_query::Node node;
  node.mutable_param_ref()->set_number(number);
  node.mutable_param_ref()->set_location(-1);
  return node;
}

pg_query::Node NullNode() {
  pg_query::Node node;
  node.mutable_a_const()->set_isnull(true);
  node.mutable_a_const()->set_location(-1);
  return node;
}

absl::StatusOr<pg_query::Node> CastNode(pg_query::Node arg, std::string_view type) {
  // Type names as format_type() prints them are parsed once per thread and kept.
  thread_local std::map<std::string, pg_query::TypeName, std::less<>> types;
  auto it = types.find(type);
  if (it == types.end()) {
    absl::StatusOr<pg_query::ParseResult> tree = ParseTree(StrCat("SELECT NULL::", type));
    const pg_query::TypeName* found = nullptr;
    if (tree.ok() && tree->stmts_size() == 1) {
      const pg_query::SelectStmt& select = tree->stmts(0).stmt().select_stmt();
      if (select.target_list_size() == 1) {
        const pg_query::Node& value = select.target_list(0).res_target().val();
        if (value.has_type_cast()) found = &value.type_cast().type_name();
      }
    }
    if (found == nullptr) {
      return absl::InvalidArgumentError(StrCat("not a type name: ", type));
    }
    it = types.emplace(std::string(type), *found).first;
  }
  pg_query::Node node;
  pg_query::TypeCast* cast = node.mutable_type_cast();
  *cast->mutable_arg() = std::move(arg);
  *cast->mutable_type_name() = it->second;
  cast->set_location(-1);
  return node;
}

pg_query::Node FuncCallNode(const std::vector<std::string>& name,
                            std::vector<pg_query::Node> args) {
  pg_query::Node node;
  pg_query::FuncCall* call = node.mutable_func_call();
  for (const std::string& part : name) *call->add_funcname() = StringNode(part);
  for (pg_query::Node& arg : args) *call->add_args() = std::move(arg);
  call->set_funcformat(pg_query::COERCE_EXPLICIT_CALL);
  call->set_location(-1);
  return node;
}

pg_query::Node ResTargetNode(pg_query::Node value, std::string_view name) {
  pg_query::Node node;
  pg_query::ResTarget* target = node.mutable_res_target();
  target->set_name(std::string(name));
  *target->mutable_val() = std::move(value);
  target->set_location(-1);
  return node;
}

void ForEachNode(Message& root, const std::function<void(pg_query::Node&)>& visit) {
  auto on_message = [&](Message& m) {
    if (m.GetDescriptor() == pg_query::Node::descriptor()) {
      visit(static_cast<pg_query::Node&>(m));
    }
  };
  on_message(root);
  WalkMessages(root, on_message);
}

absl::StatusOr<pg_query::Node> TemplateStatement(std::string_view sql) {
  thread_local std::map<std::string, pg_query::Node, std::less<>> templates;
  auto it = templates.find(sql);
  if (it == templates.end()) {
    absl::StatusOr<pg_query::ParseResult> tree = ParseTree(sql);
    if (!tree.ok()) return tree.status();
    if (tree->stmts_size() != 1) {
      return absl::InvalidArgumentError(StrCat("not one statement: ", sql));
    }
    it = templates.emplace(std::string(sql), tree->stmts(0).stmt()).first;
  }
  return it->second;
}

std::vector<pg_query::ParamRef*> FindParamRefs(Message& node) {
  std::vector<pg_query::ParamRef*> refs;
  auto visit = [&](Message& m) {
    if (m.GetDescriptor() == pg_query::ParamRef::descriptor()) {
      refs.push_back(static_cast<pg_query::ParamRef*>(&m));
    }
  };
  visit(node);
  WalkMessages(node, visit);
  return refs;
}

bool ContainsNode(const Message& node, pg_query::Node::NodeCase node_case) {
  auto test = [&](const Message& m) {
    return m.GetDescriptor() == pg_query::Node::descriptor() &&
           static_cast<const pg_query::Node&>(m).node_case() == node_case;
  };
  return test(node) || AnyMessage(node, test);
}

}  // namespace sfbridge::proxy::writes
