#include "common/salesforce/request_gate.h"

namespace sfbridge::salesforce {

std::string_view CallKindName(CallKind kind) {
  switch (kind) {
    case CallKind::kAuth:
      return "auth";
    case CallKind::kDescribe:
      return "describe";
    case CallKind::kQuery:
      return "query";
    case CallKind::kQueryMore:
      return "query_more";
    case CallKind::kCollections:
      return "collections";
    case CallKind::kComposite:
      return "composite";
    case CallKind::kLimits:
      return "limits";
    case CallKind::kGetDeleted:
      return "get_deleted";
    case CallKind::kGetUpdated:
      return "get_updated";
    case CallKind::kSObject:
      return "sobject";
    case CallKind::kBulkQuery:
      return "bulk_query";
  }
  return "unknown";
}

}  // namespace sfbridge::salesforce
