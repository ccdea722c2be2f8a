"""Hand-written hostile requests on the newer ops against a real server (a bench, not a test).

    python bench/hostile_service.py [--only SUBSTRING] [--verbose]

Starts ``crossgrad serve --port 0`` and sends each case below: malformed and adversarial
CheckRequests on conv/pool/batch_norm/attention pieces/embedding/gather/index/to_dtype/dropout
(kernels larger than the padded input, groups that do not divide, zero or negative output
sizes, out-of-range indices, wrong dtypes, NaN/inf, huge declared shapes, deep graphs, duplicate
names, cycles, odd unicode, order 2 on ops without a second derivative). Each case says which
codes it accepts; after each one a health check and a good request must succeed. A case whose
code is unexpected, whose message names no field, or that takes longer than 20 s is printed as
a FAIL; the exit status is the number of failures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from typing import Any

import grpc
from crossgrad.v1 import crossgrad_pb2 as pb
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from hostile_cases import BAD_OR_LIMIT, GROUPS, leaf, op, r, summed


def good() -> pb.CheckRequest:
    return summed([leaf("x", r(2, 3), True), leaf("w", r(3, 2), True), op("m", "matmul", ["x", "w"]),
                   op("t", "tanh", ["m"])])


def field_of(err: grpc.RpcError) -> str | None:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    for detail in status.details if status else []:
        info = error_details_pb2.BadRequest()
        if detail.Unpack(info):
            return ", ".join(v.field for v in info.field_violations)
    return None


def call(raw: Any, payload: bytes, timeout: float = 60) -> tuple[str, str, str | None, float]:
    started = time.monotonic()
    try:
        reply = pb.CheckResponse.FromString(raw(payload, timeout=timeout))
        verdict = pb.Verdict.Name(reply.verdict)
        return "OK", verdict, None, time.monotonic() - started
    except grpc.RpcError as err:
        return err.code().name, err.details() or "", field_of(err), time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--port", type=int, default=0, help="an already running server (0: start one)")
    args = parser.parse_args()
    proc = None
    port = args.port
    if not port:
        proc = subprocess.Popen([sys.executable, "-m", "crossgrad", "-q", "serve", "--port", "0"],
                                stdout=subprocess.PIPE, text=True)
        port = int(proc.stdout.readline())  # type: ignore[union-attr]
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 128 << 20),
                                                                   ("grpc.max_receive_message_length", 128 << 20)])
    raw = channel.unary_unary("/crossgrad.v1.CrossgradService/Check", request_serializer=None,
                              response_deserializer=None)
    health = health_pb2_grpc.HealthStub(channel)
    failures, counts = 0, {}
    try:
        for group, make in GROUPS.items():
            for name, build, want in make():
                if args.only not in f"{group}: {name}":
                    continue
                built = build()
                payload = built if isinstance(built, bytes) else built.SerializeToString()
                code, text, path, elapsed = call(raw, payload)
                problems = []
                if code not in want:
                    problems.append(f"code {code}, wanted {sorted(want)}")
                if code in BAD_OR_LIMIT and not path:
                    problems.append("no field path")
                if elapsed > 20:
                    problems.append(f"took {elapsed:.1f} s")
                serving = health.Check(health_pb2.HealthCheckRequest(), timeout=10).status == 1
                after, _, _, _ = call(raw, good().SerializeToString())
                if not serving or after != "OK":
                    problems.append(f"afterwards: health {serving}, good request {after}")
                counts[group] = counts.get(group, 0) + 1
                failures += bool(problems)
                mark = "FAIL" if problems else "ok  "
                if problems or args.verbose:
                    print(f"{mark} {group}: {name}: {code} [{path}] {text[:300]} ({elapsed * 1e3:.0f} ms)"
                          + ("".join(f"\n       ! {p}" for p in problems)), flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"{sum(counts.values())} cases ({counts}), {failures} failures")
    return failures


if __name__ == "__main__":
    raise SystemExit(main())
