#pragma once

// Configuration keys that several sfbridge commands read alike.

#include "common/core/config.h"

namespace sfbridge::cli {

// postgres.url: the database the synced tables (and the control plane) are in; required.
inline core::ConfigKey PostgresUrlKey() {
  return {.name = "postgres.url",
          .help = "PostgreSQL connection URI or libpq string of the database sfbridge syncs into.",
          .required = true,
          .secret = true};
}

}  // namespace sfbridge::cli
