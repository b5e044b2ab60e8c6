#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/clock.h"
#include "sfsim/org/org.h"
#include "sfsim/org/schema.h"
#include "sfsim/org/table.h"

namespace sfbridge::sfsim::org {

// Everything the org holds. `objects`, `schemas` and `tables` are parallel vectors fixed at
// construction; the tables' contents and `last_stamp_ms` change only under `mu` held
// exclusively, and are read under `mu` held shared.
struct Store {
  explicit Store(core::Clock& clock) : clock(clock) {}
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Index into the vectors of the object named `name` (case-insensitive), or -1.
  int FindObject(std::string_view name) const;
  // Index of the object whose key prefix starts `id`, or -1.
  int ObjectOfId(std::string_view id) const;
  Table* TableOf(std::string_view name);
  const Table* TableOf(std::string_view name) const;

  // The SystemModstamp of the next change: the clock in ms, but never below the last one
  // handed out (the clock may go back). Call with `mu` held exclusively.
  std::int64_t NextStamp();
  // A new 18-char id for `table`. Call with `mu` held exclusively.
  std::string NewId(Table& table);

  core::Clock& clock;
  std::string org_id;
  std::string pod;
  std::vector<ObjectDef> objects;
  std::vector<std::unique_ptr<ObjectSchema>> schemas;
  std::vector<std::unique_ptr<Table>> tables;
  std::string api_user_id;  // CreatedById/LastModifiedById/OwnerId of API writes

  mutable std::shared_mutex mu;
  std::int64_t last_stamp_ms = 0;
};

}  // namespace sfbridge::sfsim::org
