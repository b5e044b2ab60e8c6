#pragma once

// Query locators: what nextRecordsUrl points at. A query's result is fixed when it runs (as in
// Salesforce); the locator remembers it and how far the client has read. Locators unused for
// `idle_timeout` are dropped, and at most `max_open` are kept (oldest dropped first).
// Thread-safe.

#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/core/clock.h"
#include "sfsim/org/org.h"

namespace sfbridge::sfsim {

class QueryCursors {
 public:
  QueryCursors(core::Clock& clock, std::chrono::milliseconds idle_timeout, size_t max_open);

  // Keeps `result` and returns its locator id ("01g" + 15 characters). `batch_size`: the page
  // size the query asked for, which its later pages keep (0 when it asked for none).
  std::string Open(std::shared_ptr<const org::QueryResult> result, size_t batch_size = 0);
  // The result of a locator; nullptr when unknown or expired. `batch_size`, when given, receives
  // the page size passed to Open.
  std::shared_ptr<const org::QueryResult> Find(const std::string& locator,
                                               size_t* batch_size = nullptr);
  // Forgets a locator once its last page was served.
  void Close(const std::string& locator);
  size_t open_count() const;

 private:
  struct Entry {
    std::shared_ptr<const org::QueryResult> result;
    size_t batch_size = 0;
    core::Clock::MonoTime last_used;
    std::list<std::string>::iterator order;
  };
  void ExpireLocked();

  core::Clock& clock_;
  const std::chrono::milliseconds idle_timeout_;
  const size_t max_open_;
  mutable std::mutex mu_;
  uint64_t next_ = 1;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // front: least recently used
};

}  // namespace sfbridge::sfsim
