#include "fetcher/soql_builder.h"

#include "absl/status/status.h"
#include "common/core/json_escape.h"
#include "common/core/strings.h"
#include "common/mapping/datetime.h"
#include "common/salesforce/url_encoding.h"

namespace sfbridge::fetcher {
namespace {

constexpr std::string_view kId = "Id";
constexpr std::string_view kModstamp = "SystemModstamp";

// Id and SystemModstamp first (unless already present), then `fields` in order.
std::vector<std::string> SelectList(const std::vector<std::string>& fields) {
  std::vector<std::string> list;
  list.reserve(fields.size() + 2);
  bool has_id = false, has_modstamp = false;
  for (const auto& f : fields) {
    has_id |= f == kId;
    has_modstamp |= f == kModstamp;
  }
  if (!has_id) list.emplace_back(kId);
  if (!has_modstamp) list.emplace_back(kModstamp);
  list.insert(list.end(), fields.begin(), fields.end());
  return list;
}

}  // namespace

std::string QuoteSoqlString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  for (char c : text) {
    switch (c) {
      case '\'':
        out += "\\'";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (std::string_view e = core::BackslashEscape(c); !e.empty()) {
          out += e;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('\'');
  return out;
}

std::string BuildKeysetQuery(const KeysetQuery& query) {
  std::string soql = "SELECT ";
  soql += core::StrJoin(SelectList(query.fields), ", ");
  core::StrAppend(&soql, " FROM ", query.object_name);
  std::vector<std::string> conditions;
  if (query.modstamp_at_most_ms) {
    conditions.push_back(
        core::StrCat(kModstamp, " <= ", mapping::FormatSoqlDateTime(*query.modstamp_at_most_ms)));
  }
  if (query.after) {
    const std::string t = mapping::FormatSoqlDateTime(query.after->modstamp_ms);
    conditions.push_back(core::StrCat("(", kModstamp, " > ", t, " OR (", kModstamp, " = ", t,
                                      " AND Id > ", QuoteSoqlString(query.after->id), "))"));
  }
  if (query.through) {
    const std::string t = mapping::FormatSoqlDateTime(query.through->modstamp_ms);
    conditions.push_back(core::StrCat("(", kModstamp, " < ", t, " OR (", kModstamp, " = ", t,
                                      " AND Id <= ", QuoteSoqlString(query.through->id), "))"));
  }
  if (!conditions.empty()) core::StrAppend(&soql, " WHERE ", core::StrJoin(conditions, " AND "));
  core::StrAppend(&soql, " ORDER BY ", kModstamp, ", Id");
  if (query.limit > 0) core::StrAppend(&soql, " LIMIT ", query.limit);
  return soql;
}

std::string BuildBackfillQuery(std::string_view object_name, const std::vector<std::string>& fields,
                               const std::optional<control::Cursor>& after, int64_t started_at_ms,
                               int limit) {
  KeysetQuery query;
  query.object_name = std::string(object_name);
  query.fields = fields;
  query.after = after;
  query.modstamp_at_most_ms = started_at_ms;
  query.limit = limit;
  return BuildKeysetQuery(query);
}

std::string BuildPollQuery(std::string_view object_name, const std::vector<std::string>& fields,
                           const control::Cursor& after, int limit) {
  KeysetQuery query;
  query.object_name = std::string(object_name);
  query.fields = fields;
  query.after = after;
  query.limit = limit;
  return BuildKeysetQuery(query);
}

std::string BuildCountQuery(std::string_view object_name) {
  return core::StrCat("SELECT COUNT() FROM ", object_name);
}

size_t EncodedLength(std::string_view soql) { return salesforce::UrlEncode(soql).size(); }

absl::StatusOr<std::vector<std::vector<std::string>>> SplitFieldList(
    const KeysetQuery& shape, const std::vector<std::string>& fields, size_t max_encoded_chars) {
  KeysetQuery base = shape;
  base.fields.clear();
  // Percent-encoding works character by character, so each ", Name" adds its own encoded
  // length to the query's.
  const size_t base_length = EncodedLength(BuildKeysetQuery(base));
  std::vector<std::vector<std::string>> lists;
  std::vector<std::string> current;
  size_t length = base_length;
  for (const auto& field : fields) {
    if (field == kId || field == kModstamp) continue;
    const size_t added = EncodedLength(core::StrCat(", ", field));
    if (base_length + added > max_encoded_chars) {
      return absl::InvalidArgumentError(core::StrCat("field ", shape.object_name, ".", field,
                                                     " does not fit in a query of at most ",
                                                     max_encoded_chars, " encoded characters"));
    }
    if (length + added > max_encoded_chars) {
      lists.push_back(std::move(current));
      current.clear();
      length = base_length;
    }
    current.push_back(field);
    length += added;
  }
  if (lists.empty()) {
    // Everything fits: the given order stays (it is the plan's, which record mapping expects).
    return std::vector<std::vector<std::string>>{SelectList(fields)};
  }
  if (!current.empty()) lists.push_back(std::move(current));
  for (auto& list : lists) {
    list.insert(list.begin(), {std::string(kId), std::string(kModstamp)});
  }
  return lists;
}

}  // namespace sfbridge::fetcher
