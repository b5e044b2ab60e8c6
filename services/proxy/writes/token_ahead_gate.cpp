#include "proxy/writes/token_ahead_gate.h"

namespace sfbridge::proxy::writes {
namespace {

thread_local bool holding = false;

}  // namespace

absl::Status TokenAheadGate::TakeAhead(salesforce::CallKind kind, salesforce::Priority priority) {
  if (holding) return absl::OkStatus();
  absl::Status s = inner_.Acquire(kind, priority);
  holding = s.ok();
  return s;
}

void TokenAheadGate::DropAhead() { holding = false; }

absl::Status TokenAheadGate::Acquire(salesforce::CallKind kind, salesforce::Priority priority) {
  if (holding && kind != salesforce::CallKind::kAuth) {
    holding = false;
    return absl::OkStatus();
  }
  return inner_.Acquire(kind, priority);
}

}  // namespace sfbridge::proxy::writes
