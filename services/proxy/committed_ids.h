#pragma once

// The ids of records inserted in deferred transactions (sfbridge.transactions = deferred):
// the provisional id the client saw before the COMMIT, and Salesforce's. A client that names a
// provisional id after the COMMIT (an ORM re-reading the row it inserted) has its statement's
// text, or a text parameter of its Bind, rewritten to Salesforce's id, so it gets the row.
// Pure functions over text and message bodies: no I/O.
//
// Not thread-safe: belongs to one session.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sfbridge::proxy {

class CommittedIds {
 public:
  // At most this many are remembered; past it, the older ones are forgotten.
  static constexpr size_t kMaxRemembered = 100'000;

  // Remembers (provisional, Salesforce's) pairs (HeldCommit::ids).
  void Remember(const std::vector<std::pair<std::string, std::string>>& ids);
  bool empty() const { return ids_.empty(); }

  // `sql` with every remembered provisional id in it replaced; nullopt when it names none.
  std::optional<std::string> InSql(std::string_view sql) const;
  // The Bind message (whole, type and length included) whose body is `body`, rebuilt with the
  // text parameters that are a remembered provisional id replaced; nullopt when none is.
  std::optional<std::string> InBind(std::string_view body) const;

 private:
  std::unordered_map<std::string, std::string> ids_;
};

}  // namespace sfbridge::proxy
