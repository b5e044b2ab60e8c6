#include "proxy/committed_ids.h"

#include "proxy/pg_wire.h"

namespace sfbridge::proxy {
namespace {

// Provisional ids (writes/held_writes.cpp) are 18 characters starting with this.
constexpr std::string_view kProvisionalPrefix = "000p";
constexpr size_t kIdLength = 18;

}  // namespace

void CommittedIds::Remember(const std::vector<std::pair<std::string, std::string>>& ids) {
  if (ids_.size() + ids.size() > kMaxRemembered) ids_.clear();
  for (const auto& [provisional, real] : ids) ids_[provisional] = real;
}

std::optional<std::string> CommittedIds::InSql(std::string_view sql) const {
  if (ids_.empty() || sql.find(kProvisionalPrefix) == std::string_view::npos) return std::nullopt;
  std::string out;
  bool replaced = false;
  size_t at = 0;
  for (size_t found; (found = sql.find(kProvisionalPrefix, at)) != std::string_view::npos;) {
    auto it = ids_.find(std::string(sql.substr(found, kIdLength)));
    if (it == ids_.end()) {
      out.append(sql.substr(at, found + kProvisionalPrefix.size() - at));
      at = found + kProvisionalPrefix.size();
      continue;
    }
    out.append(sql.substr(at, found - at));
    out.append(it->second);
    at = found + kIdLength;
    replaced = true;
  }
  if (!replaced) return std::nullopt;
  out.append(sql.substr(at));
  return out;
}

std::optional<std::string> CommittedIds::InBind(std::string_view body) const {
  if (ids_.empty()) return std::nullopt;
  absl::StatusOr<wire::BindMsg> bind = wire::ReadBind(body);
  if (!bind.ok()) return std::nullopt;
  absl::StatusOr<std::vector<int16_t>> formats =
      wire::ExpandFormats(bind->param_formats, bind->values.size());
  if (!formats.ok()) return std::nullopt;
  BoundParams params;
  params.formats = *formats;
  bool replaced = false;
  for (size_t i = 0; i < bind->values.size(); ++i) {
    const std::optional<std::string_view>& v = bind->values[i];
    if (!v) {
      params.values.emplace_back(std::nullopt);
      continue;
    }
    auto it =
        (*formats)[i] == 0 && v->size() == kIdLength ? ids_.find(std::string(*v)) : ids_.end();
    replaced |= it != ids_.end();
    params.values.emplace_back(it != ids_.end() ? it->second : std::string(*v));
  }
  if (!replaced) return std::nullopt;
  std::string out;
  wire::AppendBind(&out, bind->portal, bind->statement, params, bind->result_formats);
  return out;
}

}  // namespace sfbridge::proxy
