#pragma once

// What the apply path (applier.h) may remember between calls: each object's table, and its
// mapping together with the version of the synced_tables row it was read under (the row's xmin:
// EnsureTable rewrites that row in every transaction that changes the table or its mapping). A
// call checks the version under its table lock, in the round trip that takes the locks and
// probes, and reloads the mapping when it differs; so the cache saves two round trips and the
// catalog join without ever applying to a stale layout. A change made by hand outside
// EnsureTable (a column dropped, say) makes the call fail; the entry is then forgotten and the
// retry reads afresh. Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "writer/table_schema.h"

namespace sfbridge::writer {

class LayoutCache {
 public:
  struct Entry {
    std::string table;
    std::string version;
    std::shared_ptr<const TableMapping> mapping;
  };
  // The key of an object's entry.
  static std::string Key(std::string_view schema, std::string_view org_id, std::string_view object);

  std::optional<Entry> Get(const std::string& key) const;
  void Put(const std::string& key, Entry entry);
  void Forget(const std::string& key);

 private:
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace sfbridge::writer
