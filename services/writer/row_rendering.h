#pragma once

// Record changes rendered as rows of a synced table, in the form the statements that write them
// take: COPY text lines (COPY and staging) or text parameters (plain statements). Validation and
// parking are the same either way. Pure: touches nothing but its arguments and results, so it
// runs on helper threads too.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/postgres/connection.h"
#include "writer/record_view.h"
#include "writer/table_schema.h"
#include "writer/values.h"

namespace sfbridge::writer {

struct Column {
  const std::string* field;  // API name
  std::string name;          // unquoted
  std::string type;
  std::string base_type;  // without a type modifier: what a parameter is cast to
  ColumnKind kind;
};

// API field name -> column index: open addressing over a power-of-two table with FNV-1a, which
// is several times cheaper per lookup than std::unordered_map for names this short, and the
// lookup runs once per field of every change.
class FieldIndex {
 public:
  void Add(std::string_view name, int column);
  // -1 when `name` has no column.
  int Find(std::string_view name) const;

 private:
  struct Slot {
    std::string_view name;
    int column = -1;
  };
  static size_t Hash(std::string_view s);
  void Insert(std::string_view name, int column);
  void Grow();
  std::vector<Slot> slots_;
  size_t mask_ = 0, count_ = 0;
};

// A table's columns (every mapped field but Id) as the rendering and the writes use them.
// Refers into `mapping`, which must outlive it.
struct Layout {
  explicit Layout(const TableMapping& mapping);
  std::vector<Column> columns;
  FieldIndex by_field;
};

enum class RowFormat {
  // One COPY text line per change in Rendering::buf, of the staging layout:
  //   id, _modstamp_ms, every column (absent ones \N) | _deleted, _group
  // where [begin, body_end) is also a line of the table's own layout (id, _modstamp_ms, columns).
  kCopyText,
  // Rendering::params: id, _modstamp_ms, then (not for a deletion) every column's text, nullopt
  // for NULL and for an absent field (the group's mask tells them apart).
  kParams,
};

struct Line {
  uint32_t begin = 0, body_end = 0, end = 0;  // kCopyText: end is past the '\n'
  int group = -1;                             // field set; -1 for a deletion
};

// Every change of a call rendered, by position in the `indexes` given to Render. Changes that
// cannot be applied are parked here and take no part in choosing the newest version.
struct Rendering {
  std::string buf;                                     // kCopyText
  std::vector<std::vector<postgres::Value>> params;    // kParams
  std::vector<Line> lines;                             // group (and kCopyText offsets)
  std::vector<bool> valid;                             // false: parked
  std::vector<std::pair<size_t, std::string>> parked;  // position, reason
  std::map<std::string, int> groups;                   // present-column mask ('0'/'1') -> group
};

// Renders changes[indexes[k]] for each k. A change is parked for an empty record_id, a
// SystemModstamp <= 0, a field with no column (but "Id", which is ignored) or a value that does
// not fit its column (values.h); its reason names the object and field, never the value.
Rendering Render(const std::vector<ChangeView>& changes, const std::vector<size_t>& indexes,
                 const Layout& layout, std::string_view object, RowFormat format);

}  // namespace sfbridge::writer
