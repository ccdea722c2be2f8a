"""The architecture's import rules: engine imports no grpc, numeric imports no sympy."""

from __future__ import annotations

import importlib.metadata
import re
import site
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_crossgrad_loads_neither_sympy_nor_grpc():
    loaded = _modules_after("import crossgrad, crossgrad.nn.functional, crossgrad.optim")
    assert not {m for m in loaded if m.split(".")[0] in ("sympy", "grpc", "google")}


def test_numeric_engine_source_never_imports_sympy():
    import crossgrad.engine.numeric as numeric

    root = Path(numeric.__file__).parent
    offenders = [p.name for p in root.glob("*.py")
                 if re.search(r"^\s*(import|from)\s+sympy", p.read_text(), re.MULTILINE)]
    assert offenders == []


def test_no_source_imports_the_facade_by_its_folder_path():
    """The facade's folder engine/facade is installed as ``crossgrad`` itself: ``crossgrad.engine.facade``
    exists only in an editable install, and a fresh one fails to import it."""
    root = Path(__file__).parents[1]
    offenders = [str(p.relative_to(root)) for folder in ("engine", "server", "client", "tests")
                 for p in (root / folder).rglob("*.py")
                 if re.search(r"crossgrad\.engine\.facade\b", p.read_text())
                 and p.name != "test_layering.py"]
    assert offenders == []


def test_pyproject_maps_every_package_under_crossgrad():
    """Every folder with an __init__.py is listed (a missing one only shows in a fresh install)."""
    root = Path(__file__).parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    packages = set(config["tool"]["setuptools"]["packages"])
    dirs = config["tool"]["setuptools"]["package-dir"]
    assert packages and all(p == "crossgrad" or p.startswith("crossgrad.") for p in packages)
    found = set()
    for folder in {root / f for f in dirs.values()}:
        for init in folder.rglob("__init__.py"):
            # the package is named by the mapping whose folder is the longest prefix of its path
            prefix, base = max(((p, root / f) for p, f in dirs.items() if init.is_relative_to(root / f)),
                               key=lambda item: len(item[1].parts))
            found.add(".".join((prefix,) + init.parent.relative_to(base).parts))
    assert found == packages, found ^ packages


def test_distribution_installs_only_the_crossgrad_namespace():
    """site-packages gets crossgrad/ (or an editable finder), never bare engine/server/client."""
    dists = [d for d in importlib.metadata.distributions(path=site.getsitepackages())
             if d.metadata["Name"] == "crossgrad"]
    assert len(dists) == 1
    tops = {Path(f).parts[0] for f in dists[0].files or [] if f.suffix == ".py"}
    assert tops and all(t == "crossgrad" or t.startswith("__editable__") for t in tops), tops


def _imports(path: Path) -> set[str]:
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_symbolic_package_never_imports_the_numeric_engine():
    import crossgrad.engine.symbolic as symbolic

    for path in Path(symbolic.__file__).parent.glob("*.py"):
        assert not any("numeric" in name for name in _imports(path)), path.name


def test_no_client_text_reaches_eval_like_calls():
    """sympify/parse_expr/eval/exec appear nowhere in the library (lambdify only gets SymPy objects)."""
    root = Path(__file__).parents[1]
    for folder in ("engine", "server", "client"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text()
            assert not re.search(r"(?<!def )(?<![.\w])(sympify|parse_expr|eval|exec)\(", text), path


def test_sympy_is_imported_only_inside_the_symbolic_package():
    import crossgrad.engine as engine

    root = Path(engine.__file__).parent
    outside = [str(p.relative_to(root)) for p in root.rglob("*.py")
               if "symbolic" not in p.parts and any(n.split(".")[0] == "sympy" for n in _imports(p))]
    assert outside == []


def test_only_crossgrad_torch_imports_torch():
    """PyTorch stays at the edge: the bridge package (engine/facade/torch) is its one importer."""
    root = Path(__file__).parents[1]
    bridge = root / "engine" / "facade" / "torch"
    files = [p for folder in ("engine", "server", "client") for p in (root / folder).rglob("*.py")]
    importers = [str(p.relative_to(root)) for p in files
                 if not p.is_relative_to(bridge) and any(n.split(".")[0] == "torch" for n in _imports(p))]
    assert importers == []
    assert any(n.split(".")[0] == "torch" for n in _imports(bridge / "capture.py"))  # the scan sees real imports


def test_the_core_runs_without_loading_torch():
    loaded = _modules_after("import crossgrad, crossgrad.engine.check, crossgrad.client, crossgrad.server.app")
    assert not {m for m in loaded if m.split(".")[0] == "torch"}


def test_the_torch_extra_is_pinned_to_the_cpu_wheel():
    config = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert config["project"]["optional-dependencies"]["torch"] == ["torch==2.13.0"]
