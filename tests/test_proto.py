"""The contract: generated code matches crossgrad.proto, and only the two converters import it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_generated_code_has_not_drifted_from_the_proto():
    out = subprocess.run([sys.executable, str(ROOT / "proto" / "generate.py"), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_generated_code_is_imported_only_by_the_converters():
    """The wire converters (client and server) and the server's two CheckStream fast paths, which
    read request bytes and build answers in place."""
    importers = sorted(str(p.relative_to(ROOT)) for folder in ("engine", "server", "client")
                       for p in (ROOT / folder).rglob("*.py")
                       if re.search(r"crossgrad\.v1|crossgrad_pb2", p.read_text()))
    assert importers == ["client/wire.py", "server/stream_values.py", "server/wire.py", "server/wire_fast.py"]


def test_proto_follows_buf_standard_naming():
    text = (ROOT / "proto" / "crossgrad" / "v1" / "crossgrad.proto").read_text()
    assert "package crossgrad.v1;" in text
    for enum, body in re.findall(r"enum (\w+) \{(.*?)\}", text, re.S):
        prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum).upper() + "_"
        values = re.findall(r"(\w+) = (\d+);", body)
        assert values[0] == (prefix + "UNSPECIFIED", "0"), enum
        assert all(name.startswith(prefix) for name, _ in values), enum
    for rpc, req, resp in re.findall(r"rpc (\w+)\((?:stream )?(\w+)\) returns \((?:stream )?(\w+)\)", text):
        assert (req, resp) == (rpc + "Request", rpc + "Response")
