#!/usr/bin/env bash
# Builds the deployment tools from source with the Go toolchain and caches them in
# .cache/tools (git-ignored); a tool already built at its pinned version is not built again.
#   scripts/tools/tools.sh helm          prints the path of helm, building it if needed
#   scripts/tools/tools.sh kubeconform   the same for kubeconform (offline manifest validator)
#   scripts/tools/tools.sh k8s-schemas   prints the directory of JSON schemas, one file per kind,
#                                        generated from the OpenAPI spec inside a pinned
#                                        k8s.io/kubernetes module and the ServiceMonitor and
#                                        PrometheusRule definitions inside a pinned
#                                        prometheus-operator module (see k8s-schemas/main.go)
#   scripts/tools/tools.sh kube-version  prints the Kubernetes version the schemas describe
#   scripts/tools/tools.sh all           builds all three
# Needs Go (Debian's golang-go or any Go >= 1.24) and the Go module proxy; nothing else is
# downloaded. Progress goes to stderr, the path alone to stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

helm_version=v3.19.5
kubeconform_version=v0.7.0
kubernetes_version=v1.33.6
prometheus_operator_version=v0.82.2

cache=${SFBRIDGE_TOOLS_DIR:-$root/.cache/tools}
mkdir -p "$cache"

need_go() {
  command -v go >/dev/null || {
    echo "tools: Go is needed to build $1 (apt-get install golang-go)" >&2
    exit 1
  }
}

# go install PACKAGE@VERSION into $cache/NAME-VERSION/; prints the binary's path.
go_tool() {
  local name=$1 package=$2 version=$3
  local dir="$cache/$name-$version"
  if [ ! -x "$dir/$name" ]; then
    need_go "$name"
    echo "tools: building $name $version from source (once; cached in $dir)" >&2
    mkdir -p "$dir"
    GOBIN="$dir" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install "$package@$version" >&2
  fi
  echo "$dir/$name"
}

helm_path() { go_tool helm helm.sh/helm/v3/cmd/helm "$helm_version"; }
kubeconform_path() {
  go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$kubeconform_version"
}

# The directory of a Go module at a version, downloaded into the module cache when missing.
module_dir() {
  local dir
  dir=$(cd "$(mktemp -d)" && go mod download -json "$1@$2" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "tools: module $1 $2 could not be downloaded" >&2; exit 1; }
  echo "$dir"
}

# JSON schemas in kubeconform's layout, <dir>/<kind>-<group>-<version>.json: use
#   kubeconform -schema-location "<dir>/{{ .ResourceKind }}{{ .KindSuffix }}.json"
k8s_schemas_path() {
  local dir="$cache/k8s-schemas-$kubernetes_version-po-$prometheus_operator_version"
  if [ ! -f "$dir/.complete" ]; then
    need_go k8s-schemas
    echo "tools: generating JSON schemas of Kubernetes $kubernetes_version and prometheus-operator" \
      "$prometheus_operator_version (once; cached in $dir)" >&2
    local k8s po
    k8s=$(module_dir k8s.io/kubernetes "$kubernetes_version")
    po=$(module_dir github.com/prometheus-operator/prometheus-operator "$prometheus_operator_version")
    rm -rf "$dir"
    (cd "$here/k8s-schemas" && GOFLAGS=-buildvcs=false go run . "$dir" \
      "$k8s/api/openapi-spec/swagger.json" \
      "$po/jsonnet/prometheus-operator/servicemonitors-crd.json" \
      "$po/jsonnet/prometheus-operator/prometheusrules-crd.json") >&2
    touch "$dir/.complete"
  fi
  echo "$dir"
}

case "${1:-}" in
  helm) helm_path ;;
  kubeconform) kubeconform_path ;;
  k8s-schemas) k8s_schemas_path ;;
  kube-version) echo "${kubernetes_version#v}" ;;
  all) helm_path && kubeconform_path && k8s_schemas_path ;;
  *)
    echo "usage: $0 helm|kubeconform|k8s-schemas|all" >&2
    exit 2
    ;;
esac
