#include "sfsim/org/table.h"

#include <utility>

namespace sfbridge::sfsim::org {

RecordPtr Table::Find(std::string_view id) const {
  if (id.size() < 15) return nullptr;
  auto it = slots_.find(Key(id));
  if (it == slots_.end()) return nullptr;
  const Slot slot = it->second;
  return slot.in_bin ? bin_[slot.position] : live_[slot.position];
}

void Table::RemoveAt(Slot slot) {
  std::vector<RecordPtr>& records = slot.in_bin ? bin_ : live_;
  if (slot.position + 1 != records.size()) {
    records[slot.position] = std::move(records.back());
    slots_[Key(records[slot.position]->id)] = slot;
  }
  records.pop_back();
}

void Table::Put(RecordPtr record) {
  const std::string key = Key(record->id);
  auto it = slots_.find(key);
  if (it != slots_.end()) {
    const Slot old = it->second;
    const RecordPtr& previous = old.in_bin ? bin_[old.position] : live_[old.position];
    if (!old.in_bin) IndexUnique(*previous, false);
    if (old.in_bin == record->is_deleted) {
      if (!record->is_deleted) IndexUnique(*record, true);
      (old.in_bin ? bin_ : live_)[old.position] = std::move(record);
      return;
    }
    RemoveAt(old);
  }
  std::vector<RecordPtr>& records = record->is_deleted ? bin_ : live_;
  if (!record->is_deleted) IndexUnique(*record, true);
  slots_[key] = Slot{record->is_deleted, static_cast<std::uint32_t>(records.size())};
  records.push_back(std::move(record));
}

void Table::Erase(std::string_view id) {
  auto it = slots_.find(Key(id));
  if (it == slots_.end()) return;
  const Slot slot = it->second;
  if (!slot.in_bin) IndexUnique(*live_[slot.position], false);
  slots_.erase(it);
  RemoveAt(slot);
}

void Table::IndexUnique(const RecordVersion& record, bool add) {
  for (std::size_t i = 0; i < unique_.size(); ++i) {
    const soql::Value& value = record.values[schema_.unique_fields[i]];
    if (value.IsNull()) continue;
    std::string key = Folded(value.ToString());
    if (add) {
      unique_[i][std::move(key)] = record.id;
    } else {
      auto it = unique_[i].find(key);
      if (it != unique_[i].end() && it->second == record.id) unique_[i].erase(it);
    }
  }
}

std::string_view Table::FindUnique(std::size_t field, const soql::Value& value,
                                   std::string_view except_id) const {
  if (value.IsNull()) return {};
  for (std::size_t i = 0; i < unique_.size(); ++i) {
    if (schema_.unique_fields[i] != field) continue;
    auto it = unique_[i].find(Folded(value.ToString()));
    if (it == unique_[i].end() || it->second == except_id) return {};
    return it->second;
  }
  return {};
}

std::string Table::NextAutoNumber() {
  std::string number = std::to_string(next_auto_number_++);
  if (number.size() < 6) number.insert(0, 6 - number.size(), '0');
  return "INV-" + number;
}

}  // namespace sfbridge::sfsim::org
