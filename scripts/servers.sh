#!/usr/bin/env bash
# Throwaway PostgreSQL and single-node KRaft Kafka servers, each in a directory of its own, on
# free loopback ports. Used by the test command, the run command and the C++ test harness.
#
#   scripts/servers.sh pg-start DIR      initdb (first time) + start (on its previous port when
#                                        free); prints the URL
#   scripts/servers.sh pg-stop DIR
#   scripts/servers.sh pg-restart DIR    pg_ctl -m immediate stop, then start on the same port and
#                                        data (a crash and recovery); prints the URL
#   scripts/servers.sh kafka-start DIR   format storage (first time) + start (on its previous
#                                        ports when free); prints host:port
#   scripts/servers.sh kafka-stop DIR
#   scripts/servers.sh kafka-restart DIR stop (SIGTERM, SIGKILL after 15 s), then start on the same
#                                        ports and data; prints host:port
#   scripts/servers.sh free-port         prints a loopback port nothing listens on
#
# DIR/url (PostgreSQL) and DIR/brokers (Kafka) hold what to connect to; DIR/*.log the logs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
KAFKA_LIBS=${KAFKA_LIBS:-${SFBRIDGE_CACHE_DIR:-$root/.cache}/kafka/libs}

die() { echo "servers: $*" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Ports are drawn below the kernel's ephemeral range (32768 and up), which outgoing connections
# and port-0 binds (the tests' own servers) take from: a port chosen here cannot be taken by them
# between the check and the server's bind.
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 12768))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free port found"
}

# Runs a command as the postgres user when we are root (PostgreSQL refuses to run as root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  local dir=$1 fixed_port=${2:-}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 is not installed ($PG_BIN/initdb); run scripts/install-deps.sh"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 700 "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 256MB
CONF
  fi
  # A cluster started before comes back on its previous port when that one is free.
  local port previous=
  [ -f "$dir/url" ] && previous=$(pg_port "$dir")
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if [ -n "$fixed_port" ]; then
      port=$fixed_port
    elif [ "$attempt" = 1 ] && [ -n "$previous" ] && ! port_in_use "$previous"; then
      port=$previous
    fi
    if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -o "-p $port" -l "$dir/postgres.log" -w -t 60 \
      start >/dev/null 2>&1; then
      echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/url"
      cat "$dir/url"
      return 0
    fi
  done
  tail -n 20 "$dir/postgres.log" >&2
  die "PostgreSQL did not start (see $dir/postgres.log)"
}

# The port of the cluster in DIR, from DIR/url.
pg_port() {
  local url
  url=$(cat "$1/url" 2>/dev/null) || die "$1/url missing: was the cluster started with pg-start?"
  url=${url##*:}
  echo "${url%%/*}"
}

pg_restart() {
  local dir=$1 port
  port=$(pg_port "$dir")
  pg_stop "$dir"
  # A port just left may be taken by someone else meanwhile: then this fails instead of moving.
  pg_start "$dir" "$port"
  [ "$(pg_port "$dir")" = "$port" ] || die "PostgreSQL came back on another port"
}

pg_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

kafka_start() {
  local dir=$1 keep_ports=${2:-}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -d "$KAFKA_LIBS" ] || die "Kafka jars missing in $KAFKA_LIBS; run scripts/install-deps.sh"
  command -v java >/dev/null || die "java is not installed; run scripts/install-deps.sh"
  local port= cport=
  if [ -f "$dir/server.properties" ]; then
    port=$(sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1://p' "$dir/server.properties")
    cport=$(sed -n 's/^controller.quorum.voters=1@127.0.0.1://p' "$dir/server.properties")
  fi
  if [ -n "$keep_ports" ]; then
    [ -n "$port" ] && [ -n "$cport" ] || die "$dir/server.properties missing: was the broker started with kafka-start?"
  fi
  # A broker that dies at once (a port taken between the check and its bind) is started again on
  # other ports, unless it has to keep its own.
  local attempt
  for attempt in 1 2 3; do
    if [ -n "$keep_ports" ]; then
      :
    elif [ "$attempt" = 1 ] && [ -n "$port" ] && [ -n "$cport" ] && ! port_in_use "$port" && ! port_in_use "$cport"; then
      : # a broker started before comes back on its previous ports when they are free
    else
      port=$(free_port)
      cport=$(free_port)
      while [ "$cport" = "$port" ]; do cport=$(free_port); done
    fi
    cat >"$dir/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=-1
log.segment.bytes=268435456
CONF
    cat >"$dir/log4j.properties" <<CONF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/kafka.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
CONF
    local java_opts=(-Xms256m -Xmx768m -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
      "-Dlog4j.configuration=file:$dir/log4j.properties")
    if [ ! -f "$dir/data/meta.properties" ]; then
      # A cluster id is 16 random bytes, base64url without padding. Given as --cluster-id=ID: an id
      # may start with '-', which would otherwise read as an option.
      local id
      id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
      java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format --cluster-id="$id" \
        -c "$dir/server.properties" >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "formatting Kafka storage failed"; }
    fi
    # The log is kept across restarts; only what this start writes after `seen` lines counts.
    local seen
    seen=$(wc -l <"$dir/kafka.log" 2>/dev/null || echo 0)
    nohup java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" \
      >"$dir/stdout.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    for _ in $(seq 1 240); do
      if tail -n +"$((seen + 1))" "$dir/kafka.log" 2>/dev/null | grep -q "Kafka Server started"; then
        echo "127.0.0.1:$port" >"$dir/brokers"
        cat "$dir/brokers"
        return 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      sleep 0.25
    done
    # Alive but not started within 60 s, or bound to ports it must keep: starting again won't help.
    if [ -n "$keep_ports" ] || kill -0 "$(cat "$dir/pid")" 2>/dev/null; then break; fi
    echo "servers: Kafka exited during start-up (attempt $attempt):" >&2
    tail -n +"$((seen + 1))" "$dir/kafka.log" 2>/dev/null | grep -m 3 -E "ERROR|FATAL" >&2 || true
  done
  tail -n 30 "$dir/kafka.log" "$dir/stdout.log" >&2 || true
  kafka_stop "$dir"
  die "Kafka did not start (see $dir/kafka.log)"
}

kafka_stop() {
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid"
}

case "${1:-}" in
  pg-start) pg_start "${2:?DIR}" ;;
  pg-stop) pg_stop "${2:?DIR}" ;;
  pg-restart) pg_restart "${2:?DIR}" ;;
  kafka-start) kafka_start "${2:?DIR}" ;;
  kafka-stop) kafka_stop "${2:?DIR}" ;;
  kafka-restart) kafka_stop "${2:?DIR}"; kafka_start "${2:?DIR}" keep-ports ;;
  free-port) free_port ;;
  *) echo "usage: $0 pg-start|pg-stop|pg-restart|kafka-start|kafka-stop|kafka-restart DIR | free-port" >&2; exit 2 ;;
esac
