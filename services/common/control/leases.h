#pragma once

// Splitting an org's objects between fetcher replicas.
//
// Every replica (a "holder", unique per process) heartbeats in sfbridge.replicas; a replica is
// live while its last heartbeat is younger than its ttl. Each object is leased to at most one
// holder at a time in sfbridge.leases, until expires_at_ms. Acquire moves an org towards the
// fair split: every holder takes expired or unowned leases up to its fair share
// ceil(objects / live replicas), renews the ones it keeps, and gives up those above the share so
// that a new replica gets work. A replica that dies stops renewing; its leases expire after at
// most ttl and the others take them over on their next Acquire.
//
// Every change is one statement whose WHERE clause only touches a lease that is the caller's or
// has expired, so two holders never both own an object, whatever the interleaving; when two
// race for the same free object one wins and the other gets it on no list.
//
// A holder may work on an object only while it holds the lease: call Acquire (or Heartbeat) at
// least every ttl / 3, and stop working on anything the latest call did not return before the
// returned leases expire (clock + ttl). Times are the injected clock's wall time, so replicas
// need roughly synchronised clocks (skew well below ttl). All replicas of an org should use the
// same ttl and pass the same object list.

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/postgres/connection.h"

namespace sfbridge::control {

// Not thread-safe (one connection). `conn` and `clock` must outlive the LeaseManager. The org
// must have a row in sfbridge.orgs (kNotFound otherwise, from the first call).
class LeaseManager {
 public:
  LeaseManager(postgres::Connection& conn, core::Clock& clock, std::string org_id,
               std::string holder, std::chrono::milliseconds ttl);

  // Marks this holder live for another ttl and renews the leases it holds.
  absl::Status Heartbeat();

  // Heartbeats, then rebalances as described above for the objects the org replicates now
  // (leases of objects not in `objects` are given up). Returns the objects this holder holds
  // after the call, sorted; they are valid until clock + ttl.
  absl::StatusOr<std::vector<std::string>> Acquire(const std::vector<std::string>& objects);

  // Gives up every lease and leaves the set of live replicas, so that the others take over at
  // once (a clean shutdown).
  absl::Status Release();

  const std::string& holder() const { return holder_; }

 private:
  absl::Status Beat(const postgres::Params& params);  // $1 org, $2 holder, $3 now, $4 ttl
  std::string Context() const;

  postgres::Connection& conn_;
  core::Clock& clock_;
  const std::string org_id_;
  const std::string holder_;
  const std::chrono::milliseconds ttl_;
};

}  // namespace sfbridge::control
