#pragma once

// The SOQL the fetcher sends. Pure and thread-safe.
//
// Every read is a keyset page over (SystemModstamp, Id), the order queryAll returns it in:
//   SELECT <fields> FROM <object>
//   WHERE [SystemModstamp <= <backfill_started_at> AND]
//         (SystemModstamp > T OR (SystemModstamp = T AND Id > 'X'))
//   ORDER BY SystemModstamp, Id LIMIT N
// where (T, 'X') is the cursor: the last (SystemModstamp, Id) already acknowledged by Kafka.
// Records sharing one SystemModstamp across a page boundary are neither skipped nor repeated.
// A backfill reads up to the moment it started (inclusive); polling then starts at that moment
// (SystemModstamp = started_at AND Id > '' onwards), so the two overlap at most in the records
// stamped exactly then, which are idempotent repeats (invariant 3).
//
// Wide objects: a select list can make the URL longer than Salesforce accepts (~16,000
// characters). SplitFieldList cuts it into several select lists, each led by Id and
// SystemModstamp. The caller reads a page with the first list (which fixes the page: its rows
// and its last key E) and then each other list over the same window, cursor < key <= E
// (KeysetQuery::through), and merges rows by Id. Merging stays consistent by comparing
// SystemModstamp: a row is published only when every list returned it with the same
// SystemModstamp. A row that a later list lacks was changed after the first list read it; its
// new SystemModstamp lies after E, so the cursor reaches it again and it is read whole then. A
// later list returning a row the first did not, or another SystemModstamp for a row, makes the
// page inconsistent: nothing is published and the page is read again from the same cursor.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/control/org_settings.h"

namespace sfbridge::fetcher {

// A keyset read of one object.
struct KeysetQuery {
  std::string object_name;
  // The select list, in order. Id and SystemModstamp are put first when missing.
  std::vector<std::string> fields;
  // Read strictly after this key; nullopt: from the beginning.
  std::optional<control::Cursor> after;
  // Read up to and including this key (the window of a split page's later field lists).
  std::optional<control::Cursor> through;
  // SystemModstamp <= this (a backfill's start, UTC ms).
  std::optional<int64_t> modstamp_at_most_ms;
  int limit = 0;  // 0: no LIMIT
};

std::string BuildKeysetQuery(const KeysetQuery& query);

// A backfill page: everything stamped up to `started_at_ms`, after `after`.
std::string BuildBackfillQuery(std::string_view object_name, const std::vector<std::string>& fields,
                               const std::optional<control::Cursor>& after, int64_t started_at_ms,
                               int limit);
// A polling page: everything after `after`.
std::string BuildPollQuery(std::string_view object_name, const std::vector<std::string>& fields,
                           const control::Cursor& after, int limit);
// "SELECT COUNT() FROM <object>": the backfill's estimate.
std::string BuildCountQuery(std::string_view object_name);

// 'text' with backslash escapes for ' " \ and control characters (reference §3).
std::string QuoteSoqlString(std::string_view text);

// The query's length once percent-encoded into a URL's q= parameter.
size_t EncodedLength(std::string_view soql);

// Salesforce's URL limit is ~16,000 characters; the path, host and "?q=" take the rest.
inline constexpr size_t kMaxEncodedSoqlChars = 15'000;

// Cuts `fields` into select lists such that `shape` (its own `fields` ignored) with any of the
// lists encodes to at most `max_encoded_chars`. Pass the longest form the caller will send (with
// `after`, `through` and the bound set). When everything fits, the one list is `fields` as given
// (Id and SystemModstamp put first only when missing); otherwise every list starts with Id and
// SystemModstamp, followed by the other fields in their order. Errors: kInvalidArgument when a
// single field cannot fit even alone beside Id and SystemModstamp.
absl::StatusOr<std::vector<std::vector<std::string>>> SplitFieldList(
    const KeysetQuery& shape, const std::vector<std::string>& fields,
    size_t max_encoded_chars = kMaxEncodedSoqlChars);

}  // namespace sfbridge::fetcher
