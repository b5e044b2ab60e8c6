#include "sfsim/body_json.h"

#include <simdjson.h>

#include "common/core/strings.h"

namespace sfbridge::sfsim {
namespace {

using core::StrCat;
namespace od = simdjson::ondemand;

org::ApiError ParserError(std::string message) {
  return org::ApiError{400, "JSON_PARSER_ERROR", std::move(message), {}};
}

org::ApiError SyntaxError(simdjson::error_code e) {
  return ParserError(StrCat("Unexpected character or malformed JSON: ", simdjson::error_message(e),
                            " at [line:1, column:1]"));
}

// Reads one record object into `out`.
simdjson::error_code ReadRecord(od::object object, bool keep_id, BodyRecord& out,
                                std::string& problem) {
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return e;
    od::value value = field.value();
    if (key == "attributes") {
      od::object attrs;
      if (value.get_object().get(attrs) == simdjson::SUCCESS) {
        std::string_view type;
        for (auto a : attrs) {
          std::string_view k;
          if (a.unescaped_key().get(k) == simdjson::SUCCESS && k == "type" &&
              a.value().get_string().get(type) == simdjson::SUCCESS) {
            out.type = std::string(type);
          }
        }
      }
      continue;
    }
    od::json_type type;
    if (auto e = value.type().get(type)) return e;
    org::InputValue v;
    switch (type) {
      case od::json_type::null:
        v.kind = org::InputValue::Kind::kNull;
        (void)value.is_null();
        break;
      case od::json_type::boolean: {
        bool b;
        if (auto e = value.get_bool().get(b)) return e;
        v.kind = org::InputValue::Kind::kBool;
        v.boolean = b;
        break;
      }
      case od::json_type::number: {
        std::string_view raw = value.raw_json_token();
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                                raw.back() == '\t')) {
          raw.remove_suffix(1);
        }
        v.kind = org::InputValue::Kind::kNumber;
        v.text = std::string(raw);
        // Validate it is a number at all.
        double ignored;
        if (auto e = value.get_double().get(ignored)) return e;
        break;
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto e = value.get_string().get(s)) return e;
        v.kind = org::InputValue::Kind::kString;
        v.text = std::string(s);
        break;
      }
      default:
        problem = StrCat("Cannot deserialize instance of ", key, " from ",
                         type == od::json_type::object ? "START_OBJECT" : "START_ARRAY", " value");
        return simdjson::INCORRECT_TYPE;
    }
    if (!keep_id && (key == "Id" || key == "id")) {
      out.id = v.text;
      continue;
    }
    out.fields.emplace_back(std::string(key), std::move(v));
  }
  return simdjson::SUCCESS;
}

}  // namespace

org::Result<BodyRecord> ParseRecordJson(const std::string& body, bool keep_id) {
  od::parser parser;
  simdjson::padded_string padded(body);
  od::document doc;
  if (auto e = parser.iterate(padded).get(doc)) return SyntaxError(e);
  od::object object;
  if (auto e = doc.get_object().get(object)) {
    return ParserError("Cannot deserialize instance of sObject from a value that is not an object");
  }
  // Anything after the object is an error, as it is for Salesforce's parser.
  std::string_view raw;
  if (auto e = object.raw_json().get(raw)) return SyntaxError(e);
  size_t after = static_cast<size_t>(raw.data() - padded.data()) + raw.size();
  if (body.find_first_not_of(" \t\r\n", after) != std::string::npos) {
    return SyntaxError(simdjson::TRAILING_CONTENT);
  }
  if (auto e = object.reset().error()) return SyntaxError(e);
  BodyRecord record;
  std::string problem;
  if (auto e = ReadRecord(object, keep_id, record, problem)) {
    return problem.empty() ? SyntaxError(e) : ParserError(problem);
  }
  return record;
}

org::Result<CollectionBody> ParseCollectionJson(const std::string& body, bool keep_id) {
  od::parser parser;
  simdjson::padded_string padded(body);
  od::document doc;
  if (auto e = parser.iterate(padded).get(doc)) return SyntaxError(e);
  od::object object;
  if (auto e = doc.get_object().get(object)) return SyntaxError(e);
  CollectionBody out;
  bool saw_records = false;
  std::string problem;
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return SyntaxError(e);
    if (key == "allOrNone") {
      if (auto e = field.value().get_bool().get(out.all_or_none)) {
        return ParserError("allOrNone must be true or false");
      }
    } else if (key == "records") {
      saw_records = true;
      od::array records;
      if (auto e = field.value().get_array().get(records)) {
        return ParserError("records must be an array of sObjects");
      }
      for (auto item : records) {
        od::object record_object;
        if (auto e = item.get_object().get(record_object)) return SyntaxError(e);
        BodyRecord record;
        if (auto e = ReadRecord(record_object, keep_id, record, problem)) {
          return problem.empty() ? SyntaxError(e) : ParserError(problem);
        }
        out.records.push_back(std::move(record));
      }
    }  // other members are skipped by the iterator
  }
  if (!saw_records) {
    return org::ApiError{400, "INVALID_FIELD", "records: required field is missing", {"records"}};
  }
  return out;
}

org::Result<CompositeBody> ParseCompositeJson(const std::string& body) {
  od::parser parser;
  simdjson::padded_string padded(body);
  od::document doc;
  if (auto e = parser.iterate(padded).get(doc)) return SyntaxError(e);
  od::object object;
  if (auto e = doc.get_object().get(object)) return SyntaxError(e);
  CompositeBody out;
  bool saw_requests = false;
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return SyntaxError(e);
    if (key == "allOrNone") {
      if (field.value().get_bool().get(out.all_or_none)) {
        return ParserError("allOrNone must be true or false");
      }
      continue;
    }
    if (key != "compositeRequest") continue;  // skipped by the iterator
    saw_requests = true;
    od::array requests;
    if (field.value().get_array().get(requests)) {
      return ParserError("compositeRequest must be an array");
    }
    for (auto item : requests) {
      od::object r;
      if (auto e = item.get_object().get(r)) return SyntaxError(e);
      CompositeSubrequest sub;
      for (auto member : r) {
        std::string_view k, text;
        if (auto e = member.unescaped_key().get(k)) return SyntaxError(e);
        if (k == "body") {
          // Kept verbatim so that numbers keep every digit.
          od::value v = member.value();
          od::json_type t;
          if (auto e = v.type().get(t)) return SyntaxError(e);
          if (t == od::json_type::object) {
            od::object o;
            if (auto e = v.get_object().get(o)) return SyntaxError(e);
            if (auto e = o.raw_json().get(text)) return SyntaxError(e);
          } else if (t == od::json_type::array) {
            od::array a;
            if (auto e = v.get_array().get(a)) return SyntaxError(e);
            if (auto e = a.raw_json().get(text)) return SyntaxError(e);
          } else {
            text = v.raw_json_token();
          }
          sub.body = std::string(text);
        } else if (k == "method" || k == "url" || k == "referenceId") {
          if (member.value().get_string().get(text)) {
            return ParserError(StrCat("Composite subrequest: ", k, " must be a string"));
          }
          (k == "method" ? sub.method
           : k == "url"  ? sub.url
                         : sub.reference_id) = std::string(text);
        }
      }
      if (sub.method.empty() || sub.url.empty() || sub.reference_id.empty()) {
        return ParserError("Composite subrequest needs method, url and referenceId");
      }
      out.requests.push_back(std::move(sub));
    }
  }
  if (!saw_requests) {
    return org::ApiError{
        400, "INVALID_FIELD", "compositeRequest: required field is missing", {"compositeRequest"}};
  }
  return out;
}

std::string JsonMemberText(const std::string& json, const std::string& path) {
  // "[0].id" -> JSON pointer "/0/id".
  std::string pointer;
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.' || c == '[') {
      pointer.push_back('/');
    } else if (c == ']') {
      continue;
    } else if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      if (i == 0) pointer.push_back('/');
      pointer.push_back(c);
    }
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return "";
  simdjson::dom::element v;
  if (doc.at_pointer(pointer).get(v) != simdjson::SUCCESS || v.is_null()) return "";
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::minify(v);
}

}  // namespace sfbridge::sfsim
