#!/usr/bin/env bash
# Installs the third-party clients that tests drive sfbridge-proxy with, for the tests only:
#   a Python virtual environment with SQLAlchemy, Django and psycopg
#     (tests/integration/proxy_e2e/clients/requirements.txt, every package pinned)
#   a node_modules folder with Knex and pg (tests/integration/proxy_e2e/clients/package.json and
#     package-lock.json, installed with `npm ci`)
#   pgx_client, a Go program using pgx (tests/integration/proxy_e2e/clients/pgx, modules pinned by go.mod and
#     go.sum), built with the Go toolchain the deployment tools need (scripts/tools/tools.sh);
#     without Go it is left out and the test that uses it says so
# They go to a cache outside the source tree, one folder per version of those manifests
# ($SFBRIDGE_TEST_CLIENTS_CACHE, default ~/.cache/sfbridge/test-clients/<hash>), so a fresh
# clone on the same machine reuses them; .cache/test-clients (git-ignored) links to the folder in
# use, and the tests look there. Idempotent: when the folder is complete this returns at once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
clients="$root/tests/integration/proxy_e2e/clients"
cache=${SFBRIDGE_TEST_CLIENTS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sfbridge/test-clients}
python=/usr/bin/python3  # Debian's, as on every machine install-deps.sh prepares

for tool in "$python" node npm; do
  command -v "$tool" >/dev/null || {
    echo "test-clients: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  }
done

go_version() { command -v go >/dev/null && go version || echo "no go"; }
key=$(cat "$clients/requirements.txt" "$clients/package.json" "$clients/package-lock.json" \
  "$clients"/pgx/go.mod "$clients"/pgx/go.sum "$clients"/pgx/*.go \
  <("$python" --version) <(node --version) <(go_version) | sha256sum | cut -c1-16)
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
  if command -v go >/dev/null; then
    (cd "$clients/pgx" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -o "$dir/pgx_client" .) \
      >"$dir/go.log" 2>&1 || {
      echo "test-clients: building the pgx client failed; see $dir/go.log" >&2
      tail -20 "$dir/go.log" >&2
      exit 1
    }
  else
    echo "test-clients: Go is missing; the pgx client is left out" >&2
  fi
  touch "$dir/.complete"
  echo "test-clients: installed in $(($(date +%s) - start)) s"
else
  echo "test-clients: present in $dir"
fi
ln -sfn "$dir" "$link"
