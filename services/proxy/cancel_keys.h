#pragma once

// The cancel keys the proxy hands its clients, and the server keys they stand for.
//
// A client gets a BackendKeyData of the proxy's own (a process id unique among open sessions and
// a random secret), never the server's. A CancelRequest arrives on a new connection; only an
// exact (pid, secret) match finds the session's server key, so nobody can cancel another
// session's query by guessing a server pid. Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>

#include "proxy/pg_wire.h"

namespace sfbridge::proxy {

class CancelKeys {
 public:
  // Issues a proxy key for a session whose server key is `server`.
  wire::BackendKey Register(wire::BackendKey server);
  // Forgets a key (the session ended).
  void Unregister(wire::BackendKey proxy_key);
  // The server key for a proxy key, when both pid and secret match an open session.
  std::optional<wire::BackendKey> Find(wire::BackendKey proxy_key) const;

 private:
  struct Entry {
    int32_t secret;
    wire::BackendKey server;
  };
  mutable std::mutex mu_;
  int32_t next_pid_ = 1;
  std::unordered_map<int32_t, Entry> by_pid_;
};

}  // namespace sfbridge::proxy
