#include "writer/known_schemas.h"

#include <utility>

#include "common/core/strings.h"

namespace sfbridge::writer {

bool KnownSchemas::Unchanged(const v1::ObjectSchema& schema) const {
  auto known = latest_.find(schema.name());
  return known != latest_.end() && known->second.fingerprint() == schema.fingerprint() &&
         known->second.fields_size() == schema.fields_size();
}

void KnownSchemas::Add(v1::ObjectSchema schema) {
  const std::string prefix = schema.name() + ".";
  std::erase_if(given_up_, [&](const std::string& name) {
    return name == schema.name() || name.starts_with(prefix);
  });
  if (!schema.fingerprint().empty()) fingerprints_[schema.name()].insert(schema.fingerprint());
  std::unordered_set<std::string>& fields = fields_[schema.name()];
  for (const v1::FieldSchema& f : schema.fields()) fields.insert(f.name());
  latest_[schema.name()] = std::move(schema);
}

std::set<std::string> KnownSchemas::Missing(const std::vector<ChangeView>& changes,
                                            bool all) const {
  static const std::set<std::string> kNone;
  std::set<std::string> out;
  bool first = true;
  std::string object;       // changes of one object mostly come together
  std::string fingerprint;  // the last one found among the object's schemas
  const std::unordered_set<std::string>* known = nullptr;
  const std::set<std::string>* fingerprints = nullptr;
  for (const ChangeView& c : changes) {
    if (first || object != c.object_name()) {
      first = false;
      object = c.object_name();
      fingerprint.clear();
      auto it = latest_.contains(object) ? fields_.find(object) : fields_.end();
      known = it == fields_.end() ? nullptr : &it->second;
      auto fp = fingerprints_.find(object);
      fingerprints = fp == fingerprints_.end() ? &kNone : &fp->second;
    }
    if (known == nullptr) {
      if (!given_up_.contains(object)) out.insert(object);
    } else if (!c.schema_fingerprint().empty() &&
               (c.schema_fingerprint() == fingerprint ||
                fingerprints->contains(std::string(c.schema_fingerprint())))) {
      // Read with a schema received: every field it holds is known, no need to look.
      fingerprint = c.schema_fingerprint();
      continue;
    } else {
      for (const FieldEntry& f : c.fields()) {
        if (f.name == "Id") continue;
        std::string field(f.name);
        if (known->contains(field)) continue;
        std::string name = core::StrCat(object, ".", field);
        if (!given_up_.contains(name)) out.insert(std::move(name));
      }
    }
    if (!all && !out.empty()) break;
  }
  return out;
}

}  // namespace sfbridge::writer
