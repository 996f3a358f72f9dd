#!/usr/bin/env bash
# Builds the engine and runs the engine benchmark (TensorFlow encoder vs ONNX Runtime), which
# prints a table and rewrites the "engine" section of BENCHMARKS.md. Run from anywhere; options
# pass through, e.g. bench/engine.sh --rounds 3 --no-report
set -euo pipefail
cd "$(dirname "$0")/.."
# Formatting is the build's business, not the benchmark's: don't let work in progress elsewhere in
# the tree stop a measurement.
./mvnw -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec java -Xmx3g -cp "bench/target/classes:$(cat bench/target/runtime-classpath.txt)" \
  dev.cascade.bench.EngineBenchmark "$@"
