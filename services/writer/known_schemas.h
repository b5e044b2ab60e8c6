#pragma once

// What the consumer loop (consumer_loop.h) knows of an org's object schemas, to tell which
// records may be applied now and which must wait for a schema: the objects and fields every
// schema received names (a removed field keeps its column, so it stays known), the schema
// fingerprints received, and the names given up on (no schema named them within the grace:
// records holding them are parked without waiting, until a newer schema of the object arrives).
// Pure bookkeeping, no I/O; not thread-safe.

#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "sfbridge/v1/schema.pb.h"
#include "writer/record_view.h"

namespace sfbridge::writer {

class KnownSchemas {
 public:
  // Whether `schema` is the one last added for its object (same fingerprint and field count):
  // nothing to ensure again.
  bool Unchanged(const v1::ObjectSchema& schema) const;
  // A schema whose table has been ensured: its object, fields and fingerprint are known, and
  // whatever was given up for the object is waited for again.
  void Add(v1::ObjectSchema schema);

  // The names the changes need and no schema received holds, not given up: "Object" for an
  // unknown object, "Object.Field" for an unknown field ("Id" is always known). A change whose
  // schema_fingerprint was received is known to hold only known fields. With `all` false, stops
  // at the first change that needs any.
  std::set<std::string> Missing(const std::vector<ChangeView>& changes, bool all) const;
  // `name` ("Object" or "Object.Field") is no longer waited for.
  void GiveUp(const std::string& name) { given_up_.insert(name); }

 private:
  std::map<std::string, v1::ObjectSchema> latest_;  // object -> last schema added
  // object -> every field any schema added named
  std::map<std::string, std::unordered_set<std::string>> fields_;
  std::map<std::string, std::set<std::string>> fingerprints_;  // object -> fingerprints added
  std::set<std::string> given_up_;
};

}  // namespace sfbridge::writer
