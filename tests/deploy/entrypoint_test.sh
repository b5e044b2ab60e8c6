#!/usr/bin/env bash
# The image's entry point (deploy/entrypoint.sh) dispatches each program name to its binary, and
# deploy/runtime-packages.sh names the Debian packages the runtime stage must install. Runs the
# entry point against the binaries of a build, as the image lays them out in /usr/local/bin.
#   tests/deploy/entrypoint_test.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build=${1:?usage: entrypoint_test.sh BUILD_DIR}
entrypoint=$root/deploy/entrypoint.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/bin"
for program in fetcher/sfbridge-fetcher writer/sfbridge-writer cli/sfbridge sfsim/sfsim; do
  ln -s "$build/services/$program" "$work/bin/"
done
export SFBRIDGE_IMAGE_BIN_DIR=$work/bin

# dispatches NAME EXPECTED: `entrypoint NAME --help` runs the program whose help starts so.
dispatches() {
  local out
  out=$("$entrypoint" "$1" --help 2>&1) || { echo "  exit $?: $out" | head -5; return 1; }
  grep -q -- "$2" <<<"$(head -3 <<<"$out")" || { echo "  got: $(head -3 <<<"$out")"; return 1; }
}
check "fetcher runs sfbridge-fetcher" dispatches fetcher '^sfbridge-fetcher'
check "writer runs sfbridge-writer" dispatches writer '^sfbridge-writer'
check "cli runs sfbridge" dispatches cli '^sfbridge '
check "sfsim runs sfsim" dispatches sfsim 'sfsim'

# exits CODE PATTERN ARGS...: the entry point exits with CODE and says PATTERN on stderr.
exits() {
  local code=$1 pattern=$2 out status=0
  shift 2
  out=$("$entrypoint" "$@" 2>&1 >/dev/null) || status=$?
  [ "$status" = "$code" ] || { echo "  exit $status, expected $code"; return 1; }
  grep -q -- "$pattern" <<<"$out" || { echo "  stderr: $out"; return 1; }
}
check "an unknown program is a usage error (2)" exits 2 "unknown program 'fetch'" fetch
check "no program is a usage error (2)" exits 2 'usage:' 
check "a program missing from the image says so (127)" exits 127 'sfbridge-proxy is not in this image' proxy
check "arguments reach the program: a bad flag is its configuration error (2)" \
  exits 2 'fetcher.page-size' fetcher --fetcher.page-size=1 --postgres.url=x --kafka.brokers=x \
    --org.id=x --salesforce.client-id=x
ln -s "$build/services/writer/sfbridge-writer" "$work/bin/sfbridge-proxy"
check "proxy runs sfbridge-proxy once the image has it" dispatches proxy '^sfbridge-writer'

packages=$("$root/deploy/runtime-packages.sh" "$work"/bin/sfbridge-fetcher "$work"/bin/sfbridge-writer \
  "$work"/bin/sfbridge "$work"/bin/sfsim)
check "runtime packages include the client libraries the services load" \
  bash -c 'for p in libpq5 librdkafka1 libgrpc++1.51 libpocofoundation80 libspdlog1.10; do
    grep -qxF "$p" <<<"$1" || { echo "  missing $p in: $(tr "\n" " " <<<"$1")"; exit 1; }; done' _ "$packages"
check "runtime packages include no -dev package" lacks "$packages" '-dev$'
check "runtime-packages.sh refuses a file that is not a program" \
  bash -c '! "$1" "$2" 2>/dev/null' _ "$root/deploy/runtime-packages.sh" "$root/deploy/Dockerfile"

finish
