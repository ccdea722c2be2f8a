"""The ``crossgrad`` command: check, ops, grade, serve. Data to stdout, logs to stderr.

Exit codes (also in ``--help``): 0 agree (or convention), 1 mismatch (or non-finite), 2 bad
input, 3 server unreachable, 4 skipped (nothing to check, with the reason), 5 unresolved (a
gradient at the rounding-noise level of its own computation). ``check`` is
embedded by default: it starts an in-process server on a free loopback port and talks gRPC
to it, so local and remote runs take the same path.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.errors import CrossgradError

from . import wire
from .expr import ExpressionError, parse_expression_located, parse_leaf
from .sdk import Client, DeadlineExceeded, InvalidRequest, RemoteError, Unauthenticated, Unavailable

OK, MISMATCH, BAD_INPUT, UNREACHABLE, SKIPPED, UNRESOLVED = 0, 1, 2, 3, 4, 5
COLOURS = {"agree": "32", "convention": "36", "mismatch": "31", "non_finite": "33", "skipped": "33", "unresolved": "33"}
log = logging.getLogger("crossgrad")

EXIT_CODES = """exit codes:
  0  agree (or convention: a kink where every witness is a valid one-sided derivative)
  1  mismatch (or non-finite gradients)
  2  bad input (the request, an expression, a leaf spec, a file)
  3  server unreachable (or not authorized)
  4  skipped: nothing to check (no leaf requires grad, no witness pair); the reason is printed
  5  unresolved: a gradient cancels to the rounding noise of its own computation (softmax(x).sum()),
     so no witness can confirm or refute it; weight the loss so it does not cancel"""

CHECK_EPILOG = """leaf grammar (--leaf, for --expr):
  NAME=VALUES[:grad][:float64]
  VALUES is randn(SHAPE..) | rand(SHAPE..) | ones(SHAPE..) | zeros(SHAPE..)
          | randint(HIGH, SHAPE..) (int64 class indices in [0, HIGH)) | a JSON array
  :grad marks a leaf that requires grad; float leaves are float32 unless :float64.

examples:
  crossgrad check examples/seed.json --formulas
  crossgrad check -e "tanh(x @ w).sum()" --leaf x=randn(4,3) --leaf w=randn(3,2):grad
  crossgrad check -e "cross_entropy(x @ w, y)" --leaf x=randn(8,5) --leaf w=randn(5,3):grad \\
      --leaf "y=randint(3,8)" --claimed w=my_grad.npy --tolerance 1e-4,1e-5,1e-6
  cat request.json | crossgrad check - --json

""" + EXIT_CODES


def _colour(args: argparse.Namespace) -> bool:
    """--color=always|never|auto; auto is a terminal and no NO_COLOR (https://no-color.org)."""
    choice = getattr(args, "color", "auto")
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _parser() -> argparse.ArgumentParser:
    import crossgrad

    parser = argparse.ArgumentParser(prog="crossgrad", description="Is this gradient right? "
                                     "Numeric engine vs SymPy vs finite differences.",
                                     epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"crossgrad {crossgrad.__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log lines on stderr (-vv: debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="stderr log level (default warning; info for serve, which logs one line per request)")
    parser.add_argument("--log-json", action="store_true", help="log lines as JSON objects")
    parser.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                        help="colour the verdict (auto: on a terminal, unless NO_COLOR is set)")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check a request file or an expression", epilog=CHECK_EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("file", nargs="?", help="a CheckRequest in the proto3 JSON mapping ('-' reads stdin)")
    check.add_argument("-e", "--expr", help='an expression, e.g. "binary_cross_entropy_with_logits(x @ w + b, y)" '
                       'or "tanh(x @ w).sum()"')
    check.add_argument("--leaf", action="append", default=[], metavar="NAME=VALUES[:grad][:float64]",
                       help="a leaf for --expr (grammar below)")
    check.add_argument("--claimed", action="append", default=[], metavar="NAME=FILE.npy",
                       help="judge your own gradient of leaf NAME (a .npy file) as a fourth witness")
    check.add_argument("--tolerance", metavar="RTOL,ATOL,FLOOR", help="override the tolerance for every pair")
    check.add_argument("--fd-seed", type=int, help="seed of the finite-difference directions")
    check.add_argument("--order", type=int, choices=[1, 2], help="2: check second derivatives (Hessian-vector "
                       "products: double backward, SymPy, differences of gradients)")
    check.add_argument("--seed", type=int, default=0, help="seed for random leaf values")
    check.add_argument("--server", metavar="HOST:PORT", help="use a running server instead of an embedded one")
    check.add_argument("--json", action="store_true", help="print the CheckResponse as JSON, nothing else")
    check.add_argument("--formulas", action="store_true", help="closed forms of small gradients")
    check.add_argument("--html", type=Path, metavar="FILE", help="also write the report as one self-contained "
                       "HTML page (graph, heat maps, worst elements)")
    check.add_argument("--tier", choices=["auto", "exact", "tensor", "off"], help="symbolic tier")
    ops_cmd = sub.add_parser("ops", help="list the op catalogue", epilog="example:\n  crossgrad ops --json",
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    ops_cmd.add_argument("--server", metavar="HOST:PORT")
    ops_cmd.add_argument("--json", action="store_true")
    grade = sub.add_parser("grade", help="grade gradient assignments (Gradescope results.json)",
                           epilog="examples:\n  crossgrad grade examples/assignments/backprop_basics.toml subs/ "
                                  "--out-dir res\n  crossgrad grade --check-assignment assignment.toml",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    grade.add_argument("assignment", nargs="?", help="the assignment TOML")
    grade.add_argument("submissions", nargs="*", help="Python modules, JSON/npz answers, or folders of them")
    grade.add_argument("--out", default="results.json", help="results.json for a single submission")
    grade.add_argument("--out-dir", default="results", help="one results JSON per submission, for several")
    grade.add_argument("--csv", help="summary CSV (default: OUT_DIR/summary.csv for several submissions)")
    grade.add_argument("--jobs", type=int, default=2, help="submissions graded in parallel")
    grade.add_argument("--server", metavar="HOST:PORT", help="compute references on a running server")
    grade.add_argument("--json", action="store_true",
                       help="print a JSON summary on stdout: per submission its score, max score and results file")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run student code WITHOUT the bubblewrap sandbox (trusted code only; see docs/grading.md)")
    grade.add_argument("--html-dir", type=Path, metavar="DIR",
                       help="write each problem's reference check as an HTML report (DIR/<problem>.html, for staff)")
    grade.add_argument("--check-assignment", type=Path, metavar="TOML",
                       help="validate an assignment (line numbers) and grade its `solution`, then exit")
    serve = sub.add_parser("serve", help="run the gRPC server",
                           epilog="example:\n  crossgrad serve --port 50051 --limit max_nodes=5000",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=50051, help="0 picks a free port (printed on stdout)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate chain (turns TLS on, with --tls-key)")
    serve.add_argument("--tls-key", type=Path, help="PEM private key")
    serve.add_argument("--token-file", type=Path, help="require this bearer token (read from the file)")
    serve.add_argument("--processes", type=int, help="server processes sharing the port (SO_REUSEPORT); "
                       "default: the usable cores")
    serve.add_argument("--workers", type=int, help="symbolic worker processes per server process; "
                       "default: usable cores / processes, at least 1")
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


def _request(args: argparse.Namespace) -> tuple[Any, dict[str, str]]:
    """The CheckRequest message, and where each node came from in an expression (else empty)."""
    located: dict[str, str] = {}
    if args.expr:
        rng = np.random.default_rng(args.seed)
        leaves = {leaf.name: leaf for leaf in (parse_leaf(s, rng) for s in args.leaf)}
        graph, located = parse_expression_located(args.expr, leaves)
        message = wire.request_out(CheckRequest(graph, tier=args.tier or "auto", formulas=args.formulas))
    elif not args.file:
        raise ExpressionError("check", "give a request FILE (or - for stdin) or --expr")
    else:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
        message = wire.request_from_json(text)
        if args.tier:
            message.tier = wire.TIER_ENUM[args.tier]
        message.formulas = message.formulas or args.formulas
    _apply_options(message, args)
    return message, located


def _claimed_array(option: str, path: str) -> np.ndarray:
    """A --claimed file: one .npy array of numbers, else a bad-input error naming the option."""
    try:
        value = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise ExpressionError(f"--claimed {option!r}", f"cannot read {path!r} as a .npy array: {err}") from None
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
        what = type(value).__name__ if not isinstance(value, np.ndarray) else f"{value.dtype} values"
        raise ExpressionError(f"--claimed {option!r}", f"{path!r} holds {what}, not an array of numbers")
    return value


def _apply_options(message: Any, args: argparse.Namespace) -> None:
    """--claimed, --tolerance, --fd-seed and --order onto the request message."""
    for pair in args.claimed:
        name, _, path = pair.partition("=")
        if not name or not path:
            raise ExpressionError(f"--claimed {pair!r}", "expected NAME=FILE.npy")
        message.claimed[name].CopyFrom(wire.tensor_out(_claimed_array(pair, path)))
    if args.tolerance:
        rtol, atol, floor = _tolerance(args.tolerance)
        message.tolerance.rtol, message.tolerance.atol, message.tolerance.floor = rtol, atol, floor
    if args.fd_seed is not None:
        message.fd_seed = args.fd_seed
    if args.order is not None:
        message.order = args.order


def _tolerance(text: str) -> list[float]:
    """``RTOL,ATOL,FLOOR``: three finite numbers >= 0."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 3 or not all(math.isfinite(v) and v >= 0 for v in values):
        raise ExpressionError("--tolerance", f"expected RTOL,ATOL,FLOOR (three numbers >= 0), got {text!r}")
    return values


def _exit_code(verdict: str) -> int:
    if verdict == "skipped":
        return SKIPPED
    if verdict == "unresolved":
        return UNRESOLVED
    return OK if verdict in ("agree", "convention") else MISMATCH


def _skip_reason(report: Any) -> str:
    """Why nothing was compared: no differentiable leaf, or every pair skipped (their reasons)."""
    if not report.leaves:
        return "no leaf requires grad (mark one with :grad, or requires_grad=True)"
    reasons = {p.reason for leaf in report.leaves for p in leaf.pairs if p.reason}
    return "; ".join(sorted(reasons)) or "no pair of witnesses to compare"


def _print_report(text: str, verdict: str, colour: bool) -> None:
    if colour:
        first, _, rest = text.partition("\n")
        first = first.replace(verdict.upper(), f"\033[{COLOURS.get(verdict, '0')}m{verdict.upper()}\033[0m")
        text = first + "\n" + rest
    print(text)


def cmd_check(args: argparse.Namespace) -> int:
    request, located = _request(args)
    with _client(args.server, args) as client:
        try:
            response = client.check_raw(request)
        except InvalidRequest as err:
            raise _located(err, located) from None
    report = wire.report_in(response)
    if args.html:
        from crossgrad.engine.html_report import render

        args.html.write_text(render(report, wire.graph_in(request)))
        print(f"wrote {args.html}", file=sys.stderr)
    if args.json:
        print(wire.to_json(response))
    else:
        _print_report(str(report), report.verdict, _colour(args))
        if report.verdict == "skipped":
            print(f"crossgrad: skipped: {_skip_reason(report)}", file=sys.stderr)
    return _exit_code(report.verdict)


def _located(err: InvalidRequest, located: dict[str, str]) -> InvalidRequest:
    """Field paths of expression nodes (graph.nodes[3]...) rewritten to where the user wrote them."""
    if not located:
        return err
    violations = []
    for field, description in err.violations or [("request", err.message)]:
        node = field.split(".inputs")[0].split(".attrs")[0]
        violations.append((located.get(node, field), description))
    err.violations = violations
    return err


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
            refs = references(assignment, client.check, lambda requests: list(client.check_many(requests)))
    else:
        refs = references(assignment)
    for problem in invalid_problems(refs):
        print(f"crossgrad grade: INVALID PROBLEM, nobody is charged for it: {problem}", file=sys.stderr)
    if args.html_dir:
        from .grading.pages import write_pages

        print(f"wrote {len(write_pages(refs, args.html_dir))} reference reports to {args.html_dir}/", file=sys.stderr)
    if len(paths) == 1 and not Path(args.submissions[0]).is_dir():
        if args.unsafe_no_sandbox:
            print(UNSAFE_WARNING, file=sys.stderr)
        result = grade(paths[0], assignment, refs, args.unsafe_no_sandbox)
        Path(args.out).write_text(json.dumps(result, indent=2))
        print(f"wrote {args.out}", file=sys.stderr)
        _grade_summary(args, paths, [result], [Path(args.out)])
        return OK
    summary = Path(args.csv) if args.csv else Path(args.out_dir) / "summary.csv"
    results = grade_many(paths, assignment, refs, Path(args.out_dir), args.jobs, summary, args.unsafe_no_sandbox)
    print(f"wrote {len(paths)} results to {args.out_dir}/ and {summary}", file=sys.stderr)
    _grade_summary(args, paths, results, [Path(args.out_dir) / f"{p.stem}.json" for p in paths])
    return OK


def _grade_summary(args: argparse.Namespace, paths: list[Path], results: list[dict], files: list[Path]) -> None:
    """--json: one line of data per submission on stdout (the results files hold the details)."""
    if not args.json:
        return
    rows = [{"submission": str(p), "score": r.get("score"),
             "max_score": sum(t.get("max_score", 0) for t in r.get("tests", [])), "results": str(f)}
            for p, r, f in zip(paths, results, files)]
    print(json.dumps(rows, indent=2))


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
    from crossgrad.server.processes import usable_cores

    tls = (args.tls_cert.read_bytes(), args.tls_key.read_bytes()) if args.tls_cert else None
    if any(n is not None and n < 1 for n in (args.processes, args.workers)):
        raise ValueError("--processes and --workers must be at least 1")
    processes = args.processes or usable_cores()
    workers = args.workers or max(1, usable_cores() // processes)
    limits = _limits(args.limit + [f"symbolic_workers={workers}"] if not any(
        p.startswith("symbolic_workers=") for p in args.limit) else args.limit)
    return serve(args.host, args.port, limits=limits, tls=tls, token=_secret(args.token_file), processes=processes)


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


class _JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and a record's structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                "message": record.getMessage()} | getattr(record, "fields", {})
        return json.dumps(line)


def _configure_logging(args: argparse.Namespace) -> None:
    """Logs go to stderr: warnings by default, -v info, -vv debug, -q errors; --log-level wins."""
    quiet_default = logging.INFO if args.command == "serve" else logging.WARNING
    level = logging.ERROR if args.quiet else (quiet_default, logging.INFO)[min(args.verbose, 1)]
    if args.verbose >= 2:
        level = logging.DEBUG
    if args.log_level:
        level = getattr(logging, args.log_level.upper())
    log.setLevel(level)
    if not log.handlers:
        log.addHandler(logging.StreamHandler(sys.stderr))
    plain = logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s")
    for handler in log.handlers:
        handler.setFormatter(_JsonFormatter() if args.log_json else plain)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging(args)
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
