#pragma once

// Layered configuration, validated at start-up.
//
// Every service declares the keys it understands in a ConfigSchema. Values are taken from, in
// increasing precedence: the schema's defaults, a config file (--config PATH or SFBRIDGE_CONFIG;
// `key = value` properties, or JSON whose nested objects spell dotted keys), the environment
// (SFBRIDGE_ + the key in upper case with '.' and '-' as '_': kafka.brokers ->
// SFBRIDGE_KAFKA_BROKERS), and command-line flags (--kafka.brokers=HOST:PORT or --kafka.brokers
// HOST:PORT).
//
// Load() checks everything at once and reports every problem in one error, each line naming the
// key, what was expected, what was found and where it came from. Unknown keys in a file or on the
// command line are errors (with a suggestion when a known key is close); unknown SFBRIDGE_*
// environment variables are ignored, since a shell may carry them for other tools.
// Values of keys marked secret never appear in messages or in Describe().

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sfbridge::core {

enum class ConfigType { kString, kInt, kBool, kDuration };

struct ConfigKey {
  std::string name;  // dotted, lower case: "kafka.brokers"
  ConfigType type = ConfigType::kString;
  std::string help;
  std::string default_value;  // in the key's text form; empty with required = no default
  bool required = false;
  bool secret = false;
  int64_t min = INT64_MIN;  // kInt, kDuration (in milliseconds)
  int64_t max = INT64_MAX;
  std::vector<std::string> choices;  // kString: when not empty, the only allowed values
};

class ConfigSchema {
 public:
  // Adds a key; returns *this for chaining. Names must be unique.
  ConfigSchema& Add(ConfigKey key);
  const std::vector<ConfigKey>& keys() const { return keys_; }
  const ConfigKey* Find(std::string_view name) const;
  // One paragraph per key: name, type, default, environment variable, help. For --help.
  std::string HelpText() const;

 private:
  std::vector<ConfigKey> keys_;
};

// The raw inputs, so that tests can supply them without touching the process.
struct ConfigInput {
  std::vector<std::string> args;           // command-line arguments after the program name
  std::map<std::string, std::string> env;  // environment variables
};

// Reads the process environment into a map.
std::map<std::string, std::string> ProcessEnvironment();

// The environment variable that sets `key`: "kafka.brokers" -> "SFBRIDGE_KAFKA_BROKERS".
std::string EnvNameFor(std::string_view key);

// A validated configuration. Immutable; safe to share between threads.
class Config {
 public:
  // Errors: kInvalidArgument with one line per problem.
  static absl::StatusOr<Config> Load(const ConfigSchema& schema, const ConfigInput& input);

  // Typed getters for keys of the schema. Asking for an undeclared key or with the wrong type
  // is a programming error and aborts.
  const std::string& GetString(std::string_view key) const;
  int64_t GetInt(std::string_view key) const;
  bool GetBool(std::string_view key) const;
  std::chrono::milliseconds GetDuration(std::string_view key) const;
  // True when the key was set somewhere (not only by its default).
  bool IsSet(std::string_view key) const;

  // Positional arguments left on the command line (not flags), e.g. a sub-command.
  const std::vector<std::string>& positional() const { return positional_; }
  // True when --help or -h was given.
  bool help_requested() const { return help_requested_; }

  // "key = value (source)" lines, secrets masked. For a start-up log line.
  std::string Describe() const;

 private:
  struct Entry {
    ConfigKey key;  // a copy: the schema need not outlive the Config
    std::string text;
    std::string source;  // "default", "file /etc/x.properties", "env SFBRIDGE_X", "flag --x"
    int64_t number = 0;  // kInt and kDuration (ms)
    bool flag = false;   // kBool
    bool set = false;
  };
  const Entry& Get(std::string_view key, ConfigType type) const;

  std::map<std::string, Entry, std::less<>> entries_;
  std::vector<std::string> positional_;
  bool help_requested_ = false;
};

// Parses "250ms", "3s", "2m", "1h", "1d" (also "1.5s"). Errors name the expected form.
absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace sfbridge::core
