"""The sandbox's pieces: what a submission sees inside, the strict answer schema, refusing to run
without bwrap, and --unsafe-no-sandbox's warning."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from crossgrad.client.grading import sandbox
from crossgrad.client.grading.answers import output_cap, parse_problem, read_answer_file
from crossgrad.client.grading.assignment import load
from crossgrad.client.grading.execute import Job, run_submission
from crossgrad.client.grading.grade import grade, grade_many
from crossgrad.client.grading.reference import references

from .test_sandbox import HOSTILE, require_bwrap

INSPECT = '''
import json, os, sys
def grad_square(x):
    facts = {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "pid": os.getpid(),
             "procs": sorted(p for p in os.listdir("/proc") if p.isdigit()), "cwd": os.getcwd(),
             "files": sorted(os.listdir(".")), "root": sorted(os.listdir("/")),
             "caps": [l for l in open("/proc/self/status") if l.startswith(("CapEff", "NoNewPrivs"))],
             "path": sys.path}
    for name in ("crossgrad", "sympy", "grpc"):
        try:
            __import__(name)
            facts[name] = "importable"
        except ImportError:
            pass
    raise RuntimeError("FA" + "CTS" + json.dumps(facts))
'''


def _facts(tmp_path: Path) -> dict:
    require_bwrap()
    path = tmp_path / "inspect.py"
    path.write_text(INSPECT)
    job = Job("grad_square", ("x",), [{"x": np.ones(3)}])
    [[message]] = run_submission(path, [job], 5.0, 512)
    assert isinstance(message, str) and "FACTS" in message, message
    return json.loads(message.rsplit("FACTS", 1)[1])


def test_inside_the_sandbox_a_submission_sees_only_itself(tmp_path):
    facts = _facts(tmp_path)
    assert facts["uid"] != 0 and facts["gid"] != 0 and facts["groups"] == []
    assert facts["pid"] == 1 and facts["procs"] == ["1"]  # its own PID namespace, nobody else's /proc
    assert facts["cwd"] == sandbox.WORK and facts["files"] == ["submission.py"]
    assert set(facts["root"]) <= {"usr", "lib", "lib64", "lib32", "proc", "dev", "tmp", "sandbox", "root", "work",
                                  "opt", "home"}
    assert "CapEff:\t0000000000000000\n" in facts["caps"] and "NoNewPrivs:\t1\n" in facts["caps"]
    assert not {"crossgrad", "sympy", "grpc"} & set(facts)  # numpy and the standard library only
    assert sandbox.SITE in facts["path"] and not any("-packages" in p for p in facts["path"])


SHAPES = [{"x": (3,)}]


@pytest.mark.parametrize(("line", "message"), [
    (b"null", "expected answers for 1 trials"),
    (b"[" * 100_000, "unreadable answers"),
    (b'[{"ok": {"x": {"shape": [3], "data": [NaN, 1, 2]}}}]', "non-JSON number NaN"),
    (b'[{"ok": {"x": {"shape": [3], "data": ["a", 1, 2]}}}]', "only numbers"),
    (b'[{"ok": {"x": {"shape": [3], "data": [true, 1, 2]}}}]', "only numbers"),
    (b'[{"ok": {"x": {"shape": [-3], "data": [1, 2, 3]}}}]', "non-negative integers"),
    (b'[{"ok": {"x": {"shape": [3], "data": [1, 2]}}}]', "a list of 3 numbers"),
    (b'[{"ok": {"x": {"shape": [1000000000], "data": []}}}]', "shape [1000000000], expected [3]"),
    (b'[{"ok": {"x": {"shape": [3], "data": [1, 2, 3]}}, "error": "both"}]', "must be {\"ok\""),
    (b'[{"ok": [1, 2, 3]}]', "map leaf names"),
    (b'[{"ok": {"x": {"shape": [3], "data": [1, 2, ' + b"9" * 5000 + b']}}}]', "unreadable answers"),
])
def test_malformed_answers_are_that_trials_failure_never_an_exception(line, message):
    [answer] = parse_problem(line, SHAPES)
    text = answer if isinstance(answer, str) else answer["x"]
    assert isinstance(text, str) and message in text, text


def test_well_formed_answers_keep_values_nulls_and_only_asked_leaves():
    line = json.dumps([{"ok": {"x": {"shape": [3], "data": [1, None, 2.5]},
                               "extra": {"shape": [10**9]}}}]).encode()
    [answer] = parse_problem(line, SHAPES)
    assert isinstance(answer, dict) and set(answer) == {"x"}
    x = answer["x"]
    assert isinstance(x, np.ndarray) and x[0] == 1 and np.isnan(x[1]) and x[2] == 2.5
    [transposed] = parse_problem(b'[{"ok": {"x": {"shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}}}]', [{"x": (3, 2)}])
    assert isinstance(transposed, dict) and transposed["x"].shape == (2, 3)  # left for the diagnosis


def test_output_cap_grows_with_the_answers_asked_for():
    small, big = output_cap([[{"x": (3,)}]]), output_cap([[{"x": (1000, 100)}] * 3])
    assert small < 100_000 and big > 3 * 100_000 * 20


def test_without_bwrap_grading_modules_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    def missing(name: str) -> str:
        raise sandbox.SandboxUnavailable(f"`{name}` is not installed")

    real = sandbox._tool
    monkeypatch.setattr(sandbox, "_tool", lambda name: missing(name) if name == "bwrap" else real(name))
    with pytest.raises(sandbox.SandboxUnavailable, match="bwrap"):
        sandbox.probe.__wrapped__()
    monkeypatch.setattr(sandbox, "probe", lambda: missing("bwrap"))
    assignment = load(HOSTILE / "assignment.toml")
    refs = references(assignment)
    with pytest.raises(sandbox.SandboxUnavailable):
        grade_many([HOSTILE / "good.py"], assignment, refs, tmp_path / "out", 1, tmp_path / "s.csv")
    assert not (tmp_path / "out").exists()


def test_unsafe_no_sandbox_warns_loudly_and_still_grades(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "probe", lambda: pytest.fail("the sandbox must not be used"))
    assignment = load(HOSTILE / "assignment.toml")
    refs = references(assignment)
    [result] = grade_many([HOSTILE / "good.py"], assignment, refs, tmp_path / "out", 1, tmp_path / "s.csv",
                          unsafe=True)
    assert result["score"] == 3.0
    assert "WITHOUT the bubblewrap sandbox" in capsys.readouterr().err
    assert grade(HOSTILE / "good.py", assignment, refs, unsafe=True)["score"] == 3.0


def test_uid_pool_skips_uids_another_process_still_has():
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process under another uid")
    base = sandbox.UID_BASE + 999_000
    other = subprocess.Popen(["setpriv", "--reuid", str(base), "--regid", str(base), "--clear-groups", "sleep", "30"])
    try:
        while not list(sandbox.pids_of(base)):
            time.sleep(0.01)
        pool = sandbox.UidPool(base)
        with pool.take() as first, pool.take() as second:
            assert (first, second) == (base + 1, base + 2)
        with pool.take() as again:
            assert again == base + 1  # released uids are reused
    finally:
        other.kill()
        other.wait()


@pytest.mark.parametrize(("text", "message"), [
    ('{"fixed": {"x": [1.5, 6.0]}}', None),
    ("not json", "cannot be read"),
    ("[" * 100_000, "cannot be read"),
    ('{"fixed": [1, 2]}', "must map leaf names"),
    ('{"fixed": {"x": [[1, 2], [3]]}}', "cannot be read"),
    ('{"fixed": {"x": ["a", "b"]}}', "cannot be read"),
    ('{"fixed": {"x": [1, 2, 3]}}', "shape [3], expected [2]"),
    ('{"other": {}}', "no answers for fixed"),
])
def test_answer_files_go_through_the_same_schema(tmp_path, text, message):
    path = tmp_path / "answers.json"
    path.write_text(text)
    [answer] = read_answer_file(path, "fixed", {"x": (2,)})
    if message is None:
        assert isinstance(answer, dict) and answer["x"].tolist() == [1.5, 6.0]
    else:
        got = answer if isinstance(answer, str) else answer["x"]
        assert isinstance(got, str) and message in got, got


def test_an_npz_bomb_is_refused_before_it_is_unpacked(tmp_path):
    path = tmp_path / "answers.npz"
    np.savez_compressed(path, **{"fixed.x": np.zeros(40_000_000)})  # 320 MB unpacked, ~300 KB packed
    [answer] = read_answer_file(path, "fixed", {"x": (2,)})
    assert isinstance(answer, str) and "unpacks to more than" in answer
