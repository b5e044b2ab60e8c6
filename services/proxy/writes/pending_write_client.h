#pragma once

// The proxy's side of sfbridge.pending_write (writer/pending_writes.h): the function that
// changes a synced table's rows inside a client's own transaction, for held writes (their
// pending rows, then the confirmed versions) and to lock the rows an UPDATE or DELETE is about
// to send. Called on the client's server connection with the token of its backend,
// hex(sha256(secret || ':' || pid)); the secret (sfbridge.proxy_secret, set up by the writer)
// is read from the control plane on first use and kept.
//
// Thread-safe.

#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"

namespace sfbridge::proxy::writes {

class PendingWriteClient {
 public:
  explicit PendingWriteClient(std::string control_url) : control_url_(std::move(control_url)) {}

  // sfbridge.pending_write(token, table, op, rows) on `server`: the rows as the table holds them
  // afterwards (a JSON array). Errors: the server's (GetServerError), or a 57P03 server error
  // when there is no token (the secret cannot be read, the backend's pid is unknown).
  absl::StatusOr<std::string> Call(ServerQuerier& server, const SyncedTable& table,
                                   std::string_view op, std::string rows_json);

  // The rows of 'lock': [{"id": ...}, ...] of the rows' first column.
  static std::string IdRowsJson(const ServerQuerier::Rows& rows);

 private:
  absl::StatusOr<std::string> Token(int pid);

  const std::string control_url_;
  std::mutex mu_;
  std::string secret_;  // guarded by mu_: sfbridge.proxy_secret's, once read
};

}  // namespace sfbridge::proxy::writes
