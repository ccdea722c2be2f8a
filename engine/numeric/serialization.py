"""``crossgrad.save`` / ``crossgrad.load``: tensors and state_dicts in a safe, documented format.

A checkpoint is a zip holding ``crossgrad.json`` (format version + a tree of dicts, lists, tuples,
numbers, strings and tensor references) and one ``tensors/<i>.npy`` per tensor, read back with
``numpy.load(allow_pickle=False)``. Nothing is ever unpickled: pickle payloads (including torch's
own .pt files) are refused with ``CheckpointError``, so loading an untrusted file runs no code.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from ..errors import CrossgradError
from . import dtypes
from .tensor import Tensor

FORMAT = "crossgrad-checkpoint"
VERSION = 1
MANIFEST = "crossgrad.json"
_SCALARS = (bool, int, float, str, type(None))


class CheckpointError(CrossgradError, ValueError):
    """A file that is not a crossgrad checkpoint, or one that asks for what the format refuses."""


class _Writer:
    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []

    def encode(self, obj: Any, path: str) -> Any:
        if isinstance(obj, Tensor):
            self.arrays.append(np.asarray(obj._data))
            kind = "parameter" if type(obj).__name__ == "Parameter" else "tensor"
            return {kind: len(self.arrays) - 1, "requires_grad": obj.requires_grad}
        if isinstance(obj, dict):
            bad = [k for k in obj if not isinstance(k, (str, int))]
            if bad:
                raise CheckpointError(f"save: {path} has a key of type {type(bad[0]).__name__}; keys are str or int")
            items = [[k, self.encode(v, f"{path}[{k!r}]")] for k, v in obj.items()]
            return {"ordered_dict" if isinstance(obj, OrderedDict) else "dict": items}
        if isinstance(obj, (list, tuple)):
            return {type(obj).__name__: [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, _SCALARS) and not (isinstance(obj, float) and not np.isfinite(obj)):
            return {"value": obj}
        if isinstance(obj, float):
            return {"float": repr(obj)}  # inf / nan, which JSON does not spell
        raise CheckpointError(f"save: {path} is a {type(obj).__name__}; a checkpoint holds tensors, dicts, "
                              "lists, tuples, numbers, strings and None")


def save(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """Write ``obj`` (a tensor, a state_dict, nested containers of them) to a path or binary file."""
    writer = _Writer()
    tree = writer.encode(obj, "obj")
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(MANIFEST, json.dumps({"format": FORMAT, "version": VERSION, "tree": tree}))
        for i, arr in enumerate(writer.arrays):
            buf = io.BytesIO()
            np.save(buf, arr, allow_pickle=False)
            zf.writestr(f"tensors/{i}.npy", buf.getvalue())


def _open(f: str | os.PathLike | IO[bytes]) -> zipfile.ZipFile:
    head = _peek(f)
    if head[:1] == b"\x80" or head[:1] in (b"(", b"]", b"}"):
        raise CheckpointError("load: this is a pickle payload; crossgrad never unpickles (it can run code). "
                              "Save with crossgrad.save, or export the arrays with numpy.save")
    try:
        zf = zipfile.ZipFile(f)
    except zipfile.BadZipFile as exc:
        raise CheckpointError("load: not a crossgrad checkpoint (not a zip file)") from exc
    if MANIFEST not in zf.namelist():
        pickled = any(n.endswith(".pkl") for n in zf.namelist())
        raise CheckpointError("load: not a crossgrad checkpoint (no crossgrad.json)"
                              + ("; it holds a pickle (a torch .pt file?), which crossgrad never unpickles"
                                 if pickled else ""))
    return zf


def _peek(f: Any) -> bytes:
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return fh.read(4)
    pos = f.tell()
    head = f.read(4)
    f.seek(pos)
    return bytes(head)


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, mapper: Any = None) -> None:
        self.zf = zf
        self.mapper = mapper

    def array(self, i: Any) -> np.ndarray:
        name = f"tensors/{int(i)}.npy"
        if name not in self.zf.namelist():
            raise CheckpointError(f"load: the manifest refers to {name}, which the file does not hold")
        try:
            arr = np.load(io.BytesIO(self.zf.read(name)), allow_pickle=False)
        except ValueError as exc:
            raise CheckpointError(f"load: {name} is not a plain numeric array ({exc})") from exc
        dtypes.supported(arr.dtype)
        return arr

    def decode(self, node: Any) -> Any:
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise CheckpointError(f"load: malformed manifest entry {str(node)[:80]}")
        kind, value = next(iter(node.items()))
        if kind in ("tensor", "parameter"):
            return self._tensor(kind, value, bool(node.get("requires_grad")))
        if kind in ("dict", "ordered_dict"):
            return (OrderedDict if kind == "ordered_dict" else dict)((k, self.decode(v)) for k, v in value)
        if kind in ("list", "tuple"):
            items = [self.decode(v) for v in value]
            return items if kind == "list" else tuple(items)
        if kind == "value" and isinstance(value, _SCALARS):
            return value
        if kind == "float" and value in ("inf", "-inf", "nan"):
            return float(value)
        raise CheckpointError(f"load: unknown manifest entry kind {kind!r}")

    def _tensor(self, kind: str, index: Any, requires_grad: bool) -> Tensor:
        arr = self.array(index)
        if kind == "parameter":
            from .nn import Parameter

            return Parameter(Tensor._make(arr), requires_grad=requires_grad)
        t = Tensor._make(arr)
        t = t.requires_grad_(True) if requires_grad else t
        if self.mapper is not None:  # torch's map_location=callable(storage, location)
            t = self.mapper(t, "cpu")
            if not isinstance(t, Tensor):
                raise CheckpointError(f"load: map_location returned {type(t).__name__}, not a tensor")
        return t


def _mapper(map_location: Any) -> Any:
    """None, or torch's callable form; every other form must name the cpu (a dict: every target)."""
    if callable(map_location) and not isinstance(map_location, str) and type(map_location).__name__ != "device":
        return map_location
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        if target is not None and str(target).split(":")[0] != "cpu":
            raise CheckpointError(f"load: map_location={map_location!r}; crossgrad has one device, 'cpu'")
    return None


def load(f: str | os.PathLike | IO[bytes], map_location: Any = None, weights_only: bool = True) -> Any:
    """Read what ``save`` wrote; ``map_location`` may only name the cpu (or be torch's callable, given
    each tensor and "cpu"); never unpickles."""
    mapper = _mapper(map_location)
    if not weights_only:
        raise CheckpointError("load: weights_only=False would mean unpickling; crossgrad never unpickles")
    with _open(f) as zf:
        try:
            manifest = json.loads(zf.read(MANIFEST))
        except ValueError as exc:
            raise CheckpointError(f"load: crossgrad.json is not JSON ({exc})") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise CheckpointError("load: crossgrad.json does not describe a crossgrad checkpoint")
        if manifest.get("version") != VERSION:
            raise CheckpointError(f"load: checkpoint format version {manifest.get('version')!r}; "
                                  f"this crossgrad reads version {VERSION}")
        return _Reader(zf, mapper).decode(manifest.get("tree"))
