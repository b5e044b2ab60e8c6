#include "common/core/logging.h"

#include <mutex>
#include <string>

#include "common/core/json_escape.h"
#include "common/core/strings.h"
#include "spdlog/details/log_msg.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace sfbridge::core {
namespace {

// %* in the JSON pattern: the message, escaped for a JSON string.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string escaped = JsonEscape(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

std::mutex& Mutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

struct State {
  spdlog::sink_ptr sink;
  spdlog::level::level_enum level = spdlog::level::info;
};

State& GetState() {
  static State* state = [] {
    auto* s = new State();
    s->sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    s->sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
    return s;
  }();
  return *state;
}

}  // namespace

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  AppendJsonEscaped(out, text);
  return out;
}

absl::Status InitLogging(LogFormat format, std::string_view level) {
  spdlog::level::level_enum lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(
        core::StrCat("log level '", level, "' is not one of trace, debug, info, warn, error, off"));
  }
  std::lock_guard lock(Mutex());
  State& state = GetState();
  state.level = lvl;
  if (format == LogFormat::kJson) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%*"})");
    state.sink->set_formatter(std::move(formatter));
  } else {
    state.sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
  }
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) { l->set_level(lvl); });
  return absl::OkStatus();
}

std::shared_ptr<spdlog::logger> Logger(std::string_view component) {
  std::lock_guard lock(Mutex());
  std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  State& state = GetState();
  auto logger = std::make_shared<spdlog::logger>(name, state.sink);
  logger->set_level(state.level);
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace sfbridge::core
