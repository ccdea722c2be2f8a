"""A fuzz run of mutated requests against a real server (issue 19; a bench, not a test).

    python bench/fuzz_service.py [--requests 10000] [--seed 0]

Starts ``crossgrad serve --port 0``, sends REQUESTS mutations of the example requests and of a
few hostile shapes (byte flips, shapes and dims stretched by up to 10^4, ops and attributes
swapped, nodes dropped, duplicated or re-wired, tiers changed, deep chains), and reports: each
status code's count (every one must be a documented code: OK, INVALID_ARGUMENT,
RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED), the slowest answer, the server's and its workers' peak
RSS (VmHWM), how many workers were replaced, and whether health stayed SERVING. The server's
log (tracebacks of INTERNAL answers) goes to $CROSSGRAD_FUZZ_LOG when set.

``--stream K`` sends them through CheckStream, K per stream, every other one an unmutated
example with new float values (so the server batches runs of same-structure requests around the
mutated ones); each answer's code is its StreamError's, or OK.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import grpc
from bench_load import status_mb
from crossgrad.client import wire
from crossgrad.engine import ops
from crossgrad.v1 import crossgrad_pb2 as pb
from crossgrad.v1 import crossgrad_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

EXAMPLES = Path(__file__).parents[1] / "examples"
DOCUMENTED = {"OK", "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"}
OPS = list(ops.CATALOGUE)


def bases() -> list[pb.CheckRequest]:
    found = [wire.request_from_json(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]
    for message in found:
        message.formulas = False
    return found


def mutate(message: pb.CheckRequest, rng: random.Random) -> bytes:
    """One structured mutation (or a byte flip of the encoded message)."""
    out = pb.CheckRequest()
    out.CopyFrom(message)
    nodes = out.graph.nodes
    kind = rng.randrange(8)
    if kind == 0 and nodes:  # stretch a leaf's declared shape (data left as is, or tiled to fit)
        leaf = rng.choice([n for n in nodes if n.HasField("leaf")] or list(nodes))
        if leaf.HasField("leaf") and leaf.leaf.value.shape:
            k = rng.randrange(len(leaf.leaf.value.shape))
            leaf.leaf.value.shape[k] *= rng.choice([2, 10, 100, 10_000])
    elif kind == 1 and nodes:  # swap an op
        ops_ = [n for n in nodes if n.HasField("op")]
        if ops_:
            rng.choice(ops_).op.op = rng.choice(OPS)
    elif kind == 2 and nodes:  # re-wire an input
        ops_ = [n for n in nodes if n.HasField("op") and n.op.inputs]
        if ops_:
            node = rng.choice(ops_)
            node.op.inputs[rng.randrange(len(node.op.inputs))] = rng.choice(nodes).name
    elif kind == 3 and nodes:  # drop or duplicate a node
        if rng.random() < 0.5:
            del nodes[rng.randrange(len(nodes))]
        else:
            nodes.add().CopyFrom(rng.choice(nodes))
    elif kind == 4:
        out.tier = rng.choice([0, 1, 2, 3, 4, 99])
    elif kind == 5 and nodes:  # an attribute of another kind
        ops_ = [n for n in nodes if n.HasField("op")]
        if ops_:
            node = rng.choice(ops_)
            node.op.attrs[rng.choice(["dim", "exponent", "shape", "reduction", "beta"])].CopyFrom(
                rng.choice([pb.AttrValue(int_value=rng.randrange(-9, 9)), pb.AttrValue(float_value=1e308),
                            pb.AttrValue(string_value="x" * 100), pb.AttrValue(ints_value=pb.IntList(values=[-1, 7]))]))
    elif kind == 6 and nodes:  # a deep chain of exp on the output
        last = nodes[-1].name
        for i in range(rng.choice([5, 50, 500])):
            nodes.add().CopyFrom(pb.Node(name=f"fz{i}", op=pb.Op(op="exp", inputs=[last])))
            last = f"fz{i}"
        out.root = last
    data = bytearray(out.SerializeToString())
    if kind == 7 and data:
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def fresh(message: pb.CheckRequest, rng: random.Random) -> bytes:
    """The example with new values in every float leaf (same structure)."""
    out = pb.CheckRequest()
    out.CopyFrom(message)
    for node in out.graph.nodes:
        if node.HasField("leaf") and node.leaf.value.data:
            node.leaf.value.data[:] = [rng.gauss(0.0, 1.0) for _ in node.leaf.value.data]
    return out.SerializeToString()


def streamed(channel: grpc.Channel, items: list[bytes]) -> list[str]:
    """Each item's code through one CheckStream (field 1 of CheckStreamRequest wraps its bytes)."""
    call = channel.stream_stream("/crossgrad.v1.CrossgradService/CheckStream", request_serializer=None,
                                 response_deserializer=pb.CheckStreamResponse.FromString)
    try:
        answers = list(call(iter([b"\x0a" + _varint(len(x)) + x for x in items]), timeout=120))
    except grpc.RpcError as err:
        return [err.code().name] * len(items)
    codes = ["OK" if not a.HasField("error") else grpc.StatusCode(_BY_VALUE[a.error.code]).name for a in answers]
    return codes + ["MISSING"] * (len(items) - len(codes))


_BY_VALUE = {s.value[0]: s.value for s in grpc.StatusCode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stream", type=int, default=0, help="requests per CheckStream (0: unary Check)")
    args = parser.parse_args()
    log = open(os.environ.get("CROSSGRAD_FUZZ_LOG", os.devnull), "w")  # noqa: SIM115  (the server's whole life)
    proc = subprocess.Popen([sys.executable, "-m", "crossgrad", "-q", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    port = int(proc.stdout.readline())  # type: ignore[union-attr]
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    raw = channel.unary_unary("/crossgrad.v1.CrossgradService/Check", request_serializer=None,
                              response_deserializer=pb.CheckResponse.FromString)
    health = health_pb2_grpc.HealthStub(channel)
    info = crossgrad_pb2_grpc.CrossgradServiceStub(channel)
    rng, seeds = random.Random(args.seed), bases()
    codes: Counter[str] = Counter()
    slowest = (0.0, "")
    peak = {"server+workers": 0.0}
    started = time.monotonic()
    try:
        for i in range(0, args.requests if args.stream else 0, args.stream or 1):
            items = [mutate(rng.choice(seeds), rng) if k % 2 else fresh(seeds[0], rng) for k in range(args.stream)]
            t = time.monotonic()
            for code in streamed(channel, items):
                codes[code] += 1
            slowest = max(slowest, (time.monotonic() - t, f"stream at request {i}"))
            peak["server+workers"] = max(peak["server+workers"], status_mb(proc.pid, "VmHWM", max))
        for i in range(0 if args.stream else args.requests):
            message = mutate(rng.choice(seeds), rng)
            t = time.monotonic()
            try:
                raw(message, timeout=30)
                code = "OK"
            except grpc.RpcError as err:
                code = err.code().name
            elapsed = time.monotonic() - t
            codes[code] += 1
            slowest = max(slowest, (elapsed, f"request {i} ({code})"))
            if i % 200 == 0:
                peak["server+workers"] = max(peak["server+workers"], status_mb(proc.pid, "VmHWM", max))
        serving = health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
        info.GetServerInfo(pb.GetServerInfoRequest())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"{args.requests} mutated requests in {time.monotonic() - started:.1f} s")
    for code, count in codes.most_common():
        print(f"  {code:20s} {count:6d}{'' if code in DOCUMENTED else '   <-- NOT DOCUMENTED'}")
    print(f"slowest answer: {slowest[0] * 1e3:.0f} ms ({slowest[1]})")
    print(f"peak RSS (largest of server and workers, sampled): {peak['server+workers']:.0f} MB")
    print(f"health after the run: {'SERVING' if serving else 'NOT SERVING'}")
    if set(codes) - DOCUMENTED:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
