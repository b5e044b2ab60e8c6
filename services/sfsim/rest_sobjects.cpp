// RestApi: /sobjects/{Name}[/...] — describe, single-record CRUD, upsert, getUpdated/getDeleted.

#include "common/core/strings.h"
#include "sfsim/body_json.h"
#include "sfsim/record_json.h"
#include "sfsim/rest_calls.h"
#include "sfsim/soql/record_id.h"

namespace sfbridge::sfsim {

using core::StrCat;

namespace {

std::vector<std::string_view> SplitPath(std::string_view rest) {
  std::vector<std::string_view> parts;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return parts;
}

Response NotFound() {
  return ErrorResponse(404, "NOT_FOUND", "The requested resource does not exist");
}

Response MethodNotAllowed(std::string_view method, std::string_view allowed) {
  return ErrorResponse(405, "METHOD_NOT_ALLOWED",
                       StrCat("HTTP Method '", method, "' not allowed. Allowed are ", allowed));
}

Response Created(const org::SaveResult& result, bool with_created, int status) {
  core::JsonWriter w;
  w.BeginObject()
      .Member("id", result.id)
      .Member("success", true)
      .Key("errors")
      .BeginArray()
      .EndArray();
  if (with_created) w.Member("created", result.created);
  w.EndObject();
  Response r;
  r.status = status;
  r.body = w.Take();
  return r;
}

Response NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Response LockError() {
  return ErrorResponse(400, "UNABLE_TO_LOCK_ROW",
                       "unable to obtain exclusive access to this record or 1 records");
}

// The selected fields of ?fields=A,B, or every field.
std::variant<std::vector<size_t>, Response> SelectedFields(const org::ObjectDef& object,
                                                           const std::string& list) {
  std::vector<size_t> selected;
  if (list.empty()) {
    for (size_t i = 0; i < object.fields.size(); ++i) selected.push_back(i);
    return selected;
  }
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string name = list.substr(pos, comma - pos);
    pos = comma + 1;
    if (name.empty()) continue;
    size_t i = 0;
    for (; i < object.fields.size(); ++i) {
      if (soql::EqualsIgnoreCase(object.fields[i].name, name)) break;
    }
    if (i == object.fields.size()) {
      return ErrorResponse(400, "INVALID_FIELD",
                           StrCat("No such column '", name, "' on sobject of type ", object.name));
    }
    selected.push_back(i);
  }
  return selected;
}

}  // namespace

Response RestApi::SObjects(Call& call, std::string_view rest) {
  std::vector<std::string_view> parts = SplitPath(rest);
  const std::string& method = call.request.method;
  if (parts.empty()) return NotFound();
  const org::ObjectDef* object = org_.FindObject(parts[0]);
  if (!object) {
    return ErrorResponse(404, "NOT_FOUND", "The requested resource does not exist");
  }
  if (parts.size() == 1) {
    if (method == "POST") {
      call.records = 1;
      if (call.lock_error) return LockError();
      org::Result<BodyRecord> body = ParseRecordJson(call.request.body, /*keep_id=*/true);
      if (auto* e = std::get_if<org::ApiError>(&body)) return ErrorFromApiErrors({*e});
      org::SaveResult saved = org_.Create(object->name, std::get<BodyRecord>(body).fields);
      if (!saved.success) return ErrorFromApiErrors(saved.errors);
      if (call.track_undo) call.undo.emplace_back(saved.id, saved.previous);
      return Created(saved, false, 201);
    }
    if (method != "GET") return MethodNotAllowed(method, "GET, POST");
    // The object's summary, as GET /sobjects/{Name} gives it: describeGlobal's entry.
    std::string global = DescribeGlobalJson({*object}, call.version);
    size_t open = global.find('[') + 1, close = global.rfind(']');
    Response r;
    r.body = StrCat("{\"objectDescribe\":", std::string_view(global).substr(open, close - open),
                    ",\"recentItems\":[]}");
    return r;
  }
  if (parts.size() == 2 && parts[1] == "describe") {
    if (method != "GET") return MethodNotAllowed(method, "GET");
    Response r;
    r.body = DescribeJson(*object, call.version);
    return r;
  }
  if (parts.size() == 2 && (parts[1] == "updated" || parts[1] == "deleted")) {
    if (method != "GET") return MethodNotAllowed(method, "GET");
    return Replication(call, *object, parts[1] == "deleted");
  }
  if (parts.size() == 2) {
    std::string id(parts[1]);
    if (!soql::CanonicalId(id)) {
      return ErrorResponse(404, "NOT_FOUND",
                           StrCat("Provided external ID field does not exist or is not "
                                  "accessible: ",
                                  id));
    }
    if (method == "GET") {
      org::RecordPtr record = org_.Get(id, /*include_deleted=*/true);
      if (!record || org_.ObjectOfId(record->id) != object) return NotFound();
      if (record->is_deleted) return ErrorResponse(404, "ENTITY_IS_DELETED", "entity is deleted");
      auto selected = SelectedFields(*object, call.request.Param("fields"));
      if (auto* r = std::get_if<Response>(&selected)) return *r;
      core::JsonWriter w;
      WriteRecord(w, *object, *record, std::get<std::vector<size_t>>(selected), call.version);
      call.records = 1;
      Response r;
      r.body = w.Take();
      return r;
    }
    if (method == "PATCH" || method == "DELETE") {
      call.records = 1;
      if (call.lock_error) return LockError();
      org::SaveResult saved;
      if (method == "PATCH") {
        org::Result<BodyRecord> body = ParseRecordJson(call.request.body, /*keep_id=*/true);
        if (auto* e = std::get_if<org::ApiError>(&body)) return ErrorFromApiErrors({*e});
        saved = org_.Update(object->name, id, std::get<BodyRecord>(body).fields);
      } else {
        org::RecordPtr current = org_.Get(id, /*include_deleted=*/true);
        if (current && org_.ObjectOfId(current->id) != object) return NotFound();
        saved = org_.Delete(id);
      }
      if (!saved.success) return ErrorFromApiErrors(saved.errors);
      if (call.track_undo) call.undo.emplace_back(saved.id, saved.previous);
      return NoContent();
    }
    return MethodNotAllowed(method, "GET, PATCH, DELETE");
  }
  if (parts.size() == 3) {
    if (method != "PATCH") return MethodNotAllowed(method, "PATCH");
    call.records = 1;
    if (call.lock_error) return LockError();
    org::Result<BodyRecord> body = ParseRecordJson(call.request.body, /*keep_id=*/true);
    if (auto* e = std::get_if<org::ApiError>(&body)) return ErrorFromApiErrors({*e});
    org::SaveResult saved = org_.Upsert(object->name, std::string(parts[1]), std::string(parts[2]),
                                        std::get<BodyRecord>(body).fields);
    if (!saved.success) return ErrorFromApiErrors(saved.errors);
    if (call.track_undo) call.undo.emplace_back(saved.id, saved.previous);
    return Created(saved, true, saved.created ? 201 : 200);
  }
  return NotFound();
}

Response RestApi::Replication(Call& call, const org::ObjectDef& object, bool deleted) {
  std::optional<int64_t> start = ParseIsoDateTime(call.request.Param("start"));
  std::optional<int64_t> end = ParseIsoDateTime(call.request.Param("end"));
  if (!start || !end) {
    return ErrorResponse(400, "INVALID_REPLICATION_DATE",
                         "start and end must be given as ISO 8601 datetimes, e.g. "
                         "2024-01-15T10:00:00Z");
  }
  // Minute granularity: seconds are dropped, as Salesforce does.
  int64_t start_ms = *start / 60'000 * 60'000, end_ms = *end / 60'000 * 60'000;
  int64_t now = core::ToUnixMillis(clock_.Now());
  int64_t latest = std::min(end_ms, now / 60'000 * 60'000);
  if (start_ms > end_ms) {
    return ErrorResponse(400, "INVALID_REPLICATION_DATE",
                         "startDate must chronologically "
                         "precede endDate by more than one "
                         "minute");
  }
  int64_t window_days = deleted ? 15 : 30;
  if (start_ms < now - window_days * 86'400'000) {
    return ErrorResponse(400, "INVALID_REPLICATION_DATE",
                         StrCat("startDate cannot be more than ", window_days, " days ago"));
  }
  core::JsonWriter w;
  w.BeginObject();
  if (deleted) {
    auto records = org_.DeletedRecords(object.name, start_ms, end_ms);
    if (auto* e = std::get_if<org::ApiError>(&records)) return ErrorFromApiErrors({*e});
    const auto& list = std::get<std::vector<org::DeletedRecord>>(records);
    if (list.size() > 600'000) {
      return ErrorResponse(400, "EXCEEDED_ID_LIMIT", "Too many ids: narrow the date range");
    }
    w.Key("deletedRecords").BeginArray();
    for (const org::DeletedRecord& d : list) {
      w.BeginObject()
          .Member("deletedDate", FormatIsoDateTime(d.deleted_date_ms))
          .Member("id", d.id)
          .EndObject();
    }
    w.EndArray().Member("earliestDateAvailable",
                        FormatIsoDateTime((now - 15 * 86'400'000LL) / 60'000 * 60'000));
  } else {
    auto ids = org_.UpdatedIds(object.name, start_ms, end_ms);
    if (auto* e = std::get_if<org::ApiError>(&ids)) return ErrorFromApiErrors({*e});
    const auto& list = std::get<std::vector<std::string>>(ids);
    if (list.size() > 600'000) {
      return ErrorResponse(400, "EXCEEDED_ID_LIMIT", "Too many ids: narrow the date range");
    }
    w.StringArray("ids", list);
  }
  w.Member("latestDateCovered", FormatIsoDateTime(latest)).EndObject();
  Response r;
  r.body = w.Take();
  return r;
}

}  // namespace sfbridge::sfsim
