#!/bin/sh
# Entry point of the sfbridge image: the first argument names the program, the rest go to it.
#   fetcher  sfbridge-fetcher   reads one Salesforce org into Kafka
#   writer   sfbridge-writer    applies one org's Kafka topics to PostgreSQL
#   proxy    sfbridge-proxy     the PostgreSQL wire-protocol proxy
#   cli      sfbridge           doctor, status, verify
#   sfsim    sfsim              the Salesforce org simulator (demos and tests)
# Settings come from SFBRIDGE_CONFIG, SFBRIDGE_* variables and flags (`<program> --help`).
set -eu
bin_dir=${SFBRIDGE_IMAGE_BIN_DIR:-/usr/local/bin}

usage() {
  cat <<USAGE
usage: sfbridge-entrypoint fetcher|writer|proxy|cli|sfsim [ARG...]
       sfbridge-entrypoint PROGRAM --help   lists the program's settings
USAGE
}

command=${1:-}
case "$command" in
  fetcher) program=sfbridge-fetcher ;;
  writer) program=sfbridge-writer ;;
  proxy) program=sfbridge-proxy ;;
  cli | sfbridge) program=sfbridge ;;
  sfsim) program=sfsim ;;
  help | -h | --help)
    usage
    exit 0
    ;;
  "")
    usage >&2
    exit 2
    ;;
  *)
    echo "sfbridge-entrypoint: unknown program '$command'" >&2
    usage >&2
    exit 2
    ;;
esac
shift
if [ ! -x "$bin_dir/$program" ]; then
  echo "sfbridge-entrypoint: $program is not in this image ($bin_dir)" >&2
  exit 127
fi
exec "$bin_dir/$program" "$@"
