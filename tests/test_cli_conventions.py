"""CLI conventions: --version, python -m crossgrad, method syntax, suggestions, colour, exit codes."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import numpy as np
import pytest
from crossgrad.client import cli
from crossgrad.client.expr import ExpressionError, parse_expression
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Leaf

X = np.arange(12.0).reshape(3, 4) / 7 - 0.8
W = np.linspace(-1, 1, 8).reshape(4, 2)
LEAVES = {"x": Leaf("x", X, True), "w": Leaf("w", W, True)}
EXPR = ["check", "-e", "tanh(x @ w).sum()", "--leaf", "x=randn(4,3)", "--leaf", "w=randn(3,2):grad"]


def test_version_is_the_distributions_everywhere(capsys):
    expected = importlib.metadata.version("crossgrad")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"crossgrad {expected}"
    out = subprocess.run([sys.executable, "-m", "crossgrad", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"crossgrad {expected}"
    from crossgrad.server.service import VERSION

    assert expected == VERSION


@pytest.mark.parametrize(("method", "function"), [
    ("tanh(x @ w).sum()", "sum(tanh(matmul(x, w)))"),
    ("(x @ w).mean(dim=0).sum()", "sum(mean(x @ w, dim=0))"),
    ("x.relu().T.sum(0).pow(3).sum()", "sum(pow(sum(transpose(relu(x), dim0=0, dim1=1), dim=0), exponent=3))"),
    ("x.reshape(2, 6).softmax(1).log().mean()", "mean(log(softmax(reshape(x, shape=(2, 6)), dim=1)))"),
    ("x.permute(1, 0).matmul(x).sum()", "sum(matmul(permute(x, dims=(1, 0)), x))"),
    ("x.view(-1).exp().sum(dim=0, keepdim=True).sum()", "sum(sum(exp(reshape(x, shape=(-1,))), dim=0, keepdim=True))"),
])
def test_method_syntax_builds_the_function_forms_graph(method, function):
    a, b = parse_expression(method, LEAVES), parse_expression(function, LEAVES)
    assert [(n.op, dict(getattr(n, "attrs", {}))) for n in a.nodes[2:]] == \
        [(n.op, dict(getattr(n, "attrs", {}))) for n in b.nodes[2:]]
    ra, rb = check(CheckRequest(a)), check(CheckRequest(b))
    assert ra.verdict == rb.verdict == "agree"
    np.testing.assert_array_equal(ra.grad("x", "numeric"), rb.grad("x", "numeric"))


@pytest.mark.parametrize(("text", "message"), [
    ("tnah(x)", "unknown op 'tnah' (did you mean 'tanh'"),
    ("xx.sum()", "unknown leaf 'xx' (did you mean 'x'"),
    ("x.summ()", "method 'summ' is not allowed (did you mean 'sum'"),
    ("sum(x, dimm=0)", "sum has no argument 'dimm' (did you mean 'dim'"),
    ("x.__class__", "attribute '__class__' is not allowed"),
    ("x.__class__.__bases__", "attribute '__bases__' is not allowed"),
    ("x.__add__(w)", "method '__add__' is not allowed"),
    ("x.sum(w, 0)", "sum takes at most 1 tensors"),
])
def test_refusals_name_the_column_and_suggest(text, message):
    with pytest.raises(ExpressionError) as err:
        parse_expression(text, LEAVES)
    assert message in str(err.value) and "column" in str(err.value)


def test_dunder_attribute_is_bad_input_exit_2(capsys):
    assert cli.main(["check", "-e", "x.__class__", "--leaf", "x=ones(2):grad"]) == cli.BAD_INPUT
    assert "'__class__' is not allowed" in capsys.readouterr().err


def test_expression_errors_point_into_the_expression(capsys):
    code = cli.main(["check", "-e", "tanh(x @ w).sum()", "--leaf", "x=randn(4,3)", "--leaf", "w=randn(2,2):grad"])
    err = capsys.readouterr().err
    assert code == cli.BAD_INPUT
    assert "expression (column 6), `x @ w`" in err and "graph.nodes" not in err


def test_skipped_has_its_own_exit_code_and_reason(capsys):
    code = cli.main(["check", "-e", "tanh(x @ w).sum()", "--leaf", "x=randn(4,3)", "--leaf", "w=randn(3,2)"])
    captured = capsys.readouterr()
    assert code == cli.SKIPPED == 4
    assert "SKIPPED" in captured.out and "no leaf requires grad" in captured.err


def test_unresolved_has_its_own_exit_code_over_the_wire(capsys):
    """softmax(x).sum() cancels to rounding noise: UNRESOLVED (exit 5) with the note, through the
    embedded server (the verdict and the noise counts cross the proto)."""
    code = cli.main(["check", "-e", "softmax(x, dim=0).sum()", "--leaf", "x=randn(5):grad:float64", "--json"])
    answer = json.loads(capsys.readouterr().out)
    assert code == cli.UNRESOLVED == 5
    assert answer["verdict"] == "VERDICT_UNRESOLVED"
    pairs = answer["leaves"][0]["comparisons"]
    assert all(p["verdict"] == "VERDICT_UNRESOLVED" and int(p["unresolved"]) > 0 for p in pairs[:2])
    assert answer["notes"][0].startswith("unresolved: x")


def test_claimed_npy_and_tolerance(tmp_path, capsys):
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((3, 2)).astype(np.float32)
    right = x.T @ (1 - np.tanh(x @ w) ** 2)
    args = ["check", "-e", "tanh(x @ w).sum()", "--leaf", f"x={x.tolist()}", "--leaf", f"w={w.tolist()}:grad"]
    np.save(tmp_path / "right.npy", right)
    wrong = right.copy()
    wrong[1, 0] += 0.5
    np.save(tmp_path / "wrong.npy", wrong)
    assert cli.main(args + ["--claimed", f"w={tmp_path / 'right.npy'}"]) == cli.OK
    assert cli.main(args + ["--claimed", f"w={tmp_path / 'wrong.npy'}"]) == cli.MISMATCH
    assert "claimed" in capsys.readouterr().out
    # a tolerance loose enough to swallow the 0.5 error turns it into agreement
    assert cli.main(args + ["--claimed", f"w={tmp_path / 'wrong.npy'}", "--tolerance", "1,1,0"]) == cli.OK
    assert cli.main(args + ["--tolerance", "1e-4,abc"]) == cli.BAD_INPUT
    assert "--tolerance" in capsys.readouterr().err


def test_stdin_request(monkeypatch, capsys):
    from pathlib import Path

    seed = (Path(__file__).parents[1] / "examples" / "seed.json").read_text()
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(seed))
    assert cli.main(["check", "-", "--fd-seed", "7"]) == cli.OK
    assert "AGREE" in capsys.readouterr().out


def test_colour_follows_no_color_and_the_flag(monkeypatch, capsys):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli.main(EXPR) == cli.OK
    assert "\033[" not in capsys.readouterr().out
    assert cli.main(["--color=always", *EXPR]) == cli.OK
    assert "\033[32mAGREE\033[0m" in capsys.readouterr().out
    monkeypatch.delenv("NO_COLOR")
    assert cli.main(["--color=never", *EXPR]) == cli.OK
    assert "\033[" not in capsys.readouterr().out


def test_help_lists_exit_codes_and_leaf_grammar():
    out = subprocess.run([sys.executable, "-m", "crossgrad", "check", "--help"], capture_output=True, text=True)
    assert "exit codes:" in out.stdout and "4  skipped" in out.stdout
    assert "randint(HIGH, SHAPE..)" in out.stdout and "examples:" in out.stdout


def test_log_level_flags(capsys):
    import logging

    cli.main(["-q", "ops", "--json"])
    assert logging.getLogger("crossgrad").level == logging.ERROR
    cli.main(["-vv", "ops", "--json"])
    assert logging.getLogger("crossgrad").level == logging.DEBUG
    cli.main(["-v", "--log-level", "warning", "ops", "--json"])
    assert logging.getLogger("crossgrad").level == logging.WARNING


def test_server_logs_one_line_per_request(caplog):
    import logging

    from crossgrad.client.sdk import Client, InvalidRequest
    from crossgrad.server.app import create_server

    running = create_server("127.0.0.1", 0)
    try:
        with caplog.at_level(logging.INFO, logger="crossgrad.server.access"), \
                Client(f"127.0.0.1:{running.port}") as client:
            graph = parse_expression("tanh(x @ w).sum()", LEAVES)
            client.check(CheckRequest(graph))
            with pytest.raises(InvalidRequest):
                client.check(CheckRequest(parse_expression("(x @ x).sum()", LEAVES)))
    finally:
        running.stop(0)
    lines = [r for r in caplog.records if r.name == "crossgrad.server.access"]
    assert [r.fields["outcome"] for r in lines] == ["agree", "INVALID_ARGUMENT"]
    assert all(r.fields["method"] == "Check" and r.fields["bytes"] > 0 and r.fields["ms"] > 0 for r in lines)
    assert "127.0.0.1" in lines[0].fields["peer"]


def test_json_log_format():
    import json
    import logging

    from crossgrad.client.cli import _JsonFormatter

    record = logging.LogRecord("crossgrad.server.access", logging.INFO, __file__, 1, "Check %s", ("x",), None)
    record.fields = {"method": "Check", "outcome": "agree", "ms": 1.5}
    line = json.loads(_JsonFormatter().format(record))
    assert line["message"] == "Check x" and line["outcome"] == "agree" and line["level"] == "INFO"


@pytest.mark.parametrize(("nodes", "path", "hint"), [
    ((Leaf("x", X, True), "tnah"), "graph.nodes[1].op", "unknown op 'tnah' (did you mean 'tanh'"),
    ((Leaf("x", X, True), ("sum", ("xx",))), "graph.nodes[1].inputs[0]", "unknown node 'xx' (did you mean 'x'"),
    ((Leaf("x", X, True), ("sum", ("x",), {"keepdims": True})), "graph.nodes[1].attrs.keepdims",
     "no attribute 'keepdims' (did you mean 'keepdim'"),
])
def test_the_graph_validator_suggests_close_names(nodes, path, hint):
    from crossgrad.engine.graph import Graph, GraphError, OpNode, validate

    leaf, spec = nodes
    op, inputs, attrs = (spec, ("x",), {}) if isinstance(spec, str) else (*spec, *([{}] if len(spec) == 2 else []))
    with pytest.raises(GraphError) as err:
        validate(Graph((leaf, OpNode("out", op, inputs, attrs)), "out"))
    assert err.value.path == path and hint in str(err.value)


def test_grade_json_summary(tmp_path, capsys):
    import json
    from pathlib import Path

    root = Path(__file__).parents[1] / "examples" / "assignments"
    code = cli.main(["grade", str(root / "backprop_basics.toml"), str(root / "submissions"), "--out-dir",
                     str(tmp_path), "--json"])
    rows = {Path(r["submission"]).stem: r for r in json.loads(capsys.readouterr().out)}
    assert code == cli.OK and rows["correct"]["score"] == rows["correct"]["max_score"] == 11.0
    assert rows["wrong_sign"]["score"] < 11.0 and Path(rows["wrong_sign"]["results"]).is_file()
