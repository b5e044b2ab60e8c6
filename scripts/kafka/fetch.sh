#!/usr/bin/env bash
# Fills .cache/kafka/libs with the Apache Kafka broker and its runtime dependencies, resolved by
# Maven from scripts/kafka/pom.xml. Maven keeps its own download cache (~/.m2), so on a machine
# that fetched them once this only copies jars. A second run in the same tree does nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache="${SFBRIDGE_CACHE_DIR:-$root/.cache}/kafka"
pom="$root/scripts/kafka/pom.xml"
stamp="$cache/libs/.pom.sha256"
want=$(sha256sum "$pom" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "kafka: broker jars present in $cache/libs"
  exit 0
fi
echo "kafka: resolving the broker jars with Maven into $cache/libs"
rm -rf "$cache/libs"
mkdir -p "$cache/libs"
mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$cache/libs" >"$cache/maven.log" 2>&1 || {
  echo "kafka: Maven could not resolve the broker jars; see $cache/maven.log" >&2
  tail -20 "$cache/maven.log" >&2
  exit 1
}
echo "$want" >"$stamp"
echo "kafka: $(ls "$cache/libs" | wc -l) jars in $cache/libs"
