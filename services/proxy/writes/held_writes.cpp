#include "proxy/writes/held_writes.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <set>

#include "common/core/strings.h"
#include "common/salesforce/api_error.h"
#include "common/salesforce/url_encoding.h"
#include "simdjson.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;

constexpr std::string_view kProvisionalPrefix = "000p";
constexpr size_t kProvisionalDigits = 14;
constexpr std::string_view kHalted = "PROCESSING_HALTED";

uint64_t RandomStart() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

const std::string& IdOf(const salesforce::Fields& record) { return record.front().second.text; }

// The provisional ids a record names in its fields (not its own Id).
std::vector<std::string> NamedProvisionalIds(const salesforce::Fields& record, bool has_id) {
  std::vector<std::string> out;
  for (size_t i = has_id ? 1 : 0; i < record.size(); ++i) {
    const salesforce::FieldValue& v = record[i].second;
    if (v.kind == salesforce::FieldValue::Kind::kString && IsProvisionalId(v.text)) {
      out.push_back(v.text);
    }
  }
  return out;
}

bool IsHalted(const absl::Status& s) {
  std::optional<salesforce::ApiError> e = salesforce::GetApiError(s);
  return e && e->error_code == kHalted;
}

}  // namespace

std::string NewProvisionalId() {
  static std::atomic<uint64_t> next{RandomStart()};
  uint64_t n = next.fetch_add(1);
  std::string digits(kProvisionalDigits, '0');
  for (size_t i = kProvisionalDigits; i-- > 0 && n > 0; n /= 36) {
    const int d = static_cast<int>(n % 36);
    digits[i] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
  }
  return StrCat(kProvisionalPrefix, digits);
}

bool IsProvisionalId(std::string_view id) {
  return id.size() == kProvisionalPrefix.size() + kProvisionalDigits &&
         id.starts_with(kProvisionalPrefix) &&
         std::all_of(id.begin() + kProvisionalPrefix.size(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); });
}

UnitShape ShapeOf(const std::vector<HeldStatement>& statements) {
  UnitShape shape;
  std::set<std::string> part_ids;  // ids of the current part's records (given or provisional)
  for (size_t s = 0; s < statements.size(); ++s) {
    const HeldStatement& st = statements[s];
    const bool has_id = st.write.operation != Operation::kInsert;
    for (size_t r = 0; r < st.records.size(); ++r) {
      const std::string& id = st.ids[r];
      bool fresh = shape.parts.empty();
      if (!fresh) {
        const UnitPart& last = shape.parts.back();
        fresh = last.operation != st.write.operation || last.table->object != st.table->object ||
                last.members.size() >= kRecordsPerCall || part_ids.count(id) > 0;
        // A record may refer to one created earlier in the request, not beside it.
        for (const std::string& named : NamedProvisionalIds(st.records[r], has_id)) {
          fresh = fresh || part_ids.count(named) > 0;
        }
      }
      if (fresh) {
        shape.parts.push_back({.operation = st.write.operation, .table = st.table});
        part_ids.clear();
      }
      shape.parts.back().members.emplace_back(s, r);
      part_ids.insert(id);
      ++shape.records;
    }
  }
  for (UnitPart& part : shape.parts) {
    part.write_index = shape.subrequests++;
    bool read = true;
    if (part.operation == Operation::kDelete) {
      // Deleted records are read back by queryAll; one created in this request needs none.
      read = std::any_of(part.members.begin(), part.members.end(), [&](const auto& m) {
        return !IsProvisionalId(statements[m.first].ids[m.second]);
      });
      if (read) ++shape.queries;
    }
    if (read) part.read_index = shape.subrequests++;
  }
  return shape;
}

absl::Status UnitFits(const UnitShape& shape) {
  if (shape.records > kMaxUnitRecords) {
    return absl::ResourceExhaustedError(
        StrCat(shape.records, " records in one unit of work: at most ", kMaxUnitRecords));
  }
  if (shape.subrequests > salesforce::kMaxCompositeSubrequests) {
    return absl::ResourceExhaustedError(
        StrCat("the unit of work needs ", shape.subrequests,
               " Composite subrequests (a write and its read-back per run of statements of the "
               "same operation on the same object): at most ",
               salesforce::kMaxCompositeSubrequests));
  }
  if (shape.queries > 5) {
    return absl::ResourceExhaustedError(StrCat("the unit of work deletes in ", shape.queries,
                                               " separate runs: at most 5 (one query each)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<UnitRequest> BuildUnitRequest(const std::vector<HeldStatement>& statements,
                                             std::string_view prefix) {
  UnitShape shape = ShapeOf(statements);
  if (absl::Status s = UnitFits(shape); !s.ok()) return s;
  UnitRequest out;
  out.queries = shape.queries;
  std::map<std::string, std::string, std::less<>> reference_of;  // provisional id -> @{...}
  auto substitute = [&](salesforce::FieldValue& v) {
    if (v.kind != salesforce::FieldValue::Kind::kString) return;
    auto it = reference_of.find(v.text);
    if (it != reference_of.end()) v.text = it->second;
  };
  for (size_t p = 0; p < shape.parts.size(); ++p) {
    UnitPart& part = shape.parts[p];
    const std::string part_prefix = StrCat(prefix, "p", p, "_");
    std::vector<salesforce::Fields> records;
    for (const auto& [s, r] : part.members) {
      salesforce::Fields record = statements[s].records[r];
      for (auto& [name, value] : record) substitute(value);
      records.push_back(std::move(record));
    }
    if (part.operation == Operation::kDelete) {
      std::vector<std::string> ids, known;
      for (size_t i = 0; i < records.size(); ++i) {
        ids.push_back(IdOf(records[i]));
        const auto& [s, r] = part.members[i];
        if (!IsProvisionalId(statements[s].ids[r])) known.push_back(statements[s].ids[r]);
      }
      out.subrequests.push_back(
          {.method = "DELETE",
           .url = StrCat("/composite/sobjects?ids=", core::StrJoin(ids, ","), "&allOrNone=true"),
           .reference_id = StrCat(part_prefix, "w")});
      if (part.read_index) {
        std::vector<std::string> fields;
        for (const SyncedField& f : part.table->fields) fields.push_back(f.field);
        const std::string soql =
            StrCat("SELECT ", core::StrJoin(fields, ", "), " FROM ", part.table->object,
                   " WHERE Id IN ('", core::StrJoin(known, "','"), "')");
        out.subrequests.push_back(
            {.method = "GET",
             .url = StrCat("/queryAll?", salesforce::EncodeParams({{"q", soql}})),
             .reference_id = StrCat(part_prefix, "r")});
      }
    } else {
      ChunkRequest chunk = BuildChunkRequest(part.operation, *part.table, records, part_prefix);
      for (auto& sub : chunk.subrequests) out.subrequests.push_back(std::move(sub));
    }
    if (part.operation == Operation::kInsert) {
      for (size_t i = 0; i < part.members.size(); ++i) {
        const auto& [s, r] = part.members[i];
        reference_of[statements[s].ids[r]] = StrCat("@{", part_prefix, "w[", i, "].id}");
      }
    }
  }
  out.parts = std::move(shape.parts);
  return out;
}

UnitOutcome ReadUnitReply(const UnitRequest& request, const std::vector<HeldStatement>& statements,
                          const std::vector<salesforce::CompositeSubresponse>& replies,
                          std::string_view org_id, int64_t now_ms) {
  UnitOutcome out;
  if (replies.size() != request.subrequests.size()) {
    out.failure = salesforce::MarkOutcomeUnknown(absl::InternalError(StrCat(
        "composite reply has ", replies.size(), " results for ", request.subrequests.size())));
    return out;
  }
  // With allOrNone, the subrequest that failed says why; the others say they were halted.
  bool rolled_back = false;
  for (const UnitPart& part : request.parts) {
    for (std::optional<size_t> index : {std::optional<size_t>(part.write_index), part.read_index}) {
      if (!index) continue;
      const salesforce::CompositeSubresponse& reply = replies[*index];
      const bool write = *index == part.write_index;
      if (write) {
        absl::StatusOr<std::vector<salesforce::SaveResult>> results =
            salesforce::ParseSaveResults(reply.body);
        if (results.ok() && results->size() == part.members.size()) {
          if (const salesforce::SaveResult* refused = FirstRefusal(*results)) {
            out.failure = salesforce::SaveResultStatus(*refused);
            out.failed_statement = part.members[refused - results->data()].first;
            return out;
          }
          continue;
        }
      }
      if (reply.http_status >= 200 && reply.http_status < 300) {
        if (write) {
          // Answered, but not readably: what was applied is not known.
          out.failure = salesforce::MarkOutcomeUnknown(absl::InternalError(
              StrCat("unreadable reply to the write of ", part.table->object, " records")));
          return out;
        }
        continue;
      }
      absl::Status failed = salesforce::StatusFromErrorReply(reply.http_status, reply.body);
      if (IsHalted(failed)) {
        rolled_back = true;
        continue;
      }
      out.failure = failed;
      out.failed_statement = part.members.front().first;
      return out;
    }
  }
  if (rolled_back) {
    out.failure = absl::AbortedError("Salesforce rolled the request back without saying why");
    return out;
  }
  for (const UnitPart& part : request.parts) {
    std::vector<salesforce::Fields> records;
    for (const auto& [s, r] : part.members) records.push_back(statements[s].records[r]);
    salesforce::CompositeSubresponse read{.http_status = 200,
                                          .body = R"({"totalSize":0,"done":true,"records":[]})"};
    if (part.read_index) read = replies[*part.read_index];
    out.parts.push_back(ReadChunkReply(part.operation, *part.table, records,
                                       {replies[part.write_index], read}, org_id, now_ms));
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> RowsById(std::string_view json_array) {
  // Each row's text as PostgreSQL wrote it: re-serialising would turn exact numerics into
  // doubles (1.50 -> 1.5, and worse for long ones).
  simdjson::ondemand::parser parser;
  simdjson::dom::parser id_parser;
  simdjson::padded_string padded(json_array);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array array;
  if (auto e = parser.iterate(padded).get(doc); e || (e = doc.get_array().get(array))) {
    return absl::InternalError(StrCat("rows: not a JSON array: ", simdjson::error_message(e)));
  }
  std::map<std::string, std::string> out;
  for (auto element : array) {
    simdjson::ondemand::object object;
    std::string_view raw;
    if (auto e = element.get_object().get(object); e || (e = object.raw_json().get(raw))) {
      return absl::InternalError(StrCat("rows: ", simdjson::error_message(e)));
    }
    std::string_view id;
    simdjson::dom::element row;
    if (id_parser.parse(raw.data(), raw.size()).get(row) || row["id"].get_string().get(id)) {
      return absl::InternalError("rows: a row without a string id");
    }
    out[std::string(id)] = std::string(raw);
  }
  return out;
}

}  // namespace sfbridge::proxy::writes
