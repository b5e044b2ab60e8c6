# Helpers shared by the deployment tests (sourced).
#   root        the repository
#   check DESC COMMAND...   runs COMMAND, prints "ok: DESC" or "FAIL: DESC", counts both
#   finish      prints "N passed, N failed" and exits 1 when anything failed
#   doc FILE KIND NAME      the document of that kind and metadata.name in rendered manifests
#   properties DOC          the sfbridge.properties file inside a rendered ConfigMap
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
passed=0
failed=0

check() {
  local desc=$1
  shift
  if "$@"; then
    echo "ok: $desc"
    passed=$((passed + 1))
  else
    echo "FAIL: $desc"
    failed=$((failed + 1))
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

doc() {
  awk -v kind="kind: $2" -v name="  name: $3" '
    BEGIN { RS = "\n---\n" }
    index("\n" $0 "\n", "\n" kind "\n") && index("\n" $0 "\n", "\n" name "\n") { print }
  ' "$1"
}

properties() {
  awk '/^  sfbridge.properties: \|/ { on = 1; next } on && /^    / { print substr($0, 5); next }
       on { exit }' <<<"$1"
}

# has TEXT PATTERN: TEXT contains a line matching the extended regular expression.
has() { grep -qE -- "$2" <<<"$1"; }
lacks() { ! grep -qE -- "$2" <<<"$1"; }
