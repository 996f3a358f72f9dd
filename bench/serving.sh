#!/usr/bin/env bash
# Builds the server and runs the serving benchmark (ONNX Runtime in-process, the engine, and the
# server on loopback under closed-loop load), which prints a table and rewrites the "serving"
# section of BENCHMARKS.md. Run from anywhere; options pass through, e.g.
# bench/serving.sh --seconds 5 --clients 1,16 --no-report
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec java -Xmx4g -cp "bench/target/classes:$(cat bench/target/runtime-classpath.txt)" \
  dev.cascade.bench.ServingBenchmark "$@"
