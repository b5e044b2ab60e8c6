#pragma once

// What the decoder fuzzing drives: every decoding entry point of pg_wire.h over one input, as
// the proxy would meet it from a client (startup packet, then regular messages) and from a
// server. Shared by the libFuzzer target (scripts/fuzz-proxy) and the ctest that replays a seed
// corpus plus random and mutated inputs.

#include <cstddef>
#include <string_view>

namespace sfbridge::proxy::testing {

// Decodes `data` every way the proxy can; must never crash, hang or read out of bounds.
// Returns the number of frames decoded (so the work cannot be optimised away).
size_t DecodeEverything(std::string_view data);

}  // namespace sfbridge::proxy::testing
