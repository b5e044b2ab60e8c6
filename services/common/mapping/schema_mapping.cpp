#include "common/mapping/schema_mapping.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <unordered_set>

#include "absl/status/status.h"
#include "common/core/strings.h"

namespace sfbridge::mapping {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Unsupported without a filter or by keyset reads; see DefaultExclusion.
constexpr std::array<std::string_view, 4> kExcludedSuffixes = {"History", "Share", "Feed",
                                                               "ChangeEvent"};
constexpr std::array<std::string_view, 7> kExcludedCustomSuffixes = {
    "__e", "__b", "__x", "__mdt", "__hd", "__kav", "__ka"};
constexpr std::array<std::string_view, 9> kExcludedObjects = {
    "ContentDocumentLink", "ContentFolderItem", "ContentFolderMember", "IdeaComment",     "Vote",
    "RecentlyViewed",      "UserRecordAccess",  "FlexQueueItem",       "DatacloudAddress"};

}  // namespace

std::string SchemaFingerprint(const salesforce::SObjectDescribe& describe) {
  // Fields separated by \x1e, attributes by \x1f: neither can occur in an API name or type, so
  // two different field lists never serialise to the same bytes.
  std::string canonical;
  canonical.reserve(describe.fields.size() * 40);
  for (const auto& f : describe.fields) {
    core::StrAppend(&canonical, f.name, '\x1f', f.type, '\x1f', f.length, '\x1f', f.precision,
                    '\x1f', f.scale, '\x1e');
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(canonical.data(), canonical.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

v1::ObjectSchema ToObjectSchema(std::string_view org_id,
                                const salesforce::SObjectDescribe& describe,
                                int64_t described_at_ms) {
  v1::ObjectSchema schema;
  schema.set_org_id(std::string(org_id));
  schema.set_name(describe.name);
  schema.set_label(describe.label);
  schema.set_label_plural(describe.label_plural);
  schema.set_key_prefix(describe.key_prefix);
  schema.set_custom(describe.custom);
  schema.set_queryable(describe.queryable);
  schema.set_replicateable(describe.replicateable);
  schema.set_createable(describe.createable);
  schema.set_updateable(describe.updateable);
  schema.set_deletable(describe.deletable);
  for (const auto& f : describe.fields) {
    v1::FieldSchema* out = schema.add_fields();
    out->set_name(f.name);
    out->set_label(f.label);
    out->set_type(f.type);
    out->set_length(static_cast<int32_t>(f.length));
    out->set_precision(static_cast<int32_t>(f.precision));
    out->set_scale(static_cast<int32_t>(f.scale));
    out->set_digits(static_cast<int32_t>(f.digits));
    out->set_nillable(f.nillable);
    out->set_createable(f.createable);
    out->set_updateable(f.updateable);
    out->set_calculated(f.calculated);
    for (const auto& r : f.reference_to) out->add_reference_to(r);
    for (const auto& p : f.picklist_values) {
      v1::PicklistValue* v = out->add_picklist_values();
      v->set_value(p.value);
      v->set_label(p.label);
      v->set_active(p.active);
      v->set_default_value(p.default_value);
    }
    out->set_restricted_picklist(f.restricted_picklist);
    out->set_external_id(f.external_id);
    out->set_unique(f.unique);
    out->set_custom(f.custom);
    out->set_compound_field_name(f.compound_field_name);
    out->set_defaulted_on_create(f.defaulted_on_create);
    out->set_relationship_name(f.relationship_name);
  }
  schema.set_fingerprint(SchemaFingerprint(describe));
  schema.set_described_at_ms(described_at_ms);
  return schema;
}

std::optional<std::string> DefaultExclusion(const salesforce::SObjectSummary& object) {
  if (!object.queryable) return "not queryable";
  if (!object.replicateable) return "not replicateable";
  if (object.deprecated_and_hidden) return "deprecated and hidden";
  for (std::string_view suffix : kExcludedCustomSuffixes) {
    if (EndsWith(object.name, suffix)) return core::StrCat("a ", suffix, " object");
  }
  for (std::string_view suffix : kExcludedSuffixes) {
    if (EndsWith(object.name, suffix)) return core::StrCat("a *", suffix, " object");
  }
  for (std::string_view name : kExcludedObjects) {
    if (object.name == name) return "needs a filter in every query";
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<std::string>> SelectObjects(
    const std::vector<salesforce::SObjectSummary>& global,
    const std::optional<std::vector<std::string>>& requested) {
  std::vector<std::string> selected;
  if (!requested) {
    for (const auto& object : global) {
      if (!DefaultExclusion(object)) selected.push_back(object.name);
    }
    return selected;
  }
  std::unordered_map<std::string, const salesforce::SObjectSummary*> by_lower_name;
  for (const auto& object : global) by_lower_name.emplace(Lower(object.name), &object);
  std::vector<std::string> unknown, not_queryable;
  std::unordered_set<std::string> seen;
  for (const auto& name : *requested) {
    auto it = by_lower_name.find(Lower(name));
    if (it == by_lower_name.end()) {
      unknown.push_back(name);
    } else if (!it->second->queryable) {
      not_queryable.push_back(it->second->name);
    } else if (seen.insert(it->second->name).second) {
      selected.push_back(it->second->name);
    }
  }
  if (!unknown.empty() || !not_queryable.empty()) {
    std::string message = "cannot sync the configured objects:";
    if (!unknown.empty()) {
      core::StrAppend(&message, " not in the org: ", core::StrJoin(unknown, ", "), ";");
    }
    if (!not_queryable.empty()) {
      core::StrAppend(&message, " not queryable: ", core::StrJoin(not_queryable, ", "), ";");
    }
    message.pop_back();
    return absl::InvalidArgumentError(message);
  }
  return selected;
}

bool IsFetchedField(const salesforce::FieldDescribe& field) {
  return field.type != "address" && field.type != "location" && field.type != "base64";
}

ValueKind ValueKindOf(std::string_view type) {
  if (type == "boolean") return ValueKind::kBoolean;
  if (type == "int" || type == "long" || type == "double" || type == "currency" ||
      type == "percent") {
    return ValueKind::kNumber;
  }
  if (type == "datetime") return ValueKind::kDateTime;
  if (type == "date") return ValueKind::kDate;
  if (type == "time") return ValueKind::kTime;
  if (type == "multipicklist") return ValueKind::kMulti;
  if (type == "id" || type == "reference" || type == "string" || type == "textarea" ||
      type == "picklist" || type == "combobox" || type == "email" || type == "phone" ||
      type == "url" || type == "encryptedstring" || type == "datacategorygroupreference") {
    return ValueKind::kText;
  }
  return ValueKind::kAny;
}

int FieldPlan::IndexOf(std::string_view name) const {
  auto it = index.find(name);
  return it == index.end() ? -1 : it->second;
}

std::vector<std::string> FieldPlan::FieldNames() const {
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (const auto& f : fields) names.push_back(f.name);
  return names;
}

void FieldPlan::Reindex() {
  index.clear();
  for (size_t i = 0; i < fields.size(); ++i) index.emplace(fields[i].name, static_cast<int>(i));
  id_index = IndexOf("Id");
  modstamp_index = IndexOf("SystemModstamp");
  is_deleted_index = IndexOf("IsDeleted");
}

absl::StatusOr<FieldPlan> MakeFieldPlan(const salesforce::SObjectDescribe& describe) {
  FieldPlan plan;
  plan.object_name = describe.name;
  plan.schema_fingerprint = SchemaFingerprint(describe);
  for (const auto& f : describe.fields) {
    if (IsFetchedField(f)) plan.fields.push_back({f.name, f.type, ValueKindOf(f.type)});
  }
  plan.Reindex();
  for (std::string_view required : {"Id", "SystemModstamp"}) {
    const int i = plan.IndexOf(required);
    const ValueKind expected = required == "Id" ? ValueKind::kText : ValueKind::kDateTime;
    if (i < 0 || plan.fields[i].kind != expected) {
      return absl::FailedPreconditionError(
          core::StrCat("object ", describe.name, " has no ", required,
                       " field of the usual type: it cannot be read with a SystemModstamp "
                       "keyset cursor"));
    }
  }
  return plan;
}

}  // namespace sfbridge::mapping
