#!/usr/bin/env bash
# Closed-loop load against any running Cascade server: bench/load.sh --target host:port
# [--clients 1,4,16,64] [--profile balanced] [--seconds 10] [--texts queries.jsonl]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f bench/target/runtime-classpath.txt ]]; then
  ./mvnw -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
fi
exec java -cp "bench/target/classes:$(cat bench/target/runtime-classpath.txt)" \
  dev.cascade.bench.LoadCommand "$@"
