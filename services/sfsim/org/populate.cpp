#include "sfsim/org/populate.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "common/core/strings.h"
#include "sfsim/org/generator.h"
#include "sfsim/org/random.h"

namespace sfbridge::sfsim::org {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kSpanMs = 730 * kDayMs;

absl::Status Error(absl::Status (*make)(absl::string_view), const std::string& message) {
  return make(absl::string_view(message.data(), message.size()));
}

}  // namespace

absl::Status Populate(Store& store, const OrgOptions& options, std::int64_t now_ms) {
  for (const auto& [name, count] : options.counts) {
    if (store.FindObject(name) < 0) {
      return Error(absl::InvalidArgumentError, core::StrCat("unknown object in counts: ", name));
    }
    if (count < 0) {
      return Error(absl::InvalidArgumentError, core::StrCat("negative count for ", name));
    }
  }
  const Generator generator(store, now_ms);
  const int burst = std::max(1, options.burst_size);
  const std::int64_t start = now_ms - kSpanMs;
  for (std::size_t object = 0; object < store.objects.size(); ++object) {
    const ObjectDef& def = store.objects[object];
    Table& table = *store.tables[object];
    const ObjectSchema& schema = table.schema();
    std::int64_t count = 0;
    for (const auto& [name, n] : options.counts) {
      if (soql::EqualsIgnoreCase(name, def.name)) count = n;
    }
    if (def.name == "User") count = std::max<std::int64_t>(count, 1);
    if (count == 0) continue;
    for (const FieldDef& field : def.fields) {
      if (field.type != "reference" || field.nillable || !field.createable) continue;
      const Table* parent = store.TableOf(field.reference_to.front());
      if (parent == nullptr || parent->live().empty()) {
        return Error(absl::FailedPreconditionError,
                     core::StrCat(def.name, " records need ", field.reference_to.front(),
                                  " records (", field.name, " is required)"));
      }
    }
    const Table& users = *store.TableOf("User");
    Random random(MixSeed(options.seed, object + 1));
    const std::int64_t bursts = (count + burst - 1) / burst;
    std::int64_t stamp = start;
    for (std::int64_t k = 0; k < count; ++k) {
      if (k % burst == 0) {
        const std::int64_t slot = kSpanMs / bursts;
        stamp = start + (k / burst) * slot + random.Between(0, std::max<std::int64_t>(slot / 2, 0));
      }
      std::vector<soql::Value> values = generator.NewRecord(table, random, table.next_sequence);
      auto record = std::make_shared<RecordVersion>();
      record->id = store.NewId(table);
      if (schema.auto_number) {
        values[*schema.auto_number] = soql::Value::String(table.NextAutoNumber());
      }
      const std::string& creator =
          users.live().empty() ? record->id : users.live()[random.Below(users.live().size())]->id;
      const std::string& modifier =
          users.live().empty() ? record->id : users.live()[random.Below(users.live().size())]->id;
      values[schema.id] = soql::Value::String(record->id);
      values[schema.is_deleted] = soql::Value::Boolean(false);
      values[schema.created_date] =
          soql::Value::DateTime(stamp - random.Between(0, 30) * kDayMs - random.Below(kDayMs));
      values[schema.created_by] = soql::Value::String(creator);
      values[schema.last_modified_date] = soql::Value::DateTime(stamp);
      values[schema.last_modified_by] = soql::Value::String(modifier);
      values[schema.system_modstamp] = soql::Value::DateTime(stamp);
      if (schema.owner && values[*schema.owner].IsNull()) {
        values[*schema.owner] = soql::Value::String(creator);
      }
      record->system_modstamp_ms = stamp;
      record->values = std::move(values);
      table.Put(std::move(record));
      store.last_stamp_ms = std::max(store.last_stamp_ms, stamp);
    }
  }
  store.api_user_id = store.TableOf("User")->live().front()->id;
  return absl::OkStatus();
}

}  // namespace sfbridge::sfsim::org
