#include "sfsim/admin_api.h"

#include <simdjson.h>

#include "common/core/json_writer.h"
#include "common/core/strings.h"
#include "sfsim/body_json.h"
#include "sfsim/org/field_builders.h"
#include "sfsim/rest_calls.h"

namespace sfbridge::sfsim {
namespace {

using core::StrCat;

Response Json(std::string body, int status = 200) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response SaveResultResponse(const org::SaveResult& result) {
  core::JsonWriter w;
  WriteSaveResult(w, result, false);
  return Json(w.Take(), result.success ? 200 : 400);
}

// Reads an integer member of a small JSON object; nullopt when absent or not an integer.
std::optional<int64_t> IntMember(simdjson::dom::element doc, const char* name) {
  int64_t v;
  if (doc[name].get_int64().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

// A custom field from {"name":"Region__c","type":"string","label":"Region","length":80}.
std::variant<org::FieldDef, Response> FieldFromJson(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return ErrorResponse(400, "JSON_PARSER_ERROR", "expected a JSON object");
  }
  std::string_view name, type = "string", label;
  if (doc["name"].get_string().get(name) != simdjson::SUCCESS || !name.ends_with("__c") ||
      name.size() < 4) {
    return ErrorResponse(400, "INVALID_FIELD", "name: a custom field's API name, ending in __c");
  }
  if (doc["type"].get_string().get(type) != simdjson::SUCCESS) type = "string";
  if (doc["label"].get_string().get(label) != simdjson::SUCCESS) label = name;
  const int64_t length = IntMember(doc, "length").value_or(255);
  std::string n(name), l(label);
  org::FieldDef field;
  if (type == "string" && length >= 1 && length <= 255) {
    field = org::TextField(n, l, static_cast<int>(length));
  } else if (type == "double") {
    field = org::DoubleField(n, l, 18, 2);
  } else if (type == "currency") {
    field = org::CurrencyField(n, l);
  } else if (type == "boolean") {
    field = org::BooleanField(n, l);
  } else if (type == "int") {
    field = org::IntField(n, l);
  } else if (type == "date") {
    field = org::DateField(n, l);
  } else if (type == "datetime") {
    field = org::DateTimeField(n, l);
  } else {
    return ErrorResponse(400, "INVALID_TYPE",
                         StrCat("type: string (length 1-255), double, currency, boolean, int, "
                                "date or datetime, not ",
                                type));
  }
  return org::Custom(std::move(field));
}

std::string BulkJson(const BulkSettings& s, const BulkFaults& f, int64_t remaining) {
  core::JsonWriter w;
  w.BeginObject()
      .Key("recordsPerSecond")
      .Raw(StrCat(s.records_per_second))
      .Member("dailyMax", s.daily_max)
      .Member("dailyRemaining", remaining)
      .Member("failNext", f.fail_next)
      .Member("cutResults", f.cut_results)
      .StringArray("failingObjects", f.failing_objects)
      .StringArray("refusedFields", f.refused_fields)
      .Member("errorMessage", f.error_message)
      .EndObject();
  return w.Take();
}

// Applies {"recordsPerSecond","dailyMax","dailyUsed","failNext","cutResults","failingObjects",
// "refusedFields","errorMessage"} to the Bulk query jobs; nullopt when done, else the 400 to
// answer.
std::optional<Response> ApplyBulk(BulkQueryJobs& bulk, const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return ErrorResponse(400, "JSON_PARSER_ERROR", "expected a JSON object");
  }
  std::optional<double> rate;
  if (doc["recordsPerSecond"].error() != simdjson::NO_SUCH_FIELD) {
    double v = 0;
    if (doc["recordsPerSecond"].get_double().get(v) != simdjson::SUCCESS || !(v > 0)) {
      return ErrorResponse(400, "INVALID_FIELD", "recordsPerSecond must be a number above 0");
    }
    rate = v;
  }
  BulkFaults faults = bulk.faults();
  for (auto [key, names] : {std::pair{"failingObjects", &faults.failing_objects},
                            std::pair{"refusedFields", &faults.refused_fields}}) {
    auto e = doc[key];
    if (e.error() == simdjson::NO_SUCH_FIELD) continue;
    const std::string refusal = StrCat(key, " must be an array of names");
    simdjson::dom::array array;
    if (e.get_array().get(array) != simdjson::SUCCESS) {
      return ErrorResponse(400, "INVALID_FIELD", refusal);
    }
    names->clear();
    for (simdjson::dom::element name : array) {
      std::string_view text;
      if (name.get_string().get(text) != simdjson::SUCCESS) {
        return ErrorResponse(400, "INVALID_FIELD", refusal);
      }
      names->emplace_back(text);
    }
  }
  std::string_view message;
  if (doc["errorMessage"].get_string().get(message) == simdjson::SUCCESS) {
    faults.error_message = std::string(message);
  }
  if (auto n = IntMember(doc, "failNext")) faults.fail_next = static_cast<int>(*n);
  if (auto n = IntMember(doc, "cutResults")) faults.cut_results = static_cast<int>(*n);
  if (rate) bulk.set_records_per_second(*rate);
  bulk.set_faults(std::move(faults));
  bulk.SetDaily(IntMember(doc, "dailyMax"), IntMember(doc, "dailyUsed"));
  return std::nullopt;
}

}  // namespace

Response AdminApi::Handle(const Request& request) {
  std::string_view path = request.path;
  path.remove_prefix(kAdminPrefix.size());
  const std::string& method = request.method;

  if (path == "stats" && method == "GET") {
    core::JsonWriter w;
    w.BeginObject()
        .Member("apiUsage", limits_.used())
        .Member("dailyMax", limits_.daily_max())
        .Member("openQueryLocators", static_cast<int64_t>(cursors_.open_count()))
        .Member("activeTokens", static_cast<int64_t>(auth_.ActiveTokens()))
        .Member("tokenRequests", auth_.TokenRequests())
        .Member("churnChanges", churn_.total_changes())
        .Key("calls")
        .BeginObject();
    for (const auto& [kind, n] : limits_.CallsByKind()) w.Member(kind, n);
    w.EndObject().EndObject();
    return Json(w.Take());
  }
  if (path == "stats/reset" && method == "POST") {
    limits_.ResetCounts();
    return Json("{}");
  }
  if (path.starts_with("digest/") && method == "GET") {
    std::string_view name = path.substr(7);
    const org::ObjectDef* object = org_.FindObject(name);
    if (!object) return ErrorResponse(404, "NOT_FOUND", StrCat("no object ", name));
    bool include_deleted = request.Param("includeDeleted") == "true";
    std::map<std::string, int64_t> digest = org_.Digest(object->name, include_deleted);
    core::JsonWriter w;
    w.Reserve(digest.size() * 36 + 64);
    w.BeginObject()
        .Member("object", object->name)
        .Member("count", static_cast<int64_t>(digest.size()))
        .Key("records")
        .BeginObject();
    for (const auto& [id, stamp] : digest) w.Member(id, stamp);
    w.EndObject().EndObject();
    return Json(w.Take());
  }
  if (path.starts_with("records/")) {
    std::string_view rest = path.substr(8);
    size_t slash = rest.find('/');
    if (method == "POST" && slash == std::string_view::npos) {
      org::Result<BodyRecord> body = ParseRecordJson(request.body, true);
      if (auto* e = std::get_if<org::ApiError>(&body)) return ErrorFromApiErrors({*e});
      return SaveResultResponse(org_.Create(rest, std::get<BodyRecord>(body).fields));
    }
    if (method == "PATCH" && slash != std::string_view::npos) {
      org::Result<BodyRecord> body = ParseRecordJson(request.body, true);
      if (auto* e = std::get_if<org::ApiError>(&body)) return ErrorFromApiErrors({*e});
      return SaveResultResponse(org_.Update(rest.substr(0, slash), rest.substr(slash + 1),
                                            std::get<BodyRecord>(body).fields));
    }
    if (method == "DELETE" && slash == std::string_view::npos) {
      return SaveResultResponse(org_.Delete(rest));
    }
  }
  if (path.starts_with("fields/") && method == "POST") {
    std::variant<org::FieldDef, Response> field = FieldFromJson(request.body);
    if (auto* error = std::get_if<Response>(&field)) return *error;
    org::Result<bool> added = org_.AddField(path.substr(7), std::get<org::FieldDef>(field));
    if (auto* e = std::get_if<org::ApiError>(&added)) {
      return ErrorResponse(e->http_status, e->code, e->message, e->fields);
    }
    return Json(core::JsonWriter()
                    .BeginObject()
                    .Member("added", std::get<org::FieldDef>(field).name)
                    .EndObject()
                    .Take(),
                201);
  }
  if (path == "purge" && method == "POST") {
    int64_t purged = org_.PurgeRecycleBin(request.Param("object"));
    return Json(core::JsonWriter().BeginObject().Member("purged", purged).EndObject().Take());
  }
  if (path == "faults") {
    if (method == "GET") return Json(FaultSettingsJson(faults_.Get()));
    if (method == "POST") {
      absl::StatusOr<FaultSettings> s = ParseFaultSettings(request.body, faults_.Get());
      if (!s.ok()) return ErrorResponse(400, "INVALID_FIELD", std::string(s.status().message()));
      faults_.Set(*s);
      return Json(FaultSettingsJson(*s));
    }
  }
  if (path == "bulk" && (method == "GET" || method == "POST")) {
    if (method == "POST") {
      if (auto error = ApplyBulk(bulk_, request.body)) return *error;
    }
    return Json(BulkJson(bulk_.settings(), bulk_.faults(), bulk_.DailyRemaining()));
  }
  if (path.starts_with("bulk/fail/") && method == "POST") {
    std::string message = JsonMemberText(request.body, "errorMessage");
    if (message.empty()) message = bulk_.faults().error_message;
    org::Result<JobInfo> job = bulk_.Fail(path.substr(10), message);
    if (auto* e = std::get_if<org::ApiError>(&job)) {
      return ErrorResponse(e->http_status, e->code, e->message);
    }
    return Json(core::JsonWriter()
                    .BeginObject()
                    .Member("id", std::get<JobInfo>(job).id)
                    .Member("state", JobStateName(std::get<JobInfo>(job).state))
                    .EndObject()
                    .Take());
  }
  if (path == "revoke-tokens" && method == "POST") {
    auth_.RevokeAll();
    return Json("{}");
  }
  if ((path == "limits" || path == "churn") && method == "POST") {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(request.body).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
      return ErrorResponse(400, "JSON_PARSER_ERROR", "expected a JSON object");
    }
    if (path == "limits") {
      limits_.Set(IntMember(doc, "max"), IntMember(doc, "used"));
      return Json(core::JsonWriter()
                      .BeginObject()
                      .Key("max")
                      .Int(limits_.daily_max())
                      .Key("used")
                      .Int(limits_.used())
                      .EndObject()
                      .Take());
    }
    int burst = static_cast<int>(IntMember(doc, "burst").value_or(1));
    double per_second;
    if (doc["perSecond"].get_double().get(per_second) == simdjson::SUCCESS) {
      churn_.SetRate(per_second, burst);
      return Json(core::JsonWriter()
                      .BeginObject()
                      .Key("perSecond")
                      .Raw(StrCat(per_second))
                      .Member("burst", burst)
                      .EndObject()
                      .Take());
    }
    int made = churn_.StepNow(static_cast<int>(IntMember(doc, "changes").value_or(1)), burst);
    return Json(core::JsonWriter().BeginObject().Member("changes", made).EndObject().Take());
  }
  return ErrorResponse(404, "NOT_FOUND", StrCat("no admin route ", method, " ", request.path));
}

}  // namespace sfbridge::sfsim
