#include "sfsim/org/churn.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "sfsim/org/generator.h"
#include "sfsim/org/random.h"
#include "sfsim/org/writer.h"

namespace sfbridge::sfsim::org {
namespace {

// A table picked with probability proportional to its live records; null when all are empty.
Table* PickTable(Store& store, Random& random) {
  std::size_t total = 0;
  for (const auto& table : store.tables) total += table->live().size();
  if (total == 0) return nullptr;
  std::size_t pick = random.Below(total);
  for (const auto& table : store.tables) {
    if (pick < table->live().size()) return table.get();
    pick -= table->live().size();
  }
  return nullptr;
}

bool UpdateOne(Table& table, const Generator& generator, Writer& writer, Random& random,
               const std::string& user) {
  const ObjectSchema& schema = table.schema();
  std::vector<std::size_t> changeable;
  for (std::size_t i = 0; i < schema.size(); ++i) {
    if (Generator::Changeable(schema, i)) changeable.push_back(i);
  }
  if (changeable.empty()) return false;
  const RecordPtr current = table.live()[random.Below(table.live().size())];
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<soql::Value> values = current->values;
    const int fields = 1 + static_cast<int>(random.Below(3));
    for (int i = 0; i < fields; ++i) {
      const std::size_t field = changeable[random.Below(changeable.size())];
      values[field] = generator.FieldValue(table, field, random, table.next_sequence);
    }
    schema.Recompute(values);
    if (schema.BrokenRule(values) != nullptr) continue;
    writer.Commit(table, std::move(values), current, false, user);
    return true;
  }
  return false;
}

bool CreateOne(Table& table, const Generator& generator, Writer& writer, Random& random,
               const std::string& user) {
  const ObjectSchema& schema = table.schema();
  std::vector<soql::Value> values = generator.NewRecord(table, random, table.next_sequence);
  for (std::size_t field : schema.unique_fields) {
    if (!table.FindUnique(field, values[field], {}).empty()) {
      if (!schema.field(field).nillable) return false;
      values[field] = soql::Value();
    }
  }
  for (std::size_t i = 0; i < schema.size(); ++i) {
    const FieldDef& field = schema.field(i);
    if (field.createable && !field.nillable && values[i].IsNull() && !field.defaulted_on_create) {
      return false;  // e.g. a required parent with no live records left
    }
  }
  if (schema.owner && values[*schema.owner].IsNull())
    values[*schema.owner] = soql::Value::String(user);
  writer.Commit(table, std::move(values), nullptr, false, user);
  return true;
}

}  // namespace

int Churn(Store& store, std::uint64_t seed, int changes, int burst) {
  Random random(MixSeed(seed, 0xC4A2));
  burst = std::max(1, burst);
  int made = 0;
  for (int done = 0; done < changes;) {
    std::unique_lock lock(store.mu);
    const std::int64_t stamp = store.NextStamp();
    Writer writer(store, stamp, nullptr);
    const Generator generator(store, stamp);
    const Table& users = *store.TableOf("User");
    for (int i = 0; i < burst && done < changes; ++i, ++done) {
      Table* table = PickTable(store, random);
      if (table == nullptr) return made;
      const std::string user = users.live()[random.Below(users.live().size())]->id;
      const std::uint64_t roll = random.Below(100);
      const ObjectDef& def = table->schema().def();
      bool changed = false;
      if (roll >= 90 && def.deletable) {
        const RecordPtr current = table->live()[random.Below(table->live().size())];
        writer.Commit(*table, current->values, current, true, user);
        table->deleted_log().push_back(DeletedRecord{current->id, stamp});
        changed = true;
      } else if (roll >= 80 && def.name != "User") {
        changed = CreateOne(*table, generator, writer, random, user);
      } else {
        changed = UpdateOne(*table, generator, writer, random, user);
      }
      if (changed) ++made;
    }
  }
  return made;
}

}  // namespace sfbridge::sfsim::org
