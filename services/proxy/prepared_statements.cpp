#include "proxy/prepared_statements.h"

#include "proxy/pg_message_types.h"
#include "proxy/pg_wire.h"
#include "proxy/statement_text.h"

namespace sfbridge::proxy {

void PreparedStatements::OnParse(std::string_view body) {
  absl::StatusOr<wire::ParseMsg> parse = wire::ReadParse(body);
  if (!parse.ok()) return;
  std::string name(parse->statement);
  if (ClassifyTransactionControl(parse->query) != TransactionControl::kNone) {
    tx_statements_[name] = std::string(parse->query);
  } else if (!tx_statements_.empty()) {
    tx_statements_.erase(name);
  }
  if (!MayWrite(parse->query)) {
    if (!statements_.empty()) statements_.erase(name);
    return;
  }
  StatementPlan plan = plan_(parse->query);
  if (plan.kind == StatementPlan::Kind::kPassThrough) {
    statements_.erase(name);
    return;
  }
  auto info = std::make_shared<PreparedStatement>();
  info->plan = std::move(plan);
  info->param_types = std::move(parse->param_types);
  statements_[name] = std::move(info);
}

void PreparedStatements::OnBind(std::string_view body) {
  if (!tx_statements_.empty() || !tx_portals_.empty()) {
    absl::StatusOr<wire::BindMsg> bind = wire::ReadBind(body);
    if (bind.ok()) {
      auto it = tx_statements_.find(std::string(bind->statement));
      if (it != tx_statements_.end()) {
        tx_portals_[std::string(bind->portal)] = it->second;
      } else {
        tx_portals_.erase(std::string(bind->portal));
      }
    }
  }
  if (statements_.empty()) {
    if (!portals_.empty()) {
      absl::StatusOr<wire::BindMsg> bind = wire::ReadBind(body);
      if (bind.ok()) portals_.erase(std::string(bind->portal));
    }
    return;
  }
  absl::StatusOr<wire::BindMsg> bind = wire::ReadBind(body);
  if (!bind.ok()) return;
  std::string portal(bind->portal);
  auto it = statements_.find(std::string(bind->statement));
  if (it == statements_.end()) {
    portals_.erase(portal);
    return;
  }
  absl::StatusOr<std::vector<int16_t>> formats =
      wire::ExpandFormats(bind->param_formats, bind->values.size());
  if (!formats.ok()) {  // Postgres rejects this Bind; no portal comes of it
    portals_.erase(portal);
    return;
  }
  PreparedPortal info;
  info.statement = it->second;
  info.params.formats = *std::move(formats);
  info.params.values.reserve(bind->values.size());
  for (const auto& v : bind->values) {
    info.params.values.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
  }
  info.params.type_oids = it->second->param_types;
  info.params.type_oids.resize(info.params.values.size(), 0);
  info.result_formats = std::move(bind->result_formats);
  portals_[portal] = std::move(info);
}

void PreparedStatements::OnClose(std::string_view body) {
  absl::StatusOr<wire::DescribeMsg> close = wire::ReadDescribe(body);
  if (!close.ok()) return;
  std::string name(close->name);
  if (close->kind == wire::kPortal) {
    portals_.erase(name);
    tx_portals_.erase(name);
    return;
  }
  tx_statements_.erase(name);
  auto it = statements_.find(name);
  if (it == statements_.end()) return;
  // Closing a statement closes the portals made from it.
  for (auto p = portals_.begin(); p != portals_.end();) {
    p = p->second.statement == it->second ? portals_.erase(p) : std::next(p);
  }
  statements_.erase(it);
}

void PreparedStatements::OnQuery() {
  if (!statements_.empty()) statements_.erase("");
  if (!portals_.empty()) portals_.erase("");
}

void PreparedStatements::OnTransactionEnd() {
  portals_.clear();
  tx_portals_.clear();
}

PreparedStatements::Executed PreparedStatements::OnExecute(std::string_view body,
                                                           bool want_transaction_control) const {
  Executed found;
  if (portals_.empty() && (!want_transaction_control || tx_portals_.empty())) return found;
  absl::StatusOr<wire::ExecuteMsg> exec = wire::ReadExecute(body);
  if (!exec.ok()) return found;
  const std::string name(exec->portal);
  if (auto it = portals_.find(name); it != portals_.end()) {
    found.mutation = &it->second;
    return found;
  }
  if (want_transaction_control) {
    if (auto tx = tx_portals_.find(name); tx != tx_portals_.end()) {
      found.transaction_control = &tx->second;
    }
  }
  return found;
}

}  // namespace sfbridge::proxy
