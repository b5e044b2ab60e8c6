#include "common/core/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "Poco/AutoPtr.h"
#include "Poco/Exception.h"
#include "Poco/Util/AbstractConfiguration.h"
#include "Poco/Util/JSONConfiguration.h"
#include "Poco/Util/PropertyFileConfiguration.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "common/core/strings.h"

extern char** environ;

namespace sfbridge::core {
namespace {

constexpr std::string_view kConfigFileKey = "config";

const char* TypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kString:
      return "string";
    case ConfigType::kInt:
      return "integer";
    case ConfigType::kBool:
      return "boolean";
    case ConfigType::kDuration:
      return "duration";
  }
  return "?";
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Suggestion(const ConfigSchema& schema, std::string_view name) {
  const ConfigKey* best = nullptr;
  size_t best_distance = 4;  // farther than this is no suggestion, just noise
  for (const ConfigKey& key : schema.keys()) {
    size_t d = EditDistance(name, key.name);
    if (d < best_distance) {
      best_distance = d;
      best = &key;
    }
  }
  return best ? core::StrCat("; did you mean '", best->name, "'?") : "";
}

std::string RangeText(const ConfigKey& key) {
  bool has_min = key.min != INT64_MIN, has_max = key.max != INT64_MAX;
  std::string unit = key.type == ConfigType::kDuration ? "ms" : "";
  if (has_min && has_max) return core::StrCat(" from ", key.min, unit, " to ", key.max, unit);
  if (has_min) return core::StrCat(" of at least ", key.min, unit);
  if (has_max) return core::StrCat(" of at most ", key.max, unit);
  return "";
}

// Reads every leaf key of a Poco configuration into `out` as dotted names.
void CollectLeaves(const Poco::Util::AbstractConfiguration& config, const std::string& prefix,
                   std::map<std::string, std::string>& out) {
  Poco::Util::AbstractConfiguration::Keys keys;
  config.keys(prefix, keys);
  if (keys.empty()) {
    if (!prefix.empty()) out[prefix] = config.getRawString(prefix, "");
    return;
  }
  for (const std::string& k : keys) {
    CollectLeaves(config, prefix.empty() ? k : prefix + "." + k, out);
  }
}

absl::StatusOr<std::map<std::string, std::string>> ReadFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::InvalidArgumentError(
        core::StrCat("config: file '", path, "' does not exist or is not a regular file"));
  }
  std::map<std::string, std::string> values;
  try {
    Poco::AutoPtr<Poco::Util::AbstractConfiguration> config;
    if (path.ends_with(".json")) {
      config = new Poco::Util::JSONConfiguration(path);
    } else {
      config = new Poco::Util::PropertyFileConfiguration(path);
    }
    CollectLeaves(*config, "", values);
  } catch (const Poco::Exception& e) {
    return absl::InvalidArgumentError(
        core::StrCat("config: file '", path, "' cannot be read: ", e.displayText()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        core::StrCat("config: file '", path, "' cannot be read: ", e.what()));
  }
  return values;
}

}  // namespace

ConfigSchema& ConfigSchema::Add(ConfigKey key) {
  keys_.push_back(std::move(key));
  return *this;
}

const ConfigKey* ConfigSchema::Find(std::string_view name) const {
  for (const ConfigKey& key : keys_) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

std::string ConfigSchema::HelpText() const {
  std::string out;
  for (const ConfigKey& key : keys_) {
    core::StrAppend(&out, "  --", key.name, " (", TypeName(key.type), ")");
    if (key.required) {
      core::StrAppend(&out, ", required");
    } else if (!key.default_value.empty()) {
      core::StrAppend(&out, ", default ", key.default_value);
    }
    core::StrAppend(&out, ", env ", EnvNameFor(key.name), "\n      ", key.help);
    if (!key.choices.empty()) {
      core::StrAppend(&out, " One of: ", core::StrJoin(key.choices, ", "), ".");
    }
    core::StrAppend(&out, "\n");
  }
  return out;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::string EnvNameFor(std::string_view key) {
  std::string name = "SFBRIDGE_";
  for (char c : key) {
    name.push_back(c == '.' || c == '-' ? '_' : absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  absl::string_view stripped =
      absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size()));
  std::string_view t(stripped.data(), stripped.size());
  size_t unit_at = t.find_first_not_of("0123456789.");
  if (t.empty() || unit_at == 0 || unit_at == std::string_view::npos) {
    return absl::InvalidArgumentError(
        core::StrCat("expected a duration such as 500ms, 3s, 2m, 1h or 1d, got '", text, "'"));
  }
  double amount = 0;
  if (!absl::SimpleAtod(std::string(t.substr(0, unit_at)), &amount) || amount < 0) {
    return absl::InvalidArgumentError(
        core::StrCat("expected a duration such as 500ms, 3s, 2m, 1h or 1d, got '", text, "'"));
  }
  std::string_view unit = t.substr(unit_at);
  double ms_per_unit = 0;
  if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "m") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else if (unit == "d") {
    ms_per_unit = 86'400'000;
  } else {
    return absl::InvalidArgumentError(
        core::StrCat("expected a duration such as 500ms, 3s, 2m, 1h or 1d, got '", text,
                     "' (unit '", unit, "' is not one of ms, s, m, h, d)"));
  }
  return std::chrono::milliseconds(static_cast<int64_t>(amount * ms_per_unit + 0.5));
}

absl::StatusOr<Config> Config::Load(const ConfigSchema& schema, const ConfigInput& input) {
  Config config;
  std::vector<std::string> problems;
  for (const ConfigKey& key : schema.keys()) {
    Entry& e = config.entries_[key.name];
    e.key = key;
    e.text = key.default_value;
    e.source = "default";
  }

  // Flags first (to find --config), applied last.
  std::vector<std::pair<std::string, std::string>> flags;
  std::string config_file;
  for (size_t i = 0; i < input.args.size(); ++i) {
    const std::string& arg = input.args[i];
    if (arg == "--help" || arg == "-h") {
      config.help_requested_ = true;
      continue;
    }
    if (!arg.starts_with("--") || arg.size() == 2) {
      config.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else {
      const ConfigKey* key = schema.Find(name);
      bool is_bool = key && key->type == ConfigType::kBool;
      bool next_is_value = i + 1 < input.args.size() && !input.args[i + 1].starts_with("--");
      if (is_bool &&
          !(next_is_value && (input.args[i + 1] == "true" || input.args[i + 1] == "false"))) {
        value = "true";  // a bare boolean flag
      } else if (next_is_value) {
        value = input.args[++i];
      } else if (name != kConfigFileKey) {
        problems.push_back(core::StrCat(name, ": flag --", name, " needs a value"));
        continue;
      }
    }
    if (name == kConfigFileKey) {
      config_file = value;
    } else if (!schema.Find(name)) {
      problems.push_back(core::StrCat(name, ": unknown flag --", name, Suggestion(schema, name)));
    } else {
      flags.emplace_back(name, value);
    }
  }
  if (config_file.empty()) {
    auto it = input.env.find("SFBRIDGE_CONFIG");
    if (it != input.env.end()) config_file = it->second;
  }

  if (!config_file.empty()) {
    absl::StatusOr<std::map<std::string, std::string>> file_values = ReadFile(config_file);
    if (!file_values.ok()) {
      problems.push_back(std::string(file_values.status().message()));
    } else {
      for (const auto& [name, value] : *file_values) {
        auto it = config.entries_.find(name);
        if (it == config.entries_.end()) {
          problems.push_back(core::StrCat(name, ": unknown key in file '", config_file, "'",
                                          Suggestion(schema, name)));
          continue;
        }
        it->second.text = value;
        it->second.source = core::StrCat("file ", config_file);
        it->second.set = true;
      }
    }
  }
  for (auto& [name, e] : config.entries_) {
    auto it = input.env.find(EnvNameFor(name));
    if (it == input.env.end()) continue;
    e.text = it->second;
    e.source = core::StrCat("env ", it->first);
    e.set = true;
  }
  for (const auto& [name, value] : flags) {
    Entry& e = config.entries_.find(name)->second;
    e.text = value;
    e.source = core::StrCat("flag --", name);
    e.set = true;
  }

  for (auto& [name, e] : config.entries_) {
    const ConfigKey& key = e.key;
    std::string shown = key.secret ? "(secret)" : core::StrCat("'", e.text, "'");
    if (e.text.empty()) {
      if (key.required) {
        problems.push_back(core::StrCat(name, ": required but not set (set it in the config file, ",
                                        "as ", EnvNameFor(name), ", or with --", name, "=...)"));
      }
      continue;
    }
    switch (key.type) {
      case ConfigType::kString:
        if (!key.choices.empty() &&
            std::find(key.choices.begin(), key.choices.end(), e.text) == key.choices.end()) {
          problems.push_back(core::StrCat(name, ": expected one of ",
                                          core::StrJoin(key.choices, ", "), ", got ", shown,
                                          " (from ", e.source, ")"));
        }
        break;
      case ConfigType::kInt: {
        int64_t v = 0;
        if (!absl::SimpleAtoi(e.text, &v) || v < key.min || v > key.max) {
          problems.push_back(core::StrCat(name, ": expected an integer", RangeText(key), ", got ",
                                          shown, " (from ", e.source, ")"));
        }
        e.number = v;
        break;
      }
      case ConfigType::kBool: {
        std::string lower = absl::AsciiStrToLower(e.text);
        if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") {
          e.flag = true;
        } else if (lower == "false" || lower == "0" || lower == "no" || lower == "off") {
          e.flag = false;
        } else {
          problems.push_back(core::StrCat(name, ": expected true or false, got ", shown, " (from ",
                                          e.source, ")"));
        }
        break;
      }
      case ConfigType::kDuration: {
        absl::StatusOr<std::chrono::milliseconds> d = ParseDuration(e.text);
        if (!d.ok()) {
          problems.push_back(
              core::StrCat(name, ": ", key.secret ? "bad duration" : ToString(d.status().message()),
                           " (from ", e.source, ")"));
          break;
        }
        e.number = d->count();
        if (e.number < key.min || e.number > key.max) {
          problems.push_back(core::StrCat(name, ": expected a duration", RangeText(key), ", got ",
                                          shown, " (from ", e.source, ")"));
        }
        break;
      }
    }
  }
  if (!problems.empty() && !config.help_requested_) {
    return absl::InvalidArgumentError(
        core::StrCat("invalid configuration:\n  ", core::StrJoin(problems, "\n  ")));
  }
  return config;
}

const Config::Entry& Config::Get(std::string_view key, ConfigType type) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.key.type != type) {
    fprintf(stderr, "config: key '%.*s' is not declared with type %s\n",
            static_cast<int>(key.size()), key.data(), TypeName(type));
    std::abort();
  }
  return it->second;
}

const std::string& Config::GetString(std::string_view key) const {
  return Get(key, ConfigType::kString).text;
}
int64_t Config::GetInt(std::string_view key) const { return Get(key, ConfigType::kInt).number; }
bool Config::GetBool(std::string_view key) const { return Get(key, ConfigType::kBool).flag; }
std::chrono::milliseconds Config::GetDuration(std::string_view key) const {
  return std::chrono::milliseconds(Get(key, ConfigType::kDuration).number);
}
bool Config::IsSet(std::string_view key) const {
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.set;
}

std::string Config::Describe() const {
  std::vector<std::string> lines;
  for (const auto& [name, e] : entries_) {
    lines.push_back(core::StrCat(name, " = ", e.key.secret && !e.text.empty() ? "***" : e.text,
                                 " (", e.source, ")"));
  }
  return core::StrJoin(lines, "\n");
}

}  // namespace sfbridge::core
