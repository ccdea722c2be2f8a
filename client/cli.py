"""The ``crossgrad`` command: check, ops, serve. Data to stdout, logs to stderr.

Exit codes: 0 agree (or convention), 1 mismatch (or non-finite), 2 bad input,
3 server unreachable. ``check`` is embedded by default: it starts an in-process server on a
free loopback port and talks gRPC to it, so local and remote runs take the same path.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.errors import CrossgradError

from . import wire
from .expr import ExpressionError, parse_expression, parse_leaf
from .sdk import Client, DeadlineExceeded, InvalidRequest, RemoteError, Unauthenticated, Unavailable

OK, MISMATCH, BAD_INPUT, UNREACHABLE = 0, 1, 2, 3
COLOURS = {"agree": "32", "convention": "36", "mismatch": "31", "non_finite": "33", "skipped": "33"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crossgrad", description="Is this gradient right? "
                                     "Numeric engine vs SymPy vs finite differences.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check a request file or an expression")
    check.add_argument("file", nargs="?", help="a CheckRequest in the proto3 JSON mapping")
    check.add_argument("-e", "--expr", help='an expression, e.g. "binary_cross_entropy_with_logits(x @ w + b, y)"')
    check.add_argument("--leaf", action="append", default=[], metavar="NAME=VALUES[:grad][:float64]",
                       help="a leaf for --expr: randn(5,3), rand(..), ones(..), zeros(..), randint(..) or JSON")
    check.add_argument("--seed", type=int, default=0, help="seed for random leaf values")
    check.add_argument("--server", metavar="HOST:PORT", help="use a running server instead of an embedded one")
    check.add_argument("--json", action="store_true", help="print the CheckResponse as JSON, nothing else")
    check.add_argument("--formulas", action="store_true", help="closed forms of small gradients")
    check.add_argument("--tier", choices=["auto", "exact", "tensor", "off"], help="symbolic tier")
    ops_cmd = sub.add_parser("ops", help="list the op catalogue")
    ops_cmd.add_argument("--server", metavar="HOST:PORT")
    ops_cmd.add_argument("--json", action="store_true")
    grade = sub.add_parser("grade", help="grade gradient assignments (Gradescope results.json)")
    grade.add_argument("assignment", nargs="?", help="the assignment TOML")
    grade.add_argument("submissions", nargs="*", help="Python modules, JSON/npz answers, or folders of them")
    grade.add_argument("--out", default="results.json", help="results.json for a single submission")
    grade.add_argument("--out-dir", default="results", help="one results JSON per submission, for several")
    grade.add_argument("--csv", help="summary CSV (default: OUT_DIR/summary.csv for several submissions)")
    grade.add_argument("--jobs", type=int, default=2, help="submissions graded in parallel")
    grade.add_argument("--server", metavar="HOST:PORT", help="compute references on a running server")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run student code WITHOUT the bubblewrap sandbox (trusted code only; see docs/grading.md)")
    grade.add_argument("--check-assignment", type=Path, metavar="TOML",
                       help="validate an assignment (line numbers) and grade its `solution`, then exit")
    serve = sub.add_parser("serve", help="run the gRPC server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=50051, help="0 picks a free port (printed on stdout)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate chain (turns TLS on, with --tls-key)")
    serve.add_argument("--tls-key", type=Path, help="PEM private key")
    serve.add_argument("--token-file", type=Path, help="require this bearer token (read from the file)")
    serve.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                       help="override a limit, e.g. max_nodes=5000 (see GetServerInfo for the names)")
    for command in (check, ops_cmd, grade):
        command.add_argument("--tls-ca", type=Path, help="PEM root certificate of a TLS server")
        command.add_argument("--token-file", type=Path, help="bearer token for the server (read from the file)")
    return parser


def _secret(path: Path | None) -> str | None:
    return path.read_text().strip() if path else None


@contextmanager
def _client(server: str | None, args: argparse.Namespace | None = None) -> Iterator[Client]:
    """A client for --server, or for an in-process server on a free loopback port."""
    if server:
        ca = args.tls_ca.read_bytes() if args is not None and args.tls_ca else None
        with Client(server, root_certificates=ca, token=_secret(getattr(args, "token_file", None))) as client:
            yield client
        return
    from crossgrad.server.app import create_server

    running = create_server("127.0.0.1", 0)
    try:
        with Client(f"127.0.0.1:{running.port}") as client:
            yield client
    finally:
        running.stop(0)


def _request(args: argparse.Namespace) -> Any:
    if args.expr:
        rng = np.random.default_rng(args.seed)
        leaves = {leaf.name: leaf for leaf in (parse_leaf(s, rng) for s in args.leaf)}
        graph = parse_expression(args.expr, leaves)
        return wire.request_out(CheckRequest(graph, tier=args.tier or "auto", formulas=args.formulas))
    if not args.file:
        raise ExpressionError("check", "give a request FILE or --expr")
    message = wire.request_from_json(Path(args.file).read_text())
    if args.tier:
        message.tier = wire.TIER_ENUM[args.tier]
    message.formulas = message.formulas or args.formulas
    return message


def _exit_code(verdict: str) -> int:
    return OK if verdict in ("agree", "convention") else MISMATCH


def _print_report(text: str, verdict: str) -> None:
    if sys.stdout.isatty():
        first, _, rest = text.partition("\n")
        first = first.replace(verdict.upper(), f"\033[{COLOURS.get(verdict, '0')}m{verdict.upper()}\033[0m")
        text = first + "\n" + rest
    print(text)


def cmd_check(args: argparse.Namespace) -> int:
    request = _request(args)
    with _client(args.server, args) as client:
        response = client.check_raw(request)
    report = wire.report_in(response)
    if args.json:
        print(wire.to_json(response))
    else:
        _print_report(str(report), report.verdict)
    return _exit_code(report.verdict)


def cmd_ops(args: argparse.Namespace) -> int:
    with _client(args.server, args) as client:
        catalogue = client.list_ops()
    if args.json:
        print(json.dumps(catalogue, indent=2))
        return OK
    for op in catalogue:
        inputs = ", ".join(i["name"] + ("?" if i.get("optional") else "") for i in op.get("inputs", []))
        attrs = ", ".join(a["name"] for a in op.get("attrs", []))
        print(f"{op['name']:34s} ({inputs})" + (f"  attrs: {attrs}" if attrs else "")
              + (f"  grad_fn: {op['grad_fn']}" if op.get("grad_fn") else ""))
    return OK


def cmd_grade(args: argparse.Namespace) -> int:
    from .grading.assignment import load
    from .grading.grade import grade, grade_many, invalid_problems
    from .grading.reference import references
    from .grading.sandbox import UNSAFE_WARNING

    if args.check_assignment:
        return _check_assignment(args)
    if not args.assignment or not args.submissions:
        raise ValueError("grade needs ASSIGNMENT and SUBMISSIONS (or --check-assignment TOML)")
    assignment = load(args.assignment)
    paths = []
    for item in map(Path, args.submissions):
        paths += sorted(p for p in item.iterdir() if p.suffix in (".py", ".json", ".npz")) if item.is_dir() else [item]
    if args.server:
        with _client(args.server, args) as client:
            refs = references(assignment, client.check)
    else:
        refs = references(assignment)
    for problem in invalid_problems(refs):
        print(f"crossgrad grade: INVALID PROBLEM, nobody is charged for it: {problem}", file=sys.stderr)
    if len(paths) == 1 and not Path(args.submissions[0]).is_dir():
        if args.unsafe_no_sandbox:
            print(UNSAFE_WARNING, file=sys.stderr)
        Path(args.out).write_text(json.dumps(grade(paths[0], assignment, refs, args.unsafe_no_sandbox), indent=2))
        print(f"wrote {args.out}", file=sys.stderr)
        return OK
    summary = Path(args.csv) if args.csv else Path(args.out_dir) / "summary.csv"
    grade_many(paths, assignment, refs, Path(args.out_dir), args.jobs, summary, args.unsafe_no_sandbox)
    print(f"wrote {len(paths)} results to {args.out_dir}/ and {summary}", file=sys.stderr)
    return OK


def _check_assignment(args: argparse.Namespace) -> int:
    from .grading.check_assignment import check_assignment

    problems, verdict = check_assignment(args.check_assignment, args.unsafe_no_sandbox)
    for line in problems:
        print(line, file=sys.stderr)
    print(verdict)
    return BAD_INPUT if problems else OK


def cmd_serve(args: argparse.Namespace) -> int:
    from crossgrad.server.app import serve

    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    tls = (args.tls_cert.read_bytes(), args.tls_key.read_bytes()) if args.tls_cert else None
    return serve(args.host, args.port, limits=_limits(args.limit), tls=tls, token=_secret(args.token_file))


def _limits(pairs: list[str]) -> Any:
    import dataclasses

    from crossgrad.server.limits import Limits

    known = {f.name for f in dataclasses.fields(Limits)}
    overrides = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in known or not value.isdigit():
            raise ValueError(f"--limit {pair!r}: expected NAME=INTEGER with NAME one of {sorted(known)}")
        overrides[name] = int(value)
    return Limits(**overrides)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"check": cmd_check, "ops": cmd_ops, "grade": cmd_grade, "serve": cmd_serve}
    try:
        return commands[args.command](args)
    except (Unavailable, DeadlineExceeded) as err:
        print(f"crossgrad: server unreachable: {err}", file=sys.stderr)
        return UNREACHABLE
    except Unauthenticated as err:
        print(f"crossgrad: {err}", file=sys.stderr)
        return UNREACHABLE
    except InvalidRequest as err:
        for field, description in err.violations or [("request", err.message)]:
            print(f"crossgrad: {field}: {description}", file=sys.stderr)
        return BAD_INPUT
    except BrokenPipeError:  # stdout closed early (| head): not an error of ours
        return OK
    except (RemoteError, CrossgradError, ValueError, OSError) as err:
        print(f"crossgrad: {err}", file=sys.stderr)
        return BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())
