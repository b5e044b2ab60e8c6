#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries the given programs load, one per
# line, sorted: what the image's runtime stage installs (deploy/Dockerfile), so it carries the
# libraries of the build stage and nothing else. Fails when a library is not found or belongs to
# no package.
#   deploy/runtime-packages.sh build/services/fetcher/sfbridge-fetcher ...
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 PROGRAM..." >&2; exit 2; }
libs=()
for program in "$@"; do
  [ -x "$program" ] || { echo "runtime-packages: $program is not an executable" >&2; exit 1; }
  out=$(ldd "$program") || { echo "runtime-packages: ldd $program failed" >&2; exit 1; }
  if grep -q 'not found' <<<"$out"; then
    echo "runtime-packages: $program needs libraries that are missing:" >&2
    grep 'not found' <<<"$out" >&2
    exit 1
  fi
  # "libpq.so.5 => /lib/x86_64-linux-gnu/libpq.so.5 (0x...)"; the loader itself has no arrow.
  while read -r path; do libs+=("$path"); done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3}' <<<"$out")
done
[ ${#libs[@]} -gt 0 ] || { echo "runtime-packages: no shared libraries found" >&2; exit 1; }
packages=()
for lib in $(printf '%s\n' "${libs[@]}" | sort -u); do
  # dpkg knows the path it installed, which may differ from ldd's by a /usr or a symlink.
  owner=""
  for candidate in "$lib" "$(readlink -f "$lib")" "/usr$lib" "${lib#/usr}"; do
    owner=$(dpkg-query -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$owner" ] && break
  done
  [ -n "$owner" ] || { echo "runtime-packages: no Debian package owns $lib" >&2; exit 1; }
  packages+=("$owner")
done
printf '%s\n' "${packages[@]}" | sort -u
