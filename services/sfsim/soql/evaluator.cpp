#include "sfsim/soql/evaluator.h"

#include <algorithm>
#include <bit>
#include <optional>

#include "sfsim/soql/errors.h"

namespace sfbridge::sfsim::soql {

int BoundQuery::Compare(const RecordView& a, const RecordView& b) const {
  for (const OrderKey& key : order_by_) {
    const Value& x = a.Get(key.field);
    const Value& y = b.Get(key.field);
    if (x.IsNull() || y.IsNull()) {
      if (x.IsNull() && y.IsNull()) continue;
      // Null placement is independent of the direction.
      return x.IsNull() == key.nulls_first ? -1 : 1;
    }
    const int c = CompareValues(x, y, key.collation);
    if (c != 0) return key.descending ? -c : c;
  }
  return 0;
}

std::pair<std::size_t, std::size_t> BoundQuery::Window(std::size_t matched) const {
  const std::size_t begin = std::min<std::size_t>(matched, static_cast<std::size_t>(offset_));
  std::size_t end = matched;
  if (limit_ && static_cast<std::uint64_t>(*limit_) < end - begin) {
    end = begin + static_cast<std::size_t>(*limit_);
  }
  return {begin, end};
}

absl::StatusOr<BoundQuery> Bind(const Query& query, const ObjectView& object) {
  if (!EqualsIgnoreCase(query.object, object.Name())) return InvalidTypeError(query.object);
  const std::vector<FieldInfo>& fields = object.Fields();
  BoundQuery bound;
  bound.count_ = query.count;
  bound.limit_ = query.limit;
  bound.offset_ = query.offset.value_or(0);
  if (bound.offset_ > kMaxOffset) {
    return NumberOutsideValidRangeError("Maximum SOQL offset allowed is " +
                                        std::to_string(kMaxOffset));
  }

  std::vector<bool> selected(fields.size(), false);
  bool needs_fields_limit = false;
  for (const SelectItem& item : query.select) {
    if (item.kind == SelectItem::Kind::kField) {
      const std::optional<std::size_t> index = object.FindField(item.field);
      if (!index) return NoSuchColumnError(item.field, object.Name());
      if (selected[*index]) {
        return MalformedQueryError("duplicate field selected: " + item.field);
      }
      selected[*index] = true;
      bound.selected_.push_back(*index);
      continue;
    }
    needs_fields_limit |= item.fields != FieldsFunction::kStandard;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const bool wanted = item.fields == FieldsFunction::kAll ||
                          fields[i].custom == (item.fields == FieldsFunction::kCustom);
      if (wanted && !selected[i]) {
        selected[i] = true;
        bound.selected_.push_back(i);
      }
    }
  }
  if (needs_fields_limit && (!query.limit || *query.limit > kMaxFieldsFunctionLimit)) {
    return MalformedQueryError("The SOQL FIELDS function must have a LIMIT of at most " +
                               std::to_string(kMaxFieldsFunctionLimit));
  }

  if (query.where) {
    absl::StatusOr<Predicate> where = Predicate::Compile(*query.where, object);
    if (!where.ok()) return where.status();
    bound.where_ = *std::move(where);
  }

  for (const OrderItem& item : query.order_by) {
    const std::optional<std::size_t> index = object.FindField(item.field);
    if (!index) return NoSuchColumnError(item.field, object.Name());
    const FieldInfo& field = fields[*index];
    if (!IsSortable(field.type)) {
      return InvalidFilterError("field '" + field.name + "' can not be sorted in a query call");
    }
    OrderKey key;
    key.field = *index;
    key.descending = item.descending;
    key.nulls_first =
        item.nulls == NullsOrder::kDefault ? !item.descending : item.nulls == NullsOrder::kFirst;
    key.collation = CollationOf(field.type);
    bound.order_by_.push_back(key);
  }
  return bound;
}

namespace {

// A matched record while sorting. `null_rank` and `prefix` encode the first ORDER BY key so that
// most comparisons are two integer compares: if (null_rank, prefix) of a is less than that of b,
// then a sorts first; when they are equal, the full comparison decides.
struct Row {
  const RecordView* record;
  std::size_t index;
  std::uint64_t prefix;
  std::uint8_t null_rank;
};

std::uint64_t OrderedBits(std::int64_t value) {
  return static_cast<std::uint64_t>(value) ^ (std::uint64_t{1} << 63);
}

std::uint64_t OrderedBits(double value) {
  if (value == 0) value = 0;  // -0.0 and 0.0 compare equal
  const auto bits = std::bit_cast<std::uint64_t>(value);
  return (bits & (std::uint64_t{1} << 63)) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
}

// The first 8 bytes, big-endian, folded when the collation is case-insensitive. Shorter text is
// padded with zero bytes, so a tie falls back to the full comparison.
std::uint64_t TextPrefix(std::string_view text, TextCollation collation) {
  std::uint64_t prefix = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    char c = i < text.size() ? text[i] : '\0';
    if (collation == TextCollation::kCaseInsensitive) c = FoldCase(c);
    prefix = (prefix << 8) | static_cast<unsigned char>(c);
  }
  return prefix;
}

// Fills the rows' prefixes for `key`. Returns false (prefixes unusable) when the non-null values
// are not all of one kind, or NaN, where the encoding would disagree with CompareValues.
bool FillSortPrefixes(const OrderKey& key, std::vector<Row>& rows) {
  std::optional<ValueKind> kind;
  for (Row& row : rows) {
    const Value& value = row.record->Get(key.field);
    if (value.IsNull()) {
      row.null_rank = key.nulls_first ? 0 : 2;
      row.prefix = 0;
      continue;
    }
    if (!kind) kind = value.Kind();
    if (value.Kind() != *kind) return false;
    row.null_rank = 1;
    switch (value.Kind()) {
      case ValueKind::kNumber:
        if (value.Double() != value.Double()) return false;
        row.prefix = OrderedBits(value.Double());
        break;
      case ValueKind::kString:
        row.prefix = TextPrefix(value.Text(), key.collation);
        break;
      default:
        row.prefix = OrderedBits(value.Millis());
        break;
    }
    if (key.descending) row.prefix = ~row.prefix;
  }
  return true;
}

}  // namespace

std::vector<std::size_t> Execute(const BoundQuery& query, const RecordSet& records) {
  std::vector<Row> rows;
  const std::size_t size = records.Size();
  for (std::size_t i = 0; i < size; ++i) {
    const RecordView& record = records.At(i);
    if (query.Matches(record)) rows.push_back(Row{&record, i, 0, 0});
  }
  const auto [begin, end] = query.Window(rows.size());
  if (!query.OrderBy().empty() && begin < end) {
    const bool use_prefix = FillSortPrefixes(query.OrderBy().front(), rows);
    // The index breaks ties, which makes the unstable sorts below deterministic and stable.
    auto before = [&query, use_prefix](const Row& a, const Row& b) {
      if (use_prefix) {
        if (a.null_rank != b.null_rank) return a.null_rank < b.null_rank;
        if (a.prefix != b.prefix) return a.prefix < b.prefix;
      }
      const int c = query.Compare(*a.record, *b.record);
      return c != 0 ? c < 0 : a.index < b.index;
    };
    if (end < rows.size() / 2) {
      std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(end), rows.end(),
                        before);
    } else {
      std::sort(rows.begin(), rows.end(), before);
    }
  }
  std::vector<std::size_t> result;
  result.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) result.push_back(rows[i].index);
  return result;
}

std::size_t Count(const BoundQuery& query, const RecordSet& records) {
  std::size_t matched = 0;
  const std::size_t size = records.Size();
  for (std::size_t i = 0; i < size; ++i) {
    if (query.Matches(records.At(i))) ++matched;
  }
  const auto [begin, end] = query.Window(matched);
  return end - begin;
}

}  // namespace sfbridge::sfsim::soql
