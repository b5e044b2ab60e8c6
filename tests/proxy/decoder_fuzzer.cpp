// libFuzzer entry point for the proxy's message decoder (scripts/fuzz-proxy builds and runs it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/proxy/decoder_fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sfbridge::proxy::testing::DecodeEverything(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
