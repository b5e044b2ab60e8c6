#include "sfsim/org/org.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "common/core/strings.h"
#include "sfsim/org/api_errors.h"
#include "sfsim/org/catalog.h"
#include "sfsim/org/churn.h"
#include "sfsim/org/populate.h"
#include "sfsim/org/record_ids.h"
#include "sfsim/org/store.h"
#include "sfsim/org/writer.h"
#include "sfsim/soql/errors.h"
#include "sfsim/soql/evaluator.h"
#include "sfsim/soql/record_id.h"

namespace sfbridge::sfsim::org {
namespace {

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kMaxReplicationIds = 600'000;

// The live records of one object, optionally followed by its recycle bin.
class TableRecords final : public soql::RecordSet {
 public:
  TableRecords(const Table& table, bool include_deleted)
      : live_(table.live()), bin_(include_deleted ? &table.bin() : nullptr) {}
  std::size_t Size() const override { return live_.size() + (bin_ ? bin_->size() : 0); }
  const soql::RecordView& At(std::size_t index) const override {
    return index < live_.size() ? *live_[index] : *(*bin_)[index - live_.size()];
  }
  const RecordPtr& Ptr(std::size_t index) const {
    return index < live_.size() ? live_[index] : (*bin_)[index - live_.size()];
  }

 private:
  const std::vector<RecordPtr>& live_;
  const std::vector<RecordPtr>* bin_;
};

// getUpdated/getDeleted ignore seconds: the window is [start, end) in whole minutes.
std::optional<ApiError> CheckWindow(std::int64_t* start_ms, std::int64_t* end_ms,
                                    std::int64_t now_ms, int max_days) {
  *start_ms -= *start_ms % kMinuteMs;
  *end_ms -= *end_ms % kMinuteMs;
  if (*end_ms < *start_ms) return InvalidReplicationDate("EndDate before StartDate");
  if (*start_ms < now_ms - max_days * kDayMs) {
    return InvalidReplicationDate("startDate must chronologically precede endDate and be within " +
                                  std::to_string(max_days) + " days of the current date");
  }
  return std::nullopt;
}

}  // namespace

struct Org::State {
  explicit State(core::Clock& clock) : store(clock) {}
  Store store;
};

Org::Org() = default;
Org::~Org() = default;

absl::StatusOr<std::unique_ptr<Org>> Org::Create(const OrgOptions& options, core::Clock& clock) {
  std::unique_ptr<Org> org(new Org());
  org->state_ = std::make_unique<State>(clock);
  Store& store = org->state_->store;
  store.org_id = options.org_id.empty() ? OrgIdFromSeed(options.seed) : options.org_id;
  store.pod = PodFromOrgId(store.org_id);
  std::vector<CatalogEntry> catalog = BuildCatalog();
  store.objects.reserve(catalog.size());
  for (CatalogEntry& entry : catalog) {
    // Room for fields added at run time without moving the others (readers keep pointers).
    entry.def.fields.reserve(entry.def.fields.size() + kMaxAddedFields);
    store.objects.push_back(std::move(entry.def));
  }
  for (std::size_t i = 0; i < catalog.size(); ++i) {
    store.schemas.push_back(
        std::make_unique<ObjectSchema>(store.objects[i], std::move(catalog[i].formulas)));
    store.tables.push_back(std::make_unique<Table>(*store.schemas.back()));
  }
  if (absl::Status status = Populate(store, options, core::ToUnixMillis(clock.Now()));
      !status.ok()) {
    return status;
  }
  return org;
}

Result<bool> Org::AddField(std::string_view object, FieldDef field) {
  Store& store = state_->store;
  std::unique_lock lock(store.mu);
  const int index = store.FindObject(object);
  if (index < 0) return ApiError{404, "NOT_FOUND", core::StrCat("no object ", object), {}};
  ObjectDef& def = store.objects[static_cast<std::size_t>(index)];
  ObjectSchema& schema = *store.schemas[static_cast<std::size_t>(index)];
  if (schema.FindField(field.name)) {
    return ApiError{400,
                    "DUPLICATE_DEVELOPER_NAME",
                    core::StrCat("a field named ", field.name, " exists on ", def.name),
                    {field.name}};
  }
  if (def.fields.size() == def.fields.capacity()) {
    return ApiError{400, "LIMIT_EXCEEDED", core::StrCat(def.name, " cannot take more fields"), {}};
  }
  def.fields.push_back(std::move(field));
  schema.AddField();
  Table& table = *store.tables[static_cast<std::size_t>(index)];
  std::vector<RecordPtr> all = table.live();
  all.insert(all.end(), table.bin().begin(), table.bin().end());
  for (const RecordPtr& record : all) {
    auto widened = std::make_shared<RecordVersion>(*record);
    widened->values.emplace_back();
    table.Put(std::move(widened));
  }
  return true;
}

const std::string& Org::org_id() const { return state_->store.org_id; }

const std::vector<ObjectDef>& Org::objects() const { return state_->store.objects; }

const ObjectDef* Org::FindObject(std::string_view name) const {
  const int index = state_->store.FindObject(name);
  return index < 0 ? nullptr : &state_->store.objects[static_cast<std::size_t>(index)];
}

const ObjectDef* Org::ObjectOfId(std::string_view id) const {
  const int index = state_->store.ObjectOfId(id);
  return index < 0 ? nullptr : &state_->store.objects[static_cast<std::size_t>(index)];
}

Result<QueryResult> Org::Query(std::string_view soql, bool include_deleted) const {
  const Store& store = state_->store;
  absl::StatusOr<soql::Query> parsed = soql::Parse(soql);
  if (!parsed.ok()) return FromQueryStatus(parsed.status());
  const int index = store.FindObject(parsed->object);
  if (index < 0) return FromQueryStatus(soql::InvalidTypeError(parsed->object));
  const ObjectSchema& schema = *store.schemas[static_cast<std::size_t>(index)];
  absl::StatusOr<soql::BoundQuery> bound = soql::Bind(*parsed, schema);
  if (!bound.ok()) return FromQueryStatus(bound.status());

  QueryResult result;
  result.object = &schema.def();
  result.selected = bound->SelectedFields();
  result.count_only = bound->IsCount();
  std::shared_lock lock(store.mu);
  const TableRecords records(*store.tables[static_cast<std::size_t>(index)], include_deleted);
  if (result.count_only) {
    result.total_size = static_cast<std::int64_t>(soql::Count(*bound, records));
    return result;
  }
  const std::vector<std::size_t> rows = soql::Execute(*bound, records);
  result.records.reserve(rows.size());
  for (std::size_t row : rows) result.records.push_back(records.Ptr(row));
  result.total_size = static_cast<std::int64_t>(result.records.size());
  return result;
}

RecordPtr Org::Get(std::string_view id, bool include_deleted) const {
  const Store& store = state_->store;
  const std::optional<std::string> canonical = soql::CanonicalId(id);
  if (!canonical) return nullptr;
  const int index = store.ObjectOfId(*canonical);
  if (index < 0) return nullptr;
  std::shared_lock lock(store.mu);
  RecordPtr record = store.tables[static_cast<std::size_t>(index)]->Find(*canonical);
  if (record && record->is_deleted && !include_deleted) return nullptr;
  return record;
}

SaveResult Org::Create(std::string_view object, const InputRecord& fields) {
  std::unique_lock lock(state_->store.mu);
  return Writer(state_->store, state_->store.NextStamp(), nullptr).Create(object, fields);
}

SaveResult Org::Update(std::string_view object, std::string_view id, const InputRecord& fields) {
  std::unique_lock lock(state_->store.mu);
  return Writer(state_->store, state_->store.NextStamp(), nullptr).Update(object, id, fields);
}

SaveResult Org::Delete(std::string_view id) {
  std::unique_lock lock(state_->store.mu);
  return Writer(state_->store, state_->store.NextStamp(), nullptr).Delete(id);
}

SaveResult Org::Undelete(std::string_view id) {
  std::unique_lock lock(state_->store.mu);
  return Writer(state_->store, state_->store.NextStamp(), nullptr).Undelete(id);
}

SaveResult Org::Upsert(std::string_view object, std::string_view external_id_field,
                       std::string_view external_id_value, const InputRecord& fields) {
  std::unique_lock lock(state_->store.mu);
  return Writer(state_->store, state_->store.NextStamp(), nullptr)
      .Upsert(object, external_id_field, external_id_value, fields);
}

std::vector<SaveResult> Org::Apply(const std::vector<Operation>& ops, bool all_or_none) {
  Store& store = state_->store;
  std::unique_lock lock(store.mu);
  const std::int64_t previous_stamp = store.last_stamp_ms;
  UndoLog undo;
  Writer writer(store, store.NextStamp(), all_or_none ? &undo : nullptr);
  std::vector<SaveResult> results;
  results.reserve(ops.size());
  bool failed = false;
  for (const Operation& op : ops) {
    switch (op.kind) {
      case Operation::Kind::kCreate:
        results.push_back(writer.Create(op.object, op.fields));
        break;
      case Operation::Kind::kUpdate:
        results.push_back(writer.Update(op.object, op.id, op.fields));
        break;
      case Operation::Kind::kDelete:
        results.push_back(writer.Delete(op.id));
        break;
      case Operation::Kind::kUpsert:
        results.push_back(
            writer.Upsert(op.object, op.external_id_field, op.external_id_value, op.fields));
        break;
    }
    failed |= !results.back().success;
  }
  if (all_or_none && failed) {
    undo.Rollback();
    store.last_stamp_ms = previous_stamp;
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!results[i].success) continue;
      const bool created = ops[i].kind == Operation::Kind::kCreate ||
                           (ops[i].kind == Operation::Kind::kUpsert && results[i].created);
      const std::string id = ops[i].kind == Operation::Kind::kUpsert ? results[i].id : ops[i].id;
      results[i] = Failure(RolledBack(), created ? "" : id);
    }
  }
  return results;
}

Result<std::vector<std::string>> Org::UpdatedIds(std::string_view object, std::int64_t start_ms,
                                                 std::int64_t end_ms) const {
  const Store& store = state_->store;
  const Table* table = store.TableOf(object);
  if (table == nullptr) return UnknownObject(object);
  if (auto error = CheckWindow(&start_ms, &end_ms, core::ToUnixMillis(store.clock.Now()), 30)) {
    return *error;
  }
  std::vector<std::pair<std::int64_t, std::string>> found;
  {
    std::shared_lock lock(store.mu);
    for (const RecordPtr& record : table->live()) {
      if (record->system_modstamp_ms >= start_ms && record->system_modstamp_ms < end_ms) {
        found.emplace_back(record->system_modstamp_ms, record->id);
      }
    }
  }
  if (found.size() > kMaxReplicationIds) return ExceededIdLimit();
  std::sort(found.begin(), found.end());
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (auto& [stamp, id] : found) ids.push_back(std::move(id));
  return ids;
}

Result<std::vector<DeletedRecord>> Org::DeletedRecords(std::string_view object,
                                                       std::int64_t start_ms,
                                                       std::int64_t end_ms) const {
  const Store& store = state_->store;
  const Table* table = store.TableOf(object);
  if (table == nullptr) return UnknownObject(object);
  if (auto error = CheckWindow(&start_ms, &end_ms, core::ToUnixMillis(store.clock.Now()), 15)) {
    return *error;
  }
  std::vector<DeletedRecord> deleted;
  std::shared_lock lock(store.mu);
  for (const DeletedRecord& entry : table->deleted_log()) {
    if (entry.deleted_date_ms >= start_ms && entry.deleted_date_ms < end_ms) {
      deleted.push_back(entry);
    }
  }
  if (deleted.size() > kMaxReplicationIds) return ExceededIdLimit();
  return deleted;
}

void Org::Restore(const std::string& id, RecordPtr previous) {
  Store& store = state_->store;
  std::unique_lock lock(store.mu);
  const int object = store.ObjectOfId(id);
  if (object < 0) return;
  Table& table = *store.tables[static_cast<std::size_t>(object)];
  if (previous) {
    // An undone delete is no longer reported by getDeleted.
    if (!previous->is_deleted) {
      std::erase_if(table.deleted_log(), [&](const DeletedRecord& d) { return d.id == id; });
    }
    table.Put(std::move(previous));
  } else {
    table.Erase(id);
  }
}

int64_t Org::PurgeRecycleBin(std::string_view object) {
  Store& store = state_->store;
  std::unique_lock lock(store.mu);
  std::int64_t purged = 0;
  for (const auto& table : store.tables) {
    if (!object.empty() && !soql::EqualsIgnoreCase(object, table->schema().Name())) continue;
    std::vector<std::string> ids;
    for (const RecordPtr& record : table->bin()) ids.push_back(record->id);
    for (const std::string& id : ids) table->Erase(id);
    purged += static_cast<std::int64_t>(ids.size());
  }
  return purged;
}

std::map<std::string, int64_t> Org::Digest(std::string_view object, bool include_deleted) const {
  const Store& store = state_->store;
  std::map<std::string, int64_t> digest;
  const Table* table = store.TableOf(object);
  if (table == nullptr) return digest;
  std::shared_lock lock(store.mu);
  for (const RecordPtr& record : table->live())
    digest.emplace(record->id, record->system_modstamp_ms);
  if (include_deleted) {
    for (const RecordPtr& record : table->bin()) {
      digest.emplace(record->id, record->system_modstamp_ms);
    }
  }
  return digest;
}

int64_t Org::Count(std::string_view object, bool include_deleted) const {
  const Store& store = state_->store;
  const Table* table = store.TableOf(object);
  if (table == nullptr) return 0;
  std::shared_lock lock(store.mu);
  return static_cast<int64_t>(table->live().size() + (include_deleted ? table->bin().size() : 0));
}

int Org::ChurnStep(uint64_t seed, int changes, int burst) {
  return Churn(state_->store, seed, changes, burst);
}

}  // namespace sfbridge::sfsim::org
