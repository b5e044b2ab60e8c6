// RestApi: sObject Collections (/composite/sobjects) and Composite (/composite).

#include <algorithm>

#include "common/core/strings.h"
#include "sfsim/body_json.h"
#include "sfsim/record_json.h"
#include "sfsim/rest_calls.h"

namespace sfbridge::sfsim {

using core::StrCat;

namespace {

constexpr size_t kMaxCollection = 200;
constexpr size_t kMaxCompositeRequests = 25;

Response TooMany() {
  return ErrorResponse(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 200 records into this call");
}

Response SaveResults(const std::vector<org::SaveResult>& results, bool with_created = false) {
  core::JsonWriter w;
  w.BeginArray();
  for (const org::SaveResult& r : results) WriteSaveResult(w, r, with_created);
  w.EndArray();
  Response r;
  r.body = w.Take();
  return r;
}

std::vector<std::string> SplitCommas(const std::string& list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    if (comma > pos) out.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

// Every result failed with UNABLE_TO_LOCK_ROW (fault injection).
std::vector<org::SaveResult> LockFailures(size_t n) {
  std::vector<org::SaveResult> out(n);
  for (org::SaveResult& r : out) {
    r.errors.push_back({400,
                        "UNABLE_TO_LOCK_ROW",
                        "unable to obtain exclusive access to this record or 1 records",
                        {}});
  }
  return out;
}

// Inside a Composite with allOrNone, a collection is all-or-none whatever its own allOrNone
// says, and a refused record fails the subrequest (400, the collection's results as its body),
// which rolls the whole Composite back.
bool AllOrNone(const RestApi::Call& call, bool own) { return own || call.track_undo; }

Response Saved(const RestApi::Call& call, const std::vector<org::SaveResult>& results,
               bool with_created = false) {
  Response r = SaveResults(results, with_created);
  if (call.track_undo &&
      std::any_of(results.begin(), results.end(), [](const auto& s) { return !s.success; })) {
    r.status = 400;
  }
  return r;
}

// Remembers what the successful writes replaced, when the call is part of an allOrNone
// Composite.
const std::vector<org::SaveResult>& Applied(RestApi::Call& call,
                                            const std::vector<org::SaveResult>& results) {
  if (call.track_undo) {
    for (const org::SaveResult& r : results) {
      if (r.success) call.undo.emplace_back(r.id, r.previous);
    }
  }
  return results;
}

}  // namespace

Response RestApi::Collections(Call& call, std::string_view rest) {
  const std::string& method = call.request.method;
  // PATCH /composite/sobjects/{Object}/{ExternalIdField}: upsert by that field.
  std::string_view upsert_path = rest;
  while (upsert_path.starts_with("/")) upsert_path.remove_prefix(1);
  if (method == "PATCH" && upsert_path.find('/') != std::string_view::npos) {
    return CollectionsUpsert(call, upsert_path.substr(0, upsert_path.find('/')),
                             upsert_path.substr(upsert_path.find('/') + 1));
  }
  if (method == "POST" || method == "PATCH") {
    org::Result<CollectionBody> body = ParseCollectionJson(call.request.body, /*keep_id=*/false);
    if (auto* e = std::get_if<org::ApiError>(&body)) return ErrorFromApiErrors({*e});
    CollectionBody& collection = std::get<CollectionBody>(body);
    if (collection.records.size() > kMaxCollection) return TooMany();
    call.records = static_cast<int64_t>(collection.records.size());
    if (call.lock_error) return Saved(call, LockFailures(collection.records.size()));
    std::vector<org::Org::Operation> ops;
    for (BodyRecord& record : collection.records) {
      org::Org::Operation op;
      op.kind = method == "POST" ? org::Org::Operation::Kind::kCreate
                                 : org::Org::Operation::Kind::kUpdate;
      op.object = record.type;
      op.id = record.id;
      op.fields = std::move(record.fields);
      // An Id in a record to create is refused (INVALID_FIELD) as on the single-record route,
      // not dropped: the caller may have meant an update.
      if (op.kind == org::Org::Operation::Kind::kCreate && !op.id.empty()) {
        op.fields.emplace_back("Id", org::InputValue{org::InputValue::Kind::kString, op.id, false});
      }
      if (op.kind == org::Org::Operation::Kind::kUpdate && op.object.empty() && !op.id.empty()) {
        if (const org::ObjectDef* o = org_.ObjectOfId(op.id)) op.object = o->name;
      }
      ops.push_back(std::move(op));
    }
    return Saved(call, Applied(call, org_.Apply(ops, AllOrNone(call, collection.all_or_none))));
  }
  if (method == "DELETE") {
    std::vector<std::string> ids = SplitCommas(call.request.Param("ids"));
    if (ids.empty()) {
      return ErrorResponse(400, "MISSING_ARGUMENT", "ids parameter is required", {"ids"});
    }
    if (ids.size() > kMaxCollection) return TooMany();
    call.records = static_cast<int64_t>(ids.size());
    if (call.lock_error) return Saved(call, LockFailures(ids.size()));
    std::vector<org::Org::Operation> ops;
    for (std::string& id : ids) {
      org::Org::Operation op;
      op.kind = org::Org::Operation::Kind::kDelete;
      op.id = std::move(id);
      ops.push_back(std::move(op));
    }
    return Saved(
        call,
        Applied(call, org_.Apply(ops, AllOrNone(call, call.request.Param("allOrNone") == "true"))));
  }
  if (method == "GET") {
    // /composite/sobjects/{Name}?ids=...&fields=...
    std::string_view name = rest;
    while (name.starts_with("/")) name.remove_prefix(1);
    const org::ObjectDef* object = org_.FindObject(name);
    if (!object) return ErrorResponse(404, "NOT_FOUND", "The requested resource does not exist");
    std::vector<std::string> ids = SplitCommas(call.request.Param("ids"));
    std::vector<std::string> fields = SplitCommas(call.request.Param("fields"));
    if (ids.empty() || fields.empty()) {
      return ErrorResponse(400, "MISSING_ARGUMENT", "ids and fields parameters are required");
    }
    if (ids.size() > 2000) return TooMany();
    std::vector<size_t> selected;
    for (const std::string& f : fields) {
      size_t i = 0;
      while (i < object->fields.size() && !soql::EqualsIgnoreCase(object->fields[i].name, f)) ++i;
      if (i == object->fields.size()) {
        return ErrorResponse(400, "INVALID_FIELD",
                             StrCat("No such column '", f, "' on sobject of type ", object->name));
      }
      selected.push_back(i);
    }
    core::JsonWriter w;
    w.BeginArray();
    for (const std::string& id : ids) {
      org::RecordPtr record = org_.Get(id);
      if (!record || org_.ObjectOfId(record->id) != object) {
        w.Null();
      } else {
        WriteRecord(w, *object, *record, selected, call.version);
      }
    }
    w.EndArray();
    call.records = static_cast<int64_t>(ids.size());
    Response r;
    r.body = w.Take();
    return r;
  }
  return ErrorResponse(405, "METHOD_NOT_ALLOWED",
                       StrCat("HTTP Method '", method,
                              "' not allowed. Allowed are GET, POST, "
                              "PATCH, DELETE"));
}

Response RestApi::CollectionsUpsert(Call& call, std::string_view object_name,
                                    std::string_view field_name) {
  const org::ObjectDef* object = org_.FindObject(object_name);
  if (!object) return ErrorResponse(404, "NOT_FOUND", "The requested resource does not exist");
  org::Result<CollectionBody> body = ParseCollectionJson(call.request.body, /*keep_id=*/false);
  if (auto* e = std::get_if<org::ApiError>(&body)) return ErrorFromApiErrors({*e});
  CollectionBody& collection = std::get<CollectionBody>(body);
  if (collection.records.size() > kMaxCollection) return TooMany();
  call.records = static_cast<int64_t>(collection.records.size());
  if (call.lock_error) return Saved(call, LockFailures(collection.records.size()), true);
  std::vector<org::Org::Operation> ops;
  std::vector<org::SaveResult> early(collection.records.size());
  std::vector<bool> missing_key(collection.records.size(), false);
  for (size_t i = 0; i < collection.records.size(); ++i) {
    BodyRecord& record = collection.records[i];
    org::Org::Operation op;
    op.kind = org::Org::Operation::Kind::kUpsert;
    op.object = object->name;
    op.external_id_field = std::string(field_name);
    bool found = false;
    for (auto it = record.fields.begin(); it != record.fields.end(); ++it) {
      if (soql::EqualsIgnoreCase(it->first, field_name)) {
        found = it->second.kind != org::InputValue::Kind::kNull;
        op.external_id_value = it->second.text;
        record.fields.erase(it);
        break;
      }
    }
    if (!found && !record.id.empty() && soql::EqualsIgnoreCase(field_name, "Id")) {
      op.external_id_value = record.id;
      found = true;
    }
    if (!found) {
      // As Salesforce: the record lacks the key; the others are still tried (unless
      // allOrNone, below).
      missing_key[i] = true;
      op.kind = org::Org::Operation::Kind::kUpdate;  // never applied
    }
    op.fields = std::move(record.fields);
    ops.push_back(std::move(op));
  }
  std::vector<org::Org::Operation> to_apply;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!missing_key[i]) to_apply.push_back(ops[i]);
  }
  const bool any_missing =
      std::find(missing_key.begin(), missing_key.end(), true) != missing_key.end();
  const bool all_or_none = AllOrNone(call, collection.all_or_none);
  std::vector<org::SaveResult> applied;
  if (!(any_missing && all_or_none)) {
    applied = Applied(call, org_.Apply(to_apply, all_or_none));
  }
  std::vector<org::SaveResult> results(ops.size());
  size_t next = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (missing_key[i]) {
      results[i].errors.push_back({400,
                                   "MISSING_ARGUMENT",
                                   StrCat(field_name, " not specified"),
                                   {std::string(field_name)}});
    } else if (any_missing && all_or_none) {
      results[i].errors.push_back(
          {400,
           "ALL_OR_NONE_OPERATION_ROLLED_BACK",
           "Record rolled back because not all records were valid and the request was using "
           "AllOrNone header",
           {}});
    } else {
      results[i] = applied[next++];
    }
  }
  return Saved(call, results, true);
}

Response RestApi::Composite(Call& call) {
  org::Result<CompositeBody> parsed = ParseCompositeJson(call.request.body);
  if (auto* e = std::get_if<org::ApiError>(&parsed)) return ErrorFromApiErrors({*e});
  CompositeBody& body = std::get<CompositeBody>(parsed);
  if (body.requests.size() > kMaxCompositeRequests) {
    return ErrorResponse(400, "INVALID_FIELD", "Composite requests cannot exceed 25 subrequests");
  }
  int queries = 0;
  for (const CompositeSubrequest& sub : body.requests) {
    std::string_view url = sub.url;
    queries += url.find("/query") != std::string_view::npos;
  }
  if (queries > 5) {
    return ErrorResponse(400, "INVALID_FIELD",
                         "Composite requests cannot have more than 5 query subrequests");
  }

  std::map<std::string, std::string> results_by_ref;  // referenceId → reply body
  struct Done {
    std::string reference_id;
    Response response;
  };
  std::vector<Done> done;
  bool halted = false;
  // @{ref.field} → the field of an earlier subrequest's reply.
  auto resolve = [&](const std::string& text, std::string* missing) {
    std::string out;
    size_t pos = 0;
    while (true) {
      size_t at = text.find("@{", pos);
      if (at == std::string::npos) break;
      size_t close = text.find('}', at);
      if (close == std::string::npos) break;
      out.append(text, pos, at - pos);
      std::string ref = text.substr(at + 2, close - at - 2);
      // @{ref.field}, @{ref[0].id}: the reference id ends at the first '.' or '['.
      size_t dot = ref.find_first_of(".[");
      auto it = results_by_ref.find(ref.substr(0, dot));
      std::string value;
      if (it != results_by_ref.end() && dot != std::string::npos) {
        value = JsonMemberText(it->second, ref.substr(dot));
      }
      if (value.empty()) *missing = ref;
      out += value;
      pos = close + 1;
    }
    out.append(text, pos, std::string::npos);
    return out;
  };

  for (const CompositeSubrequest& sub : body.requests) {
    if (halted) {
      done.push_back({sub.reference_id,
                      ErrorResponse(400, "PROCESSING_HALTED",
                                    "The transaction was rolled back since another operation in "
                                    "the same transaction failed.")});
      continue;
    }
    std::string missing;
    std::string url = resolve(sub.url, &missing);
    std::string sub_body = resolve(sub.body, &missing);
    Response response;
    if (!missing.empty()) {
      response = ErrorResponse(400, "INVALID_FIELD",
                               StrCat("Invalid reference specified. No value for ", missing,
                                      " found in ", sub.reference_id));
    } else {
      Request inner;
      inner.method = sub.method;
      size_t q = url.find('?');
      inner.path = UrlDecode(url.substr(0, q), false);
      if (q != std::string::npos) inner.query = ParseFormEncoded(url.substr(q + 1));
      inner.body = sub_body;
      inner.headers = call.request.headers;
      std::string_view path = inner.path;
      std::string prefix = StrCat("/services/data/v", call.version, "/");
      if (!path.starts_with(prefix)) {
        response = ErrorResponse(400, "INVALID_FIELD",
                                 StrCat("The url of a subrequest must start with ", prefix));
      } else {
        Call sub_call{inner, call.version, std::string_view(inner.path).substr(prefix.size())};
        sub_call.kind = ClassifyCall(inner.method, sub_call.rest);
        sub_call.lock_error = call.lock_error;
        sub_call.track_undo = body.all_or_none;
        response = Route(sub_call);
        call.records += sub_call.records;
        for (auto& u : sub_call.undo) call.undo.push_back(std::move(u));
      }
    }
    if (response.status >= 400 && body.all_or_none) {
      halted = true;
      // Salesforce rolls back the writes of earlier subrequests; they report PROCESSING_HALTED.
      for (Done& d : done) {
        if (d.response.status < 400) {
          d.response = ErrorResponse(400, "PROCESSING_HALTED",
                                     "The transaction was rolled back since another operation "
                                     "in the same transaction failed.");
        }
      }
    }
    results_by_ref[sub.reference_id] = response.body;
    done.push_back({sub.reference_id, std::move(response)});
  }
  if (halted) {
    for (auto it = call.undo.rbegin(); it != call.undo.rend(); ++it) {
      org_.Restore(it->first, it->second);
    }
  }

  core::JsonWriter w;
  w.BeginObject().Key("compositeResponse").BeginArray();
  for (const Done& d : done) {
    w.BeginObject().Key("body");
    if (d.response.body.empty()) {
      w.Null();
    } else {
      w.Raw(d.response.body);
    }
    w.Key("httpHeaders")
        .BeginObject()
        .EndObject()
        .Member("httpStatusCode", d.response.status)
        .Member("referenceId", d.reference_id)
        .EndObject();
  }
  w.EndArray().EndObject();
  Response r;
  r.body = w.Take();
  return r;
}

}  // namespace sfbridge::sfsim
