#pragma once

// Moved to common/mapping/schema_mapping.h. This header keeps the old path and names for the
// proxy's write path and its tests until they include the new one; it goes then.

#include "common/mapping/schema_mapping.h"

namespace sfbridge::fetcher {
using mapping::DefaultExclusion;
using mapping::FieldPlan;
using mapping::IsFetchedField;
using mapping::MakeFieldPlan;
using mapping::PlannedField;
using mapping::SchemaFingerprint;
using mapping::SelectObjects;
using mapping::ToObjectSchema;
using mapping::ValueKind;
using mapping::ValueKindOf;
}  // namespace sfbridge::fetcher
