#!/usr/bin/env bash
# Configures and builds everything (services, tests, benchmarks) into build/ with Ninja.
# Uses ccache when present, so a rebuild in a fresh clone on the same machine is quick.
#   SFBRIDGE_BUILD_DIR  where to build (default: build/ in the repository)
#   SFBRIDGE_BUILD_TYPE CMake build type (default: RelWithDebInfo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SFBRIDGE_BUILD_DIR:-$root/build}
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths relative to the checkout, so a fresh clone elsewhere hits the same cache entries.
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
fi
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${SFBRIDGE_BUILD_TYPE:-RelWithDebInfo}" \
    "${launcher[@]}" >"$build.configure.log" 2>&1 || { cat "$build.configure.log" >&2; exit 1; }
  rm -f "$build.configure.log"
fi
echo "build: compiling in $build ($(nproc) jobs)"
cmake --build "$build" -j "$(nproc)"
