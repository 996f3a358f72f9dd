#!/usr/bin/env python3
"""A Python client of the Cascade Embedder, from stubs generated from proto/.

Generate the stubs first (see README.md), then:

    python3 embed_client.py localhost:50051 "How do I read a file line by line in Java?"
"""
import sys
import time

import grpc

from cascade.v1 import embedder_pb2, embedder_pb2_grpc


def main(target, texts):
    with grpc.insecure_channel(target) as channel:
        stub = embedder_pb2_grpc.EmbedderStub(channel)
        info = stub.GetModelInfo(embedder_pb2.GetModelInfoRequest(), timeout=30)
        print(f"{info.model}: {info.layers} layers, exits {list(info.exit_layers)}, "
              f"default profile {info.default_profile}")

        # Unary: each input's final embedding.
        response = stub.Embed(embedder_pb2.EmbedRequest(inputs=texts), timeout=30)
        for e in response.embeddings:
            print(f"embed: input {e.input_index} stopped at layer {e.layer} "
                  f"({embedder_pb2.StopReason.Name(e.reason)}), {len(e.embedding)} dims")

        # Streaming: every exit as it is reached.
        start = time.monotonic()
        finals = 0
        for event in stub.EmbedStream(embedder_pb2.EmbedRequest(inputs=texts), timeout=30):
            ms = (time.monotonic() - start) * 1000
            mark = f"final ({embedder_pb2.StopReason.Name(event.reason)})" if event.final else ""
            print(f"stream: input {event.input_index} layer {event.layer} "
                  f"confidence {event.confidence:.4f} at {ms:.1f} ms {mark}")
            finals += event.final

        # A bad request is refused with INVALID_ARGUMENT and a message naming the limit.
        try:
            stub.Embed(embedder_pb2.EmbedRequest(inputs=[""]), timeout=30)
            raise SystemExit("an empty input was accepted")
        except grpc.RpcError as e:
            print(f"refused: {e.code().name}: {e.details()}")
            if e.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
        if finals != len(texts) or len(response.embeddings) != len(texts):
            raise SystemExit("missing final embeddings")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit("usage: embed_client.py HOST:PORT TEXT...")
    main(sys.argv[1], sys.argv[2:])
