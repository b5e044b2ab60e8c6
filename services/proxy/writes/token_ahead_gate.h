#pragma once

// A RequestGate in front of another that lets a thread take the token of its next call ahead
// of time. The write path's coalescing uses it: the thread that leads a shared Composite request
// first waits for the request's budget token, and only then gathers the writes queued meanwhile,
// so that everything waiting goes in the request the token pays for (composite_batcher.h).
//
// TakeAhead asks the inner gate now (waiting as it does) and, when it grants, leaves the calling
// thread holding one token: its next Acquire is granted without asking the inner gate. Every
// other Acquire (retries, re-authentication, other threads) asks the inner gate. DropAhead
// forgets a token the thread did not use (it stays spent: the budget may be under-spent, never
// over-spent). Observe passes through.
//
// Thread-safe; `inner` must outlive it.

#include "common/salesforce/request_gate.h"

namespace sfbridge::proxy::writes {

class TokenAheadGate final : public salesforce::RequestGate {
 public:
  explicit TokenAheadGate(salesforce::RequestGate& inner) : inner_(inner) {}

  // The inner gate's answer; OK leaves the calling thread holding one token.
  absl::Status TakeAhead(salesforce::CallKind kind, salesforce::Priority priority);
  static void DropAhead();

  absl::Status Acquire(salesforce::CallKind kind, salesforce::Priority priority) override;
  void Observe(const salesforce::LimitInfo& info) override { inner_.Observe(info); }

 private:
  salesforce::RequestGate& inner_;
};

}  // namespace sfbridge::proxy::writes
