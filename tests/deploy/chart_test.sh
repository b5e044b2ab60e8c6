#!/usr/bin/env bash
# The Helm chart, offline: for every values file in tests/deploy/values, `helm lint --strict` and
# `helm template`, the rendered manifests validated against Kubernetes' own schemas (and the
# Prometheus Operator's, for ServiceMonitor and PrometheusRule) with kubeconform in strict mode,
# what each example promises checked in its manifests, and every setting the chart writes into a
# service's properties file looked up in that service's --help. Every file in values/bad must be
# refused with the message its first line expects. Tools are built from source on first use
# (scripts/tools/tools.sh) and cached.
#   tests/deploy/chart_test.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build=${1:?usage: chart_test.sh BUILD_DIR}
chart=$root/helm/sfbridge
values=$root/tests/deploy/values

helm=$("$root/scripts/tools/tools.sh" helm)
kubeconform=$("$root/scripts/tools/tools.sh" kubeconform)
schemas=$("$root/scripts/tools/tools.sh" k8s-schemas)
kube_version=$("$root/scripts/tools/tools.sh" kube-version)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

render() { "$helm" template t "$chart" --kube-version "$kube_version" -f "$1"; }
validate() {
  "$kubeconform" -strict -summary -schema-location "$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$1"
}
count() { grep -c "^kind: $2\$" "$1" || true; }

# The keys a program declares, from its --help ("  --kafka.brokers (string), ...").
declare -A declared
for program in fetcher/sfbridge-fetcher writer/sfbridge-writer proxy/sfbridge-proxy; do
  name=$(basename "$program")
  if [ -x "$build/services/$program" ]; then
    declared[$name]=$("$build/services/$program" --help | sed -n 's/^  --\([a-z][a-z0-9.-]*\) (.*/\1/p')
  fi
done

# Every key of every rendered properties file is one its program declares.
keys_declared() {
  local manifests=$1 ok=0 name component program props key
  for name in $(awk '/^kind: ConfigMap$/ { getline; getline; print $2 }' "$manifests"); do
    component=${name##*-}
    program=sfbridge-$component
    [ "$component" = dashboard ] && continue
    if [ -z "${declared[$program]:-}" ]; then
      echo "  SKIPPED: settings of $name not checked: no $program in $build"
      continue
    fi
    props=$(properties "$(doc "$manifests" ConfigMap "$name")")
    [ -n "$props" ] || { echo "  $name has no properties"; ok=1; }
    for key in $(sed -n 's/^\([^ =]*\) = .*/\1/p' <<<"$props"); do
      if ! grep -qxF -- "$key" <<<"${declared[$program]}"; then
        echo "  $name sets '$key', which $program --help does not list"
        ok=1
      fi
    done
  done
  return $ok
}

# Every key that values.schema.json allows in fetcher.config / writer.config is declared.
schema_keys_declared() {
  local component=$1 ok=0 key
  [ -n "${declared[sfbridge-$component]:-}" ] || { echo "  SKIPPED: no sfbridge-$component"; return 0; }
  for key in $(jq -r ".properties.$component.properties.config.properties | keys[]" \
    "$chart/values.schema.json"); do
    grep -qxF -- "$key" <<<"${declared[sfbridge-$component]}" ||
      { echo "  values.schema.json allows $component.config.'$key', unknown to sfbridge-$component"; ok=1; }
  done
  return $ok
}
check "values.schema.json: fetcher.config keys are fetcher settings" schema_keys_declared fetcher
check "values.schema.json: writer.config keys are writer settings" schema_keys_declared writer

for file in "$values"/*.yaml; do
  example=$(basename "$file" .yaml)
  check "$example: helm lint --strict" "$helm" lint --strict --kube-version "$kube_version" "$chart" -f "$file"
  if ! render "$file" >"$work/$example.yaml"; then
    check "$example: helm template" false
    continue
  fi
  check "$example: manifests valid against Kubernetes $kube_version schemas (strict)" \
    validate "$work/$example.yaml"
  check "$example: every setting in a ConfigMap is one its service declares" \
    keys_declared "$work/$example.yaml"
done

m=$work/minimal.yaml
check "minimal: 3 Deployments, 3 PodDisruptionBudgets, 3 ConfigMaps, 3 Services" \
  test "$(count "$m" Deployment) $(count "$m" PodDisruptionBudget) $(count "$m" ConfigMap) $(count "$m" Service)" = "3 3 3 3"
check "minimal: no ServiceMonitor, PrometheusRule or dashboard unless asked" \
  test "$(count "$m" ServiceMonitor)$(count "$m" PrometheusRule)" = "00"
fetcher=$(doc "$m" Deployment t-sfbridge-main-fetcher)
check "minimal: probes on /healthz and /readyz of the metrics port" \
  has "$fetcher" 'httpGet: \{path: /healthz, port: metrics\}' && has "$fetcher" 'path: /readyz, port: metrics'
check "minimal: the fetcher reads its properties file from the ConfigMap" \
  has "$fetcher" 'value: /etc/sfbridge/config/sfbridge.properties'
check "minimal: the password flow takes client-id, client-secret, username and password from the Secret" \
  test "$(grep -A4 'name: SFBRIDGE_SALESFORCE_' <<<"$fetcher" | grep -cE 'key: (client-id|client-secret|username|password)$')" = 4
check "minimal: the database URL comes from the postgres Secret" \
  has "$fetcher" 'name: sfbridge-postgres'
all_properties() {
  local name
  for name in $(awk '/^kind: ConfigMap$/ { getline; getline; print $2 }' "$1"); do
    properties "$(doc "$1" ConfigMap "$name")"
  done
}
check "minimal: no secret in a ConfigMap" \
  lacks "$(all_properties "$m")" '^(postgres\.url|salesforce\.(password|client-secret|refresh-token)) '
proxy_cm=$(properties "$(doc "$m" ConfigMap t-sfbridge-main-proxy)")
check "minimal: the proxy applies through the writer's Service" \
  has "$proxy_cm" '^writer.address = t-sfbridge-main-writer:50051$'

m=$work/multi-org.yaml
check "multi-org: fetcher and writer per org, proxy for the two orgs that want one" \
  test "$(count "$m" Deployment)" = 8
check "multi-org: the sales writer runs 6 consumer-group members (org override)" \
  has "$(doc "$m" Deployment t-sfbridge-sales-writer)" '^  replicas: 6$'
check "multi-org: other writers run the chart-wide 3" \
  has "$(doc "$m" Deployment t-sfbridge-support-writer)" '^  replicas: 3$'
check "multi-org: fetchers run 2 replicas, support overrides with 1" \
  has "$(doc "$m" Deployment t-sfbridge-sales-fetcher)" '^  replicas: 2$' &&
  has "$(doc "$m" Deployment t-sfbridge-support-fetcher)" '^  replicas: 1$'
check "multi-org: no proxy for support" \
  test -z "$(doc "$m" Deployment t-sfbridge-support-proxy)"
sales=$(doc "$m" Deployment t-sfbridge-sales-fetcher)
check "multi-org: jwt mounts the private key and sets salesforce.private-key-file" \
  has "$sales" 'path: private-key.pem' &&
  has "$(properties "$(doc "$m" ConfigMap t-sfbridge-sales-fetcher)")" \
    '^salesforce.private-key-file = /etc/sfbridge/salesforce/private-key.pem$'
check "multi-org: jwt takes no password or client secret" \
  lacks "$sales" 'SFBRIDGE_SALESFORCE_(PASSWORD|CLIENT_SECRET)'
sandbox=$(doc "$m" Deployment t-sfbridge-sandbox-fetcher)
check "multi-org: refresh_token takes the refresh token, the client secret optionally" \
  has "$sandbox" 'key: refresh-token' && has "$(grep -A5 SFBRIDGE_SALESFORCE_CLIENT_SECRET <<<"$sandbox")" 'optional: true'
support=$(properties "$(doc "$m" ConfigMap t-sfbridge-support-fetcher)")
check "multi-org: per-org settings override chart-wide ones" \
  has "$support" '^fetcher.page-size = 1000$' && has "$support" '^fetcher.poll-interval = 5s$' &&
  has "$support" '^kafka.partitions = 12$' && has "$support" '^salesforce.ca-file = '
check "multi-org: each org's writer has its own schema" \
  has "$(properties "$(doc "$m" ConfigMap t-sfbridge-sales-writer)")" '^writer.schema = sales$' &&
  has "$(properties "$(doc "$m" ConfigMap t-sfbridge-sandbox-writer)")" '^writer.schema = sandbox$'
check "multi-org: the sales writer's memory limit is overridden, its requests kept" \
  has "$(doc "$m" Deployment t-sfbridge-sales-writer)" 'memory: 1Gi' &&
  has "$(doc "$m" Deployment t-sfbridge-sales-writer)" 'cpu: 200m'

m=$work/tls-proxy.yaml
service=$(doc "$m" Service t-sfbridge-main-proxy)
check "tls-proxy: a LoadBalancer limited to the listed ranges" \
  has "$service" 'type: LoadBalancer' && has "$service" '198.51.100.0/24'
check "tls-proxy: the certificate Secret is mounted and configured" \
  has "$(doc "$m" Deployment t-sfbridge-main-proxy)" 'secretName: sfbridge-proxy-tls' &&
  has "$(properties "$(doc "$m" ConfigMap t-sfbridge-main-proxy)")" '^tls.cert = /etc/sfbridge/tls/tls.crt$'

m=$work/monitoring.yaml
rule=$(doc "$m" PrometheusRule t-sfbridge)
check "monitoring: the PrometheusRule carries every alert of rules/sfbridge-alerts.yaml" \
  test "$(grep -c '^ *- alert:' <<<"$rule")" = "$(grep -c '^ *- alert:' "$chart/rules/sfbridge-alerts.yaml")"
check "monitoring: the ServiceMonitor scrapes the metrics port every 15s" \
  has "$(doc "$m" ServiceMonitor t-sfbridge)" 'interval: 15s'
dashboard=$(doc "$m" ConfigMap t-sfbridge-dashboard)
check "monitoring: the dashboard ConfigMap is labelled for Grafana's sidecar, in its namespace" \
  has "$dashboard" 'grafana_dashboard: "1"' && has "$dashboard" 'namespace: monitoring'
embedded_dashboard() {
  awk '/^  sfbridge.json: \|-/ { on = 1; next } on && /^    / { print substr($0, 5); next } on { exit }' \
    <<<"$dashboard" | jq -S . >"$work/embedded.json" &&
    jq -S . "$chart/dashboards/sfbridge.json" | cmp -s - "$work/embedded.json"
}
check "monitoring: the ConfigMap holds dashboards/sfbridge.json unchanged" embedded_dashboard

# Broken values are refused, each with its own message.
for file in "$values"/bad/*.yaml; do
  expect=$(sed -n '1s/^# expect: //p' "$file")
  refused() {
    local out
    if out=$(render "$1" 2>&1); then
      echo "  rendered without error"
      return 1
    fi
    grep -qE -- "$expect" <<<"$out" || { echo "  expected /$expect/, got:"; sed 's/^/    /' <<<"$out"; return 1; }
  }
  check "refused: $(basename "$file" .yaml)" refused "$file"
done

# The validator itself: a manifest with a misplaced field and a wrong type must fail.
sed 's/^  replicas: 1$/  replicas: "1"\n  bogus: true/' "$work/minimal.yaml" >"$work/broken.yaml"
check "kubeconform rejects a wrongly typed and an unknown field" bash -c "! $(printf '%q' "$kubeconform") -strict -schema-location '$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json' '$work/broken.yaml' >/dev/null"

finish
