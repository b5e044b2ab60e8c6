#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, test and run sfbridge.
# Idempotent: a second run checks and returns in seconds.
#   apt packages: compilers, libraries, PostgreSQL 15 server, Java 17, Maven, Prometheus (its
#   server and promtool, for the deployment tests)
#   Kafka broker jars: fetched by Maven into .cache/kafka (see scripts/kafka/)
#   the ORMs the proxy's end-to-end tests drive (SQLAlchemy, Django, Knex): a Python venv and
#   node_modules in a cache outside the tree (scripts/install-test-clients.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates clang-format ccache
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev libabsl-dev
  librdkafka-dev libpqxx-dev libpq-dev libpoco-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libpg-query-dev libsimdjson-dev libcli11-dev
  zlib1g-dev
  postgresql-15 postgresql-client-15 postgresql-contrib socat
  openjdk-17-jre-headless maven
  prometheus jq curl
  clang-14 libfuzzer-14-dev libclang-rt-14-dev openssl
  python3-psycopg libpostgresql-jdbc-java openjdk-17-jdk-headless python3-venv
)

# Node.js and npm for the tests' Node clients: any install will do (Debian's packages when none).
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: apt packages present"
fi

"$here/kafka/fetch.sh"
"$here/install-test-clients.sh"
