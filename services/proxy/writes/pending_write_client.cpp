#include "proxy/writes/pending_write_client.h"

#include <openssl/evp.h>

#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "common/core/json_writer.h"
#include "common/core/strings.h"
#include "common/postgres/connection.h"
#include "proxy/writes/derived_query.h"
#include "proxy/writes/error_mapping.h"
#include "proxy/writes/sql_tree.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;

constexpr uint32_t kTextOid = 25;
constexpr uint32_t kRegclassOid = 2205;

}  // namespace

absl::StatusOr<std::string> PendingWriteClient::Token(int pid) {
  if (pid <= 0) return absl::FailedPreconditionError("the server connection's process is unknown");
  std::string secret;
  {
    std::lock_guard lock(mu_);
    if (secret_.empty()) {
      absl::StatusOr<std::unique_ptr<postgres::Connection>> conn =
          postgres::Connection::Connect(control_url_);
      if (!conn.ok()) return conn.status();
      absl::StatusOr<postgres::QueryResult> r =
          (*conn)->Exec("SELECT encode(secret, 'hex') FROM sfbridge.proxy_secret");
      if (!r.ok()) return r.status();
      if (r->rows.empty() || !r->rows[0][0]) {
        return absl::FailedPreconditionError(
            "sfbridge.proxy_secret is empty: start the writer once to set it up");
      }
      secret_ = absl::HexStringToBytes(*r->rows[0][0]);
    }
    secret = secret_;
  }
  const std::string message = StrCat(secret, ":", pid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(message.data(), message.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("sha256 failed");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), static_cast<size_t>(size)));
}

absl::StatusOr<std::string> PendingWriteClient::Call(ServerQuerier& server,
                                                     const SyncedTable& table, std::string_view op,
                                                     std::string rows_json) {
  absl::StatusOr<std::string> token = Token(server.backend_pid());
  if (!token.ok()) {
    return ServerErrorStatus(
        PlainError("57P03", StrCat("the proxy cannot hold writes: ", token.status().message())));
  }
  BoundParams p;
  p.values = {*std::move(token),
              StrCat(QuoteIdentifier(table.schema), ".", QuoteIdentifier(table.table)),
              std::string(op), std::move(rows_json)};
  p.formats.assign(4, 0);
  p.type_oids = {kTextOid, kRegclassOid, kTextOid, kJsonbOid};
  absl::StatusOr<ServerQuerier::Rows> r =
      server.Query("SELECT sfbridge.pending_write($1, $2, $3, $4)", p);
  if (!r.ok()) return r.status();
  if (r->rows.empty() || r->rows[0].empty() || !r->rows[0][0]) return std::string("[]");
  return *std::move(r->rows[0][0]);
}

std::string PendingWriteClient::IdRowsJson(const ServerQuerier::Rows& rows) {
  core::JsonWriter json;
  json.BeginArray();
  for (const auto& row : rows.rows) {
    json.BeginObject().Member("id", row.empty() ? "" : row[0].value_or("")).EndObject();
  }
  return json.EndArray().Take();
}

}  // namespace sfbridge::proxy::writes
