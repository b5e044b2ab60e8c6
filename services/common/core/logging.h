#pragma once

// Logging through spdlog: one named logger per component, messages in key=value form
// ("org=00D.. object=Contact records=2000 page fetched"), readable text on a terminal and one
// JSON object per line in containers. Never log a secret (token, password, key, client secret).

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "spdlog/logger.h"

namespace sfbridge::core {

enum class LogFormat { kText, kJson };

// Configures the process-wide sinks, format and level ("trace", "debug", "info", "warn",
// "error"). Call once at start-up, before other threads log. Errors: an unknown level.
absl::Status InitLogging(LogFormat format, std::string_view level);

// The logger named `component` ("fetcher", "writer.apply"), created on first use with the
// configured sinks. Thread-safe.
std::shared_ptr<spdlog::logger> Logger(std::string_view component);

// Escapes `text` for use inside a JSON string (quotes, backslashes, control characters).
std::string JsonEscape(std::string_view text);

}  // namespace sfbridge::core
