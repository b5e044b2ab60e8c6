#include "writer/dead_letters.h"

#include <map>
#include <tuple>

#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::writer {
namespace {

// bytea in hex input form.
std::string HexBytea(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace

absl::Status ParkMessages(postgres::Transaction& tx, const std::vector<DeadLetter>& letters) {
  // One statement may not touch a row twice: the last letter per message wins.
  std::map<std::tuple<std::string, int32_t, int64_t>, const DeadLetter*> unique;
  for (const DeadLetter& l : letters) unique[{l.topic, l.partition, l.offset}] = &l;
  constexpr size_t kPerStatement = 1000;
  auto it = unique.begin();
  while (it != unique.end()) {
    std::string sql =
        "INSERT INTO sfbridge.dead_letters (topic, partition, \"offset\", reason, payload) VALUES ";
    postgres::Params params;
    for (size_t n = 0; n < kPerStatement && it != unique.end(); ++n, ++it) {
      const DeadLetter& l = *it->second;
      size_t p = params.size();
      core::StrAppend(&sql, n ? ", " : "", "($", p + 1, ", $", p + 2, "::integer, $", p + 3,
                      "::bigint, $", p + 4, ", $", p + 5, "::bytea)");
      params.push_back(l.topic);
      params.push_back(std::to_string(l.partition));
      params.push_back(std::to_string(l.offset));
      params.push_back(l.reason);
      params.push_back(HexBytea(l.payload));
    }
    core::StrAppend(&sql,
                    " ON CONFLICT (topic, partition, \"offset\") DO UPDATE SET "
                    "reason = excluded.reason, payload = excluded.payload, parked_at = now()");
    if (absl::Status s = tx.Exec(sql, params).status(); !s.ok()) {
      return core::Annotate(s, "park messages");
    }
  }
  return absl::OkStatus();
}

absl::Status ParkMessages(postgres::Connection& conn, const std::vector<DeadLetter>& letters) {
  if (letters.empty()) return absl::OkStatus();
  return conn.InTransaction([&](postgres::Transaction& tx) { return ParkMessages(tx, letters); });
}

}  // namespace sfbridge::writer
