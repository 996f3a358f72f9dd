#!/usr/bin/env bash
# Generates the Python stubs from proto/, starts a server on a loopback port with the small
# MiniLM model, and runs embed_client.py against it. Needs a built checkout and the Debian packages
# python3-grpcio, python3-protobuf, protobuf-compiler and protobuf-compiler-grpc (run with
# Debian's /usr/bin/python3, which those packages install into).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
port="${CASCADE_CHECK_PORT:-50091}"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The well-known types (Duration, Struct) come out of the protobuf-java jar the build resolved.
protobuf_jar="$(tr ':' '\n' <"$root/server/target/runtime-classpath.txt" | grep '/protobuf-java-[0-9]' | head -1)"
mkdir -p "$work/include"
(cd "$work/include" && jar xf "$protobuf_jar" google/protobuf/duration.proto google/protobuf/struct.proto)

protoc -I "$root/proto/src/main/protobuf" -I "$work/include" \
  --python_out="$work" --grpc_out="$work" --plugin=protoc-gen-grpc="$(command -v grpc_python_plugin)" \
  "$root/proto/src/main/protobuf/cascade/v1/embedder.proto"

"$root/bin/cascade" serve --model all-minilm-l6-v2 --host 127.0.0.1 --port "$port" \
  --metrics-port -1 --grace-seconds 5 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  grep -q "cascade: serving" "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 1
done
grep -q "cascade: serving" "$work/server.log" || { cat "$work/server.log" >&2; exit 1; }

PYTHONPATH="$work" /usr/bin/python3 "$root/clients/python/embed_client.py" "127.0.0.1:$port" \
  "How do I read a file line by line in Java?" "read from a file descriptor"
echo "python client: 1 passed, 0 failed"
