#include "sfsim/rest_calls.h"

#include <charconv>

#include "sfsim/soql/value.h"

namespace sfbridge::sfsim {

std::string ClassifyCall(std::string_view method, std::string_view rest) {
  if (rest.starts_with("queryAll/")) return "query_more";
  if (rest.starts_with("queryAll")) return "query_all";
  if (rest.starts_with("query/")) return "query_more";
  if (rest.starts_with("query")) return "query";
  if (rest.starts_with("limits")) return "limits";
  if (rest == "jobs/query" || rest.starts_with("jobs/query/")) {
    std::string_view tail = rest.substr(10);
    while (tail.ends_with('/')) tail.remove_suffix(1);
    if (tail.empty()) return method == "POST" ? "bulk_query_create" : "bulk_query_list";
    if (tail.ends_with("/results")) return "bulk_query_results";
    if (method == "PATCH") return "bulk_query_abort";
    if (method == "DELETE") return "bulk_query_delete";
    return "bulk_query_info";
  }
  if (rest.starts_with("composite/sobjects")) {
    if (method == "POST") return "collections_create";
    if (method == "PATCH") {
      // composite/sobjects/{Object}/{ExternalIdField}: an upsert.
      return rest.substr(18).find('/', 1) != std::string_view::npos ? "collections_upsert"
                                                                    : "collections_update";
    }
    if (method == "DELETE") return "collections_delete";
    return "collections_retrieve";
  }
  if (rest.starts_with("composite")) return "composite";
  if (rest == "sobjects" || rest == "sobjects/") return "describe_global";
  if (rest.starts_with("sobjects/")) {
    std::string_view tail = rest.substr(9);
    int slashes = 0;
    for (char c : tail) slashes += c == '/';
    if (tail.ends_with("/describe") || tail.ends_with("/describe/")) return "describe";
    if (tail.find("/updated") != std::string_view::npos) return "get_updated";
    if (tail.find("/deleted") != std::string_view::npos) return "get_deleted";
    if (slashes == 0) return method == "POST" ? "sobject_create" : "describe";
    if (slashes >= 2) return "sobject_upsert";
    if (method == "PATCH") return "sobject_update";
    if (method == "DELETE") return "sobject_delete";
    return "sobject_read";
  }
  return "other";
}

bool IsWriteCall(std::string_view kind) {
  return kind == "sobject_create" || kind == "sobject_update" || kind == "sobject_delete" ||
         kind == "sobject_upsert" || kind == "collections_create" || kind == "collections_update" ||
         kind == "collections_delete" || kind == "collections_upsert" || kind == "composite";
}

size_t QueryBatchSize(std::string_view header, size_t fallback, const org::QueryResult& result) {
  size_t batch = fallback;
  size_t at = header.find("batchSize=");
  if (at != std::string_view::npos) {
    std::string_view digits = header.substr(at + 10);
    size_t n = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec == std::errc()) batch = std::clamp<size_t>(n, 200, 2000);
  }
  int long_text = 0;
  for (size_t i : result.selected) {
    const org::FieldDef& f = result.object->fields[i];
    if (f.type == "textarea" && f.length > 255) ++long_text;
  }
  if (long_text >= 2) batch = std::min<size_t>(batch, 200);
  return batch;
}

void WriteSaveResult(core::JsonWriter& w, const org::SaveResult& result, bool with_created) {
  w.BeginObject();
  if (result.id.empty()) {
    w.Key("id").Null();
  } else {
    w.Member("id", result.id);
  }
  w.Member("success", result.success).Key("errors").BeginArray();
  for (const org::ApiError& e : result.errors) {
    w.BeginObject()
        .Member("statusCode", e.code)
        .Member("message", e.message)
        .StringArray("fields", e.fields)
        .EndObject();
  }
  w.EndArray();
  if (with_created) w.Member("created", result.created);
  w.EndObject();
}

Response ErrorFromApiErrors(const std::vector<org::ApiError>& errors) {
  core::JsonWriter w;
  w.BeginArray();
  int status = errors.empty() ? 400 : errors.front().http_status;
  for (const org::ApiError& e : errors) {
    w.BeginObject()
        .Member("message", e.message)
        .Member("errorCode", e.code)
        .StringArray("fields", e.fields)
        .EndObject();
  }
  w.EndArray();
  Response r;
  r.status = status;
  r.body = w.Take();
  return r;
}

std::optional<int64_t> ParseIsoDateTime(std::string_view text) {
  absl::StatusOr<soql::Value> v = soql::Value::ParseDateTime(text);
  if (!v.ok()) return std::nullopt;
  return v->Millis();
}

std::string FormatIsoDateTime(int64_t ms) { return soql::Value::DateTime(ms).ToString(); }

}  // namespace sfbridge::sfsim
