#!/usr/bin/env bash
# A real Prometheus (Debian's package) scrapes the services, configured as the Helm chart
# configures them, and every metric the Grafana dashboard and the alert rules use must be among
# what it scraped.
#
#   1. PostgreSQL and Kafka: SFBRIDGE_TEST_PG_URL / SFBRIDGE_TEST_KAFKA_BROKERS when set (a
#      database and an org name of its own), else throwaway ones (scripts/servers.sh).
#   2. sfsim with a small org; the chart rendered for it; the fetcher and the writer started
#      through the image's entry point with the properties files of the rendered ConfigMaps and
#      the environment of the rendered Deployments (secrets resolved from a local map), on
#      loopback ports. Their /healthz and /readyz must answer 200, as the probes expect.
#   3. Prometheus scrapes them every second and loads rules/sfbridge-alerts.yaml.
#   4. The metric names used by the dashboard's queries and the loaded rules are extracted;
#      every one of a running service must appear in Prometheus' series within the time limit,
#      except those listed in metrics-after-events.txt, which appear only after an event. Every
#      dashboard query must also be valid PromQL to Prometheus.
# The proxy joins automatically once the build has services/proxy/sfbridge-proxy.
#   tests/deploy/prometheus_scrape_test.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build=${1:?usage: prometheus_scrape_test.sh BUILD_DIR}
chart=$root/helm/sfbridge
deadline_s=${SFBRIDGE_DEPLOY_SCRAPE_TIMEOUT:-240}

command -v prometheus >/dev/null || { echo "prometheus is not installed (scripts/install-deps.sh)" >&2; exit 1; }
helm=$("$root/scripts/tools/tools.sh" helm)
kube_version=$("$root/scripts/tools/tools.sh" kube-version)

work=$(mktemp -d /tmp/sfbridge-deploy-scrape.XXXXXX)
chmod 755 "$work"
pids=()
own_pg="" own_kafka="" db="" admin_url=""
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$db" ] && psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  [ -n "$own_kafka" ] && "$root/scripts/servers.sh" kafka-stop "$work/kafka" >/dev/null 2>&1
  [ -n "$own_pg" ] && "$root/scripts/servers.sh" pg-stop "$work/pg" >/dev/null 2>&1
  if [ "$failed" -gt 0 ]; then
    for log in "$work"/*.log; do echo "--- last lines of $(basename "$log")"; tail -15 "$log"; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

admin_url=${SFBRIDGE_TEST_PG_URL:-}
if [ -z "$admin_url" ]; then
  admin_url=$("$root/scripts/servers.sh" pg-start "$work/pg")
  own_pg=yes
fi
brokers=${SFBRIDGE_TEST_KAFKA_BROKERS:-}
if [ -z "$brokers" ]; then
  brokers=$("$root/scripts/servers.sh" kafka-start "$work/kafka")
  own_kafka=yes
fi
suffix=$(date +%s%N | tail -c 9)$RANDOM
db=deploy_scrape_$suffix
org=scrape$suffix
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
db_url=$(sed -E "s#/[^/?]*(\\?|\$)#/$db\\1#" <<<"$admin_url")

# waits SECONDS DESC COMMAND...: retries COMMAND every 0.5 s until it succeeds.
waits() {
  local limit=$1 desc=$2 end
  shift 2
  end=$(($(date +%s) + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || { echo "timed out after ${limit}s: $desc" >&2; return 1; }
    sleep 0.5
  done
}

"$build/services/sfsim/sfsim" --org.counts=User=5,Account=300,Contact=2000 --churn.per-second=20 \
  --http.port=0 --log.format=text >"$work/sfsim.log" 2>&1 &
pids+=("$!")
waits 60 "sfsim start" grep -q '^sfsim listening on ' "$work/sfsim.log"
sfsim_url=$(sed -n 's/^sfsim listening on //p' "$work/sfsim.log" | head -1)

# The chart, rendered for this machine.
"$helm" template t "$chart" --kube-version "$kube_version" \
  --set kafka.brokers="$brokers" --set postgres.existingSecret=pg --set postgres.host=127.0.0.1 \
  --set postgres.port="$(sed -E 's#.*:([0-9]+)/.*#\1#' <<<"$db_url")" \
  --set "orgs[0].id=$org" --set "orgs[0].salesforce.existingSecret=sf" \
  --set "orgs[0].salesforce.loginUrl=$sfsim_url" --set "orgs[0].objects={Account,Contact}" \
  --set "orgs[0].writer.schema=sf_$suffix" >"$work/manifests.yaml"

# The Secrets the chart refers to, as a pod would see them.
declare -A secret=(
  [pg/fetcher-url]=$db_url [pg/writer-url]=$db_url [pg/proxy-url]=$db_url
  [sf/client-id]=sfbridge-local [sf/client-secret]=sfbridge-local-secret
  [sf/username]=integration@sfsim.local [sf/password]=sfsim-password
)

# pod_env DEPLOYMENT: NAME=value lines of the container's environment, secrets resolved.
pod_env() {
  doc "$work/manifests.yaml" Deployment "$1" | awk '
    /^ +- name: SFBRIDGE_/ { name = $3; value = ""; secret = ""; next }
    name && /^ +value: / { print name "=" $2; name = ""; next }
    name && /^ +name: / { secret = $2; next }
    name && /^ +key: / { print name "=@" secret "/" $2; name = ""; next }'
}

# start COMPONENT: runs one org's component as its Deployment would, on loopback ports.
declare -A metrics_port
start() {
  local component=$1 name="t-sfbridge-$org-$1" line var value env=()
  properties "$(doc "$work/manifests.yaml" ConfigMap "$name")" >"$work/$component.properties"
  while IFS= read -r line; do
    var=${line%%=*}
    value=${line#*=}
    [ "$var" = SFBRIDGE_CONFIG ] && value=$work/$component.properties
    if [[ "$value" == @* ]]; then
      value=${secret[${value#@}]:?"no local value for secret ${value#@}"}
    fi
    env+=("$var=$value")
  done < <(pod_env "$name")
  env+=(SFBRIDGE_METRICS_HOST=127.0.0.1 SFBRIDGE_METRICS_PORT=0 SFBRIDGE_GRPC_HOST=127.0.0.1
    SFBRIDGE_GRPC_PORT=0 SFBRIDGE_IMAGE_BIN_DIR="$work/bin")
  env -i PATH="$PATH" "${env[@]}" "$root/deploy/entrypoint.sh" "$component" \
    >"$work/$component.log" 2>&1 &
  pids+=("$!")
  waits 60 "$component admin server" grep -q 'admin server listening on port' "$work/$component.log" ||
    { tail -20 "$work/$component.log" >&2; return 1; }
  metrics_port[$component]=$(grep -o 'admin server listening on port [0-9]*' "$work/$component.log" |
    head -1 | awk '{print $NF}')
}

mkdir "$work/bin"
for program in fetcher/sfbridge-fetcher writer/sfbridge-writer proxy/sfbridge-proxy; do
  [ -x "$build/services/$program" ] && ln -s "$build/services/$program" "$work/bin/"
done
components=(writer fetcher)
if [ -x "$work/bin/sfbridge-proxy" ]; then
  components+=(proxy)
else
  echo "SKIPPED: proxy metrics: no sfbridge-proxy in $build (they are checked once it is built)"
fi
for component in "${components[@]}"; do
  check "$component starts from the chart's ConfigMap and environment" start "$component"
done

http_code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1$2"; }
for component in "${components[@]}"; do
  port=${metrics_port[$component]:-}
  [ -n "$port" ] || continue
  check "$component: /healthz answers 200 (liveness probe)" test "$(http_code "$port" /healthz)" = 200
  ready() { [ "$(http_code "$port" /readyz)" = 200 ]; }
  becomes_ready() {
    waits 90 "$component ready" ready && return 0
    echo "  /readyz: $(curl -s "http://127.0.0.1:$port/readyz")"
    tail -5 "$work/$component.log" | sed 's/^/  /'
    return 1
  }
  check "$component: /readyz answers 200 within 90 s (readiness probe)" becomes_ready
done

# Prometheus, on a free loopback port.
targets=""
for component in "${components[@]}"; do
  [ -n "${metrics_port[$component]:-}" ] || continue
  targets+="      - targets: ['127.0.0.1:${metrics_port[$component]}']
        labels: {component: $component}
"
done
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ['$chart/rules/sfbridge-alerts.yaml']
scrape_configs:
  - job_name: sfbridge
    static_configs:
$targets
YAML
prom=""
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
  pids+=("$!")
  if waits 30 "prometheus ready" curl -sf "http://127.0.0.1:$port/-/ready"; then
    prom=http://127.0.0.1:$port
    break
  fi
done
[ -n "$prom" ] || { tail -20 "$work/prometheus.log" >&2; echo "prometheus did not start" >&2; exit 1; }
query() { curl -sf "$prom/api/v1/$1" "${@:2}"; }

rules_loaded=$(query rules | jq '[.data.groups[].rules[]] | length')
check "Prometheus loaded every alert rule" \
  test "$rules_loaded" = "$(grep -c '^ *- alert:' "$chart/rules/sfbridge-alerts.yaml")"

# The metric names the dashboard and the rules use.
dashboard_exprs=$(jq -r '.. | objects | (.expr?, .definition?) // empty' "$chart/dashboards/sfbridge.json")
rule_exprs=$(query rules | jq -r '.data.groups[].rules[].query')
referenced=$(printf '%s\n%s\n' "$dashboard_exprs" "$rule_exprs" | grep -oE '\bsfbridge_[a-z0-9_]+' | sort -u)
echo "referenced metrics: $(wc -l <<<"$referenced")"

# Every dashboard query is valid PromQL (Grafana's variables replaced as Grafana would).
invalid=""
while IFS= read -r expr; do
  [[ "$expr" == label_values* ]] && continue
  promql=$(sed -e 's/\$__rate_interval/1m/g' -e 's/\$org/.*/g' <<<"$expr")
  status=$(query query --data-urlencode "query=$promql" | jq -r .status 2>/dev/null || echo error)
  [ "$status" = success ] || invalid+="  $promql"$'\n'
done <<<"$dashboard_exprs"
valid_queries() { [ -z "$invalid" ] || { printf '  rejected: %s' "$invalid"; return 1; }; }
check "every dashboard query is valid PromQL" valid_queries

expected=""
for component in "${components[@]}"; do
  expected+=$(grep "^sfbridge_${component}_" <<<"$referenced" || true)$'\n'
done
expected=$(grep -v '^$' <<<"$expected" | sort -u)
after_events=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$root/tests/deploy/metrics-after-events.txt" |
  awk '{print $1}' | sort -u)
required=$(comm -23 <(echo "$expected") <(echo "$after_events"))

scraped() { query label/__name__/values | jq -r '.data[]' | sort -u; }
missing() { comm -23 <(echo "$required") <(scraped); }
all_scraped() { [ -z "$(missing)" ]; }
waits "$deadline_s" "every referenced metric scraped" all_scraped || true
report_missing() {
  local m
  m=$(missing)
  [ -z "$m" ] || { echo "  missing from the scrape: $(tr '\n' ' ' <<<"$m")"; return 1; }
}
check "every metric of the dashboard and the rules that the running services emit was scraped" \
  report_missing
not_yet=$(comm -12 <(echo "$expected") <(echo "$after_events"))
if [ -n "$not_yet" ]; then
  have=$(comm -12 <(echo "$not_yet") <(scraped))
  absent=$(comm -23 <(echo "$not_yet") <(scraped))
  for name in $have; do
    echo "after-event metric that did appear: $name = $(query query --data-urlencode "query=sum($name)" |
      jq -r '.data.result[0].value[1] // "?"')"
  done
  [ -z "$absent" ] || echo "not checked, absent until an event happens (metrics-after-events.txt): $(tr '\n' ' ' <<<"$absent")"
fi
unchecked=$(comm -23 <(echo "$referenced") <(echo "$expected"))
[ -z "$unchecked" ] || echo "not checked, no running service emits them: $(tr '\n' ' ' <<<"$unchecked")"

finish
