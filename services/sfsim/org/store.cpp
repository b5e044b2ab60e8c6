#include "sfsim/org/store.h"

#include <algorithm>

#include "sfsim/org/record_ids.h"

namespace sfbridge::sfsim::org {

int Store::FindObject(std::string_view name) const {
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (soql::EqualsIgnoreCase(objects[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

int Store::ObjectOfId(std::string_view id) const {
  if (id.size() < 3) return -1;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (id.substr(0, 3) == objects[i].key_prefix) return static_cast<int>(i);
  }
  return -1;
}

Table* Store::TableOf(std::string_view name) {
  const int index = FindObject(name);
  return index < 0 ? nullptr : tables[static_cast<std::size_t>(index)].get();
}

const Table* Store::TableOf(std::string_view name) const {
  const int index = FindObject(name);
  return index < 0 ? nullptr : tables[static_cast<std::size_t>(index)].get();
}

std::int64_t Store::NextStamp() {
  last_stamp_ms = std::max<std::int64_t>(last_stamp_ms, core::ToUnixMillis(clock.Now()));
  return last_stamp_ms;
}

std::string Store::NewId(Table& table) {
  return MakeRecordId(table.schema().def().key_prefix, pod, table.next_sequence++);
}

}  // namespace sfbridge::sfsim::org
