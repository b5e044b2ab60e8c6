#include "sfsim/org/record_ids.h"

#include "sfsim/org/random.h"
#include "sfsim/soql/record_id.h"

namespace sfbridge::sfsim::org {
namespace {

constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

}  // namespace

std::string MakeRecordId(std::string_view key_prefix, std::string_view pod,
                         std::uint64_t sequence) {
  std::string id(15, '0');
  id.replace(0, 3, key_prefix.substr(0, 3));
  id.replace(3, 2, pod.substr(0, 2));
  for (int i = 14; i >= 5 && sequence > 0; --i) {
    id[static_cast<std::size_t>(i)] = kBase62[sequence % 62];
    sequence /= 62;
  }
  return *soql::CanonicalId(id);
}

std::string OrgIdFromSeed(std::uint64_t seed) {
  Random random(MixSeed(seed, 0x0D));
  std::string pod = "5";
  pod.push_back(kBase62[10 + random.Below(26)]);  // an upper-case letter, like `5g` or `8W`
  return MakeRecordId("00D", pod, 1 + random.Below(62ULL * 62 * 62 * 62));
}

std::string PodFromOrgId(std::string_view org_id) { return std::string(org_id.substr(3, 2)); }

}  // namespace sfbridge::sfsim::org
