#include "proxy/cancel_keys.h"

#include <openssl/rand.h>

namespace sfbridge::proxy {

wire::BackendKey CancelKeys::Register(wire::BackendKey server) {
  std::lock_guard lock(mu_);
  int32_t pid;
  do {
    pid = next_pid_;
    next_pid_ = next_pid_ == INT32_MAX ? 1 : next_pid_ + 1;
  } while (by_pid_.count(pid));
  // Unpredictable even to a client that has seen many keys: from the OpenSSL CSPRNG.
  int32_t secret = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&secret), sizeof secret) != 1) {
    std::random_device device;
    secret = static_cast<int32_t>(device());
  }
  by_pid_[pid] = Entry{secret, server};
  return {pid, secret};
}

void CancelKeys::Unregister(wire::BackendKey proxy_key) {
  std::lock_guard lock(mu_);
  auto it = by_pid_.find(proxy_key.pid);
  if (it != by_pid_.end() && it->second.secret == proxy_key.secret) by_pid_.erase(it);
}

std::optional<wire::BackendKey> CancelKeys::Find(wire::BackendKey proxy_key) const {
  std::lock_guard lock(mu_);
  auto it = by_pid_.find(proxy_key.pid);
  if (it == by_pid_.end() || it->second.secret != proxy_key.secret) return std::nullopt;
  return it->second.server;
}

}  // namespace sfbridge::proxy
