#include "writer/layout_cache.h"

#include <utility>

#include "common/core/strings.h"

namespace sfbridge::writer {

std::string LayoutCache::Key(std::string_view schema, std::string_view org_id,
                             std::string_view object) {
  return core::StrCat(schema, "\n", org_id, "\n", object);
}

std::optional<LayoutCache::Entry> LayoutCache::Get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void LayoutCache::Put(const std::string& key, Entry entry) {
  std::lock_guard lock(mu_);
  entries_.insert_or_assign(key, std::move(entry));
}

void LayoutCache::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
}

}  // namespace sfbridge::writer
