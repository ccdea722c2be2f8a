"""crossgrad.save / crossgrad.load: round trips and refusal of anything that would need unpickling."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import crossgrad as torch
import numpy as np
import pytest
from crossgrad import nn


def _round_trip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf)


def test_tensor_round_trip_keeps_values_dtype_and_requires_grad():
    for t in (torch.randn(3, 2, dtype=torch.float64), torch.arange(5), torch.tensor([True, False]),
              torch.tensor(2.5, requires_grad=True)):
        back = _round_trip(t)
        assert back.dtype == t.dtype and back.shape == t.shape and back.requires_grad == t.requires_grad
        np.testing.assert_array_equal(back.detach().numpy(), t.detach().numpy())


def test_state_dict_round_trip_to_a_file(tmp_path):
    torch.manual_seed(0)
    src = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    path = tmp_path / "model.pt"
    torch.save(src.state_dict(), path)
    loaded = torch.load(path)
    assert list(loaded) == ["0.weight", "0.bias", "2.weight", "2.bias"] and type(loaded).__name__ == "OrderedDict"
    dst = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    dst.load_state_dict(loaded)
    x = torch.randn(2, 3)
    np.testing.assert_array_equal(dst(x).detach().numpy(), src(x).detach().numpy())


def test_nested_containers_numbers_and_parameters():
    obj = {"epoch": 3, "lr": 1e-3, "name": "run", "best": float("inf"), "none": None,
           "hist": [1.5, 2.5], "pair": (torch.ones(1), 2), "p": nn.Parameter(torch.zeros(2))}
    back = _round_trip(obj)
    assert back["epoch"] == 3 and back["lr"] == 1e-3 and back["best"] == float("inf") and back["none"] is None
    assert back["hist"] == [1.5, 2.5] and isinstance(back["pair"], tuple) and back["pair"][1] == 2
    assert type(back["p"]).__name__ == "Parameter" and back["p"].requires_grad


def test_file_is_a_zip_of_npy_with_a_json_manifest():
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf)
    zf = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    assert sorted(zf.namelist()) == ["crossgrad.json", "tensors/0.npy"]
    manifest = json.loads(zf.read("crossgrad.json"))
    assert manifest["format"] == "crossgrad-checkpoint" and manifest["tree"] == {
        "dict": [["w", {"tensor": 0, "requires_grad": False}]]}


class _Boom:
    def __reduce__(self):
        return (print, ("this code must never run",))


def test_pickle_payload_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": _Boom()}))
    with pytest.raises(torch.CheckpointError, match="pickle payload; crossgrad never unpickles"):
        torch.load(path)
    assert "must never run" not in capsys.readouterr().out


def test_torch_style_zip_with_a_pickle_inside_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(_Boom()))
    buf.seek(0)
    with pytest.raises(torch.CheckpointError, match="never unpickles"):
        torch.load(buf)


def test_object_array_and_forged_manifest_are_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("crossgrad.json", json.dumps({"format": "crossgrad-checkpoint", "version": 1,
                                                  "tree": {"tensor": 0}}))
        npy = io.BytesIO()
        np.save(npy, np.array([_Boom()], dtype=object), allow_pickle=True)
        zf.writestr("tensors/0.npy", npy.getvalue())
    buf.seek(0)
    with pytest.raises(torch.CheckpointError, match="not a plain numeric array"):
        torch.load(buf)
    for tree, message in [({"eval": "1+1"}, "unknown manifest entry"), ({"tensor": 7}, "does not hold")]:
        bad = io.BytesIO()
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr("crossgrad.json", json.dumps({"format": "crossgrad-checkpoint", "version": 1, "tree": tree}))
        bad.seek(0)
        with pytest.raises(torch.CheckpointError, match=message):
            torch.load(bad)


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(torch.CheckpointError, match="a checkpoint holds tensors"):
        torch.save({"f": lambda: 1}, io.BytesIO())
    buf = io.BytesIO()
    torch.save(torch.ones(1), buf)
    buf.seek(0)
    with pytest.raises(torch.CheckpointError, match="never unpickles"):
        torch.load(buf, weights_only=False)
    with pytest.raises(torch.CheckpointError, match="one device"):
        torch.load(buf, map_location="cuda")
    with pytest.raises(torch.CheckpointError, match="not a zip"):
        torch.load(io.BytesIO(b"PK-not-really"))
