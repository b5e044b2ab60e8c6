#pragma once

// libpg_query behind statuses: splitting a query string, parsing a statement into its protobuf
// parse tree (pg_query.proto as C++ messages), turning a tree back into SQL, and the small
// builders the derived queries are made of. Every libpg_query result is freed before return.
//
// Thread-safe: libpg_query keeps its memory context per thread.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pg_query.pb.h"

namespace sfbridge::proxy::writes {

// Statements longer than this are not analysed (deeply nested input can exhaust the stack in
// libpg_query's protobuf handling): Split and Parse refuse them with kInvalidArgument.
inline constexpr size_t kMaxStatementBytes = 1 << 20;

// The statements of `sql`, each as its own text (without the separating ';'), in order; empty
// statements are dropped. Errors: kInvalidArgument when it does not parse.
absl::StatusOr<std::vector<std::string>> SplitStatements(std::string_view sql);

// The parse tree of `sql`. Errors: kInvalidArgument with the parser's message.
absl::StatusOr<pg_query::ParseResult> ParseTree(std::string_view sql);

// The SQL of one statement node. Errors: kInternal when the deparser refuses the tree.
absl::StatusOr<std::string> Deparse(const pg_query::Node& statement);

// An identifier in double quotes, inner quotes doubled: safe for any name, keywords included.
std::string QuoteIdentifier(std::string_view name);

// Builders of parse-tree nodes.
pg_query::Node StringNode(std::string_view value);
// A column reference a.b.c (each part an identifier).
pg_query::Node ColumnRefNode(const std::vector<std::string>& fields);
// A whole-row reference: relation.*
pg_query::Node StarRefNode(std::string_view relation);
pg_query::Node ParamNode(int number);
pg_query::Node NullNode();
// CAST(arg AS type) where `type` is a type name as format_type() spells it ("numeric",
// "timestamp with time zone", "character varying(40)"). Errors: kInvalidArgument when `type`
// does not parse as a type name.
absl::StatusOr<pg_query::Node> CastNode(pg_query::Node arg, std::string_view type);
// name(args...) with a possibly schema-qualified name ("pg_catalog", "to_jsonb").
pg_query::Node FuncCallNode(const std::vector<std::string>& name, std::vector<pg_query::Node> args);
pg_query::Node ResTargetNode(pg_query::Node value, std::string_view name = {});

// Calls `visit` on every pg_query::Node in `root`'s tree (`root` included when it is one),
// parents before children. `visit` may replace the node it is given; the walk then goes on into
// the replacement.
void ForEachNode(google::protobuf::Message& root,
                 const std::function<void(pg_query::Node&)>& visit);

// A statement parsed from `sql` (one statement), kept per thread: the skeletons derived queries
// are built from. Errors: kInvalidArgument when `sql` does not parse.
absl::StatusOr<pg_query::Node> TemplateStatement(std::string_view sql);

// Every ParamRef in `node`'s tree (any depth), so that they can be read or renumbered.
std::vector<pg_query::ParamRef*> FindParamRefs(google::protobuf::Message& node);
// True when a node of the given oneof case occurs anywhere in `node`'s tree.
bool ContainsNode(const google::protobuf::Message& node, pg_query::Node::NodeCase node_case);

}  // namespace sfbridge::proxy::writes
