#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sfbridge::sfsim::org {

// The 18-character id of the `sequence`-th record with `key_prefix` (3 chars) on the pod `pod`
// (2 base-62 chars): prefix + pod + sequence in 10 base-62 digits + the checksum suffix.
// Base-62 digits are 0-9A-Za-z, so ids of one prefix and pod sort (bytewise) in sequence order.
std::string MakeRecordId(std::string_view key_prefix, std::string_view pod, std::uint64_t sequence);

// The org id (`00D...`, 18 chars) and the pod used in its record ids, derived from a seed.
std::string OrgIdFromSeed(std::uint64_t seed);
std::string PodFromOrgId(std::string_view org_id);

}  // namespace sfbridge::sfsim::org
