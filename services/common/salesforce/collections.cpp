#include "common/salesforce/collections.h"

#include <simdjson.h>

#include "common/core/strings.h"
#include "common/salesforce/api_error.h"
#include "common/salesforce/json_fields.h"

namespace sfbridge::salesforce {
namespace {

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// The raw JSON text of any value, exactly as it appears in the document.
simdjson::error_code RawJson(simdjson::ondemand::value value, std::string& out) {
  simdjson::ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  std::string_view raw;
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object object;
    if (auto error = value.get_object().get(object)) return error;
    if (auto error = object.raw_json().get(raw)) return error;
  } else if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array array;
    if (auto error = value.get_array().get(array)) return error;
    if (auto error = array.raw_json().get(raw)) return error;
  } else {
    raw = value.raw_json_token();
  }
  out.assign(TrimRight(raw));
  return simdjson::SUCCESS;
}

}  // namespace

absl::Status SaveResultStatus(const SaveResult& result) {
  if (result.success) return absl::OkStatus();
  if (result.errors.empty()) {
    return ApiErrorToStatus({200, "", "the record was not saved and no error was given", {}});
  }
  const SaveError& e = result.errors.front();
  return ApiErrorToStatus({200, e.status_code, e.message, e.fields});
}

std::string BuildCollectionsBody(std::string_view object_type, const std::vector<Fields>& records,
                                 bool all_or_none) {
  core::JsonWriter w;
  w.BeginObject().Member("allOrNone", all_or_none).Key("records").BeginArray();
  for (const Fields& record : records) WriteRecordObject(w, object_type, record);
  w.EndArray().EndObject();
  return w.Take();
}

std::string BuildCompositeBody(const std::vector<CompositeSubrequest>& subrequests,
                               bool all_or_none, std::string_view data_path) {
  core::JsonWriter w;
  w.BeginObject().Member("allOrNone", all_or_none).Key("compositeRequest").BeginArray();
  for (const CompositeSubrequest& sub : subrequests) {
    w.BeginObject().Member("method", sub.method);
    if (sub.url.rfind("/services/", 0) == 0) {
      w.Member("url", sub.url);
    } else {
      w.Member("url", core::StrCat(data_path, sub.url));
    }
    w.Member("referenceId", sub.reference_id);
    if (!sub.body.empty()) w.Key("body").Raw(sub.body);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

absl::StatusOr<std::vector<SaveResult>> ParseSaveResults(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (parser.parse(json.data(), json.size()).get_array().get(array) != simdjson::SUCCESS) {
    return absl::InternalError("malformed collections reply: not a JSON array");
  }
  std::vector<SaveResult> results;
  for (simdjson::dom::element e : array) {
    simdjson::dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) {
      return absl::InternalError("malformed collections reply: a result is not an object");
    }
    SaveResult& r = results.emplace_back();
    r.id = StringField(o, "id");
    if (o["success"].get_bool().get(r.success) != simdjson::SUCCESS) {
      return absl::InternalError("malformed collections reply: a result lacks \"success\"");
    }
    if (o["created"].get_bool().get(r.created) != simdjson::SUCCESS) r.created = false;
    simdjson::dom::array errors;
    if (o["errors"].get_array().get(errors) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element ee : errors) {
      simdjson::dom::object eo;
      if (ee.get_object().get(eo) != simdjson::SUCCESS) continue;
      SaveError& error = r.errors.emplace_back();
      error.status_code = StringField(eo, "statusCode");
      if (error.status_code.empty()) error.status_code = StringField(eo, "errorCode");
      error.message = StringField(eo, "message");
      simdjson::dom::array fields;
      if (eo["fields"].get_array().get(fields) == simdjson::SUCCESS) {
        for (simdjson::dom::element f : fields) {
          std::string_view s;
          if (f.get_string().get(s) == simdjson::SUCCESS) error.fields.emplace_back(s);
        }
      }
    }
  }
  return results;
}

absl::StatusOr<std::vector<CompositeSubresponse>> ParseCompositeResponse(std::string_view json) {
  simdjson::padded_string padded(json);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  auto malformed = [](std::string_view what) {
    return absl::InternalError(core::StrCat("malformed composite reply: ", what));
  };
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) {
    return malformed("not a JSON object");
  }
  std::vector<CompositeSubresponse> out;
  bool seen = false;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed("bad key");
    if (key != "compositeResponse") continue;
    seen = true;
    simdjson::ondemand::array array;
    if (field.value().get_array().get(array)) return malformed("compositeResponse not an array");
    for (auto element : array) {
      simdjson::ondemand::object sub;
      if (element.get_object().get(sub)) return malformed("a subresponse is not an object");
      CompositeSubresponse& r = out.emplace_back();
      for (auto sub_field : sub) {
        std::string_view sub_key;
        if (sub_field.unescaped_key().get(sub_key)) return malformed("bad key");
        simdjson::ondemand::value value;
        if (sub_field.value().get(value)) return malformed("bad value");
        if (sub_key == "httpStatusCode") {
          int64_t status = 0;
          if (value.get_int64().get(status)) return malformed("httpStatusCode not an integer");
          r.http_status = static_cast<int>(status);
        } else if (sub_key == "referenceId") {
          std::string_view s;
          if (value.get_string().get(s)) return malformed("referenceId not a string");
          r.reference_id.assign(s);
        } else if (sub_key == "body") {
          if (RawJson(value, r.body)) return malformed("bad body");
        }
      }
    }
  }
  if (!seen) return malformed("no \"compositeResponse\"");
  return out;
}

}  // namespace sfbridge::salesforce
