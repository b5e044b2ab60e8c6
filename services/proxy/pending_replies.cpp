#include "proxy/pending_replies.h"

#include <algorithm>

#include "proxy/pg_message_types.h"

namespace sfbridge::proxy {
namespace {

namespace be = wire::backend;

// Whether a server message of `type` ends the reply to `request`.
bool Ends(Request request, char type) {
  switch (request) {
    case Request::kParse:
      return type == be::kParseComplete;
    case Request::kBind:
      return type == be::kBindComplete;
    case Request::kDescribe:
      return type == be::kRowDescription || type == be::kNoData;
    case Request::kExecute:
      return type == be::kCommandComplete || type == be::kPortalSuspended ||
             type == be::kEmptyQueryResponse;
    case Request::kClose:
      return type == be::kCloseComplete;
    case Request::kFunctionCall:
      return type == be::kFunctionCallResponse;
    case Request::kDescribeStatement:  // OnMessage turns it into kDescribe first
    case Request::kSync:               // ReadyForQuery: OnReadyForQuery
    case Request::kQuery:
      return false;
  }
  return false;
}

}  // namespace

void PendingReplies::Sent(Request request, Route route) {
  if (request == Request::kSync) {
    if (copy_in_) return;  // ignored by Postgres in COPY-in mode
    server_discarding_ = false;
  } else if (server_discarding_) {
    return;  // the server skips it: no reply
  }
  pending_.push_back({request, route});
}

void PendingReplies::OnMessage(char type) {
  if (pending_.empty()) return;
  Pending& front = pending_.front();
  if (front.request == Request::kDescribeStatement && type == be::kParameterDescription) {
    front.request = Request::kDescribe;  // then RowDescription or NoData
  } else if (Ends(front.request, type)) {
    pending_.pop_front();
  }
}

bool PendingReplies::OnReadyForQuery() {
  if (pending_.empty()) {
    copy_in_ = false;
    return false;
  }
  const Pending front = pending_.front();
  if (front.request == Request::kSync || front.request == Request::kQuery) pending_.pop_front();
  const bool own = front.request == Request::kSync && front.route == Route::kRaise;
  if (!own) copy_in_ = false;
  return own;
}

void PendingReplies::OnError() {
  copy_in_ = false;
  if (pending_.empty()) return;
  const Request head = pending_.front().request;
  if (head == Request::kQuery || head == Request::kSync) return;  // ReadyForQuery still ends it
  // The extended protocol: Postgres skips everything up to the next Sync.
  while (!pending_.empty() && pending_.front().request != Request::kSync) pending_.pop_front();
  if (pending_.empty()) server_discarding_ = true;
}

void PendingReplies::OnCopyIn() {
  copy_in_ = true;
  // Syncs sent behind the COPY reach Postgres in COPY-in mode, which ignores them.
  if (pending_.empty()) return;
  const Pending head = pending_.front();
  std::erase_if(pending_, [](const Pending& p) { return p.request == Request::kSync; });
  if (head.request == Request::kSync) pending_.push_front(head);
}

}  // namespace sfbridge::proxy
