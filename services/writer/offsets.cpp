#include "writer/offsets.h"

#include <tuple>

#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::writer {

absl::Status StoreOffsets(postgres::Transaction& tx, const std::vector<OffsetUpdate>& offsets) {
  if (offsets.empty()) return absl::OkStatus();
  // One statement may not touch a row twice: keep the highest offset per key.
  std::map<std::tuple<std::string, std::string, int32_t>, int64_t> latest;
  for (const OffsetUpdate& o : offsets) {
    auto [it, inserted] =
        latest.try_emplace({o.consumer_group, o.topic, o.partition}, o.next_offset);
    if (!inserted && o.next_offset > it->second) it->second = o.next_offset;
  }
  std::string sql =
      "INSERT INTO sfbridge.consumer_offsets (consumer_group, topic, partition, next_offset) "
      "VALUES ";
  postgres::Params params;
  for (const auto& [key, next] : latest) {
    size_t p = params.size();
    core::StrAppend(&sql, p ? ", " : "", "($", p + 1, ", $", p + 2, ", $", p + 3, "::integer, $",
                    p + 4, "::bigint)");
    params.push_back(std::get<0>(key));
    params.push_back(std::get<1>(key));
    params.push_back(std::to_string(std::get<2>(key)));
    params.push_back(std::to_string(next));
  }
  core::StrAppend(&sql,
                  " ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET "
                  "next_offset = excluded.next_offset, updated_at = now()");
  absl::Status s = tx.Exec(sql, params).status();
  return s.ok() ? s : core::Annotate(s, "store consumer offsets");
}

absl::StatusOr<std::map<int32_t, int64_t>> LoadOffsets(postgres::Connection& conn,
                                                       const std::string& group,
                                                       const std::string& topic) {
  auto r = conn.Exec(
      "SELECT partition, next_offset FROM sfbridge.consumer_offsets "
      "WHERE consumer_group = $1 AND topic = $2",
      {group, topic});
  if (!r.ok()) return core::Annotate(r.status(), "load consumer offsets");
  std::map<int32_t, int64_t> out;
  for (const auto& row : r->rows) out[std::stoi(*row[0])] = std::stoll(*row[1]);
  return out;
}

}  // namespace sfbridge::writer
