#!/usr/bin/env bash
# Installs the third-party clients that tests drive sfbridge-proxy with, for the tests only:
#   a Python virtual environment with SQLAlchemy, Django and psycopg
#     (tests/proxy_e2e/clients/requirements.txt, every package pinned)
#   a node_modules folder with Knex and pg (tests/proxy_e2e/clients/package.json and
#     package-lock.json, installed with `npm ci`)
# They go to a cache outside the source tree, one folder per version of those manifests
# ($SFBRIDGE_TEST_CLIENTS_CACHE, default ~/.cache/sfbridge/test-clients/<hash>), so a fresh
# clone on the same machine reuses them; .cache/test-clients (git-ignored) links to the folder in
# use, and the tests look there. Idempotent: when the folder is complete this returns at once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
clients="$root/tests/proxy_e2e/clients"
cache=${SFBRIDGE_TEST_CLIENTS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sfbridge/test-clients}
python=/usr/bin/python3  # Debian's, as on every machine install-deps.sh prepares

for tool in "$python" node npm; do
  command -v "$tool" >/dev/null || {
    echo "test-clients: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  }
done

key=$(cat "$clients/requirements.txt" "$clients/package.json" "$clients/package-lock.json" \
  <("$python" --version) <(node --version) | sha256sum | cut -c1-16)
dir="$cache/$key"
link="$root/.cache/test-clients"
mkdir -p "$cache" "$root/.cache"

# One installer at a time per cache (two checkouts may run their tests at once).
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$dir/.complete" ]; then
  start=$(date +%s)
  echo "test-clients: installing into $dir"
  rm -rf "$dir"
  mkdir -p "$dir/node"
  "$python" -m venv "$dir/venv"
  "$dir/venv/bin/pip" install -q --disable-pip-version-check --no-deps \
    -r "$clients/requirements.txt" >"$dir/pip.log" 2>&1 || {
    echo "test-clients: pip failed; see $dir/pip.log" >&2
    tail -20 "$dir/pip.log" >&2
    exit 1
  }
  cp "$clients/package.json" "$clients/package-lock.json" "$dir/node/"
  (cd "$dir/node" && npm ci --no-audit --no-fund --loglevel=error) >"$dir/npm.log" 2>&1 || {
    echo "test-clients: npm ci failed; see $dir/npm.log" >&2
    tail -20 "$dir/npm.log" >&2
    exit 1
  }
  touch "$dir/.complete"
  echo "test-clients: installed in $(($(date +%s) - start)) s"
else
  echo "test-clients: present in $dir"
fi
ln -sfn "$dir" "$link"
