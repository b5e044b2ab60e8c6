#include "common/control/names.h"

#include "common/core/strings.h"

namespace sfbridge::control {

std::string RecordsTopic(std::string_view org_id) {
  return core::StrCat("sfbridge.", org_id, ".records");
}

std::string SchemasTopic(std::string_view org_id) {
  return core::StrCat("sfbridge.", org_id, ".schemas");
}

std::string WriterConsumerGroup(std::string_view org_id) {
  return core::StrCat("sfbridge-writer-", org_id);
}

}  // namespace sfbridge::control
