"""stream_values: a batch's later requests read only their values from the first one's template."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from crossgrad.client import wire
from crossgrad.engine import batch_check
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.server import stream_values
from crossgrad.server.limits import Limits
from crossgrad.server.service import CrossgradServicer
from crossgrad.v1 import crossgrad_pb2 as pb

SEED = Path(__file__).parents[1] / "examples" / "seed.json"
SERVICER = CrossgradServicer(Limits(), pool=None)  # type: ignore[arg-type]  (prepare needs no pool)


def _prepared(item: pb.CheckStreamRequest) -> tuple:
    request, plan = SERVICER.prepare(item.request, 1e12, 60.0)
    return request, plan, batch_check.batch_key(request, plan)


def _template(item: pb.CheckStreamRequest) -> stream_values.Template:
    prepared = _prepared(item)
    found = stream_values.Template.of(item, prepared, batch_check.fixed_leaf_indices(prepared[1]))
    assert found is not None
    return found


def _seed_item(values: dict[str, list[float]], claimed: list[float] | None = None) -> pb.CheckStreamRequest:
    request = wire.request_from_json(SEED.read_text())
    for node in request.graph.nodes:
        if node.name in values:
            node.leaf.value.data[:] = values[node.name]
    if claimed is not None:
        request.claimed["b"].CopyFrom(pb.Tensor(shape=[3], dtype=pb.DTYPE_FLOAT64, data=claimed))
    return pb.CheckStreamRequest(request=request)


def _assert_same(fast: tuple, full: tuple) -> None:
    """Leaf values, seed and claimed equal in dtype and bits; plan and key equal."""
    (fr, fp, fk), (r, p, k) = fast, full
    for a, b in zip(fr.graph.nodes, r.graph.nodes):
        assert type(a) is type(b) and a.name == b.name
        if isinstance(a, Leaf):
            assert a.value.dtype == b.value.dtype and a.value.shape == b.value.shape
            assert a.value.tobytes() == b.value.tobytes()
            assert a.value.flags.writeable
    assert set(fr.claimed) == set(r.claimed)
    for name in r.claimed:
        assert fr.claimed[name].dtype == r.claimed[name].dtype
        assert fr.claimed[name].tobytes() == r.claimed[name].tobytes()
    assert (fr.seed is None) == (r.seed is None)
    if r.seed is not None:
        assert fr.seed.dtype == r.seed.dtype and fr.seed.tobytes() == r.seed.tobytes()
    assert fk == k
    assert (fp.shapes, fp.dtypes, fp.attrs, fp.active, fp.structure_hash, fp.grad_leaves()) == \
           (p.shapes, p.dtypes, p.attrs, p.active, p.structure_hash, p.grad_leaves())
    assert fp.graph is fr.graph


def test_values_of_a_same_structure_request_equal_a_full_conversion():
    """float32 rounding from doubles as tensor_in does it: overflow to inf, -0.0, nan, subnormals."""
    first = _seed_item({"w": [0.5] * 15, "b": [1.0, 2.0, 3.0]}, claimed=[0.1, 0.2, 0.3])
    template = _template(first)
    assert [h.where for h in template.holes] == [("leaf", 0), ("leaf", 1), ("leaf", 3), ("leaf", 5),
                                                 ("claimed", "b")]
    special = [1e300, -0.0, float("nan"), 1e-45, -3.4028235677973366e38, float("-inf"), 0.1, 2.0 ** -149,
               1 / 3, 7.0, -7.5, 1e-310, 3.4028235e38, 65504.0, 1.0000000596046448]
    other = _seed_item({"w": special, "b": [-1.0, 0.0, 1e39], "const5": [0.0, 1.0, 0.5]}, claimed=[1e300, -0.0, 5.0])
    with np.errstate(over="ignore"):
        values = template.values(other)
        assert values is not None
        _assert_same(template.prepared_with(values), _prepared(other))
    assert np.isinf(values[1][0, 0]) and np.signbit(values[1][0, 1]) and np.isnan(values[1][0, 2])


def test_a_request_differing_outside_its_values_goes_the_full_way():
    template = _template(_seed_item({"w": [0.5] * 15}))
    assert template.values(_seed_item({"w": [0.25] * 15})) is not None
    root = _seed_item({})
    root.request.root = "add4"  # another output
    shape = _seed_item({})
    shape.request.graph.nodes[1].leaf.value.shape[:] = [3, 5]  # same element count, other shape
    options = _seed_item({})
    options.request.fd_seed = 3
    dtype = _seed_item({})
    dtype.request.graph.nodes[1].leaf.value.dtype = pb.DTYPE_FLOAT64
    name = _seed_item({})
    name.request.graph.nodes[1].name = "v"
    fewer = _seed_item({"b": [1.0, 2.0]})  # a bad request: its own error from the full way
    claimed = _seed_item({}, claimed=[1.0, 2.0, 3.0])
    for item in (root, shape, options, dtype, name, fewer, claimed, object()):
        assert template.values(item) is None


def _weighted(weight: list[float], x: list[float]) -> pb.CheckStreamRequest:
    """BCE with a per-element weight (a float leaf read by an input without gradient) and a
    non-scalar output with a seed gradient."""
    graph = Graph((Leaf("x", np.array(x, np.float64), True), Leaf("y", np.array([0.0, 1.0])),
                   Leaf("wt", np.array(weight, np.float64)),
                   OpNode("l", "binary_cross_entropy_with_logits", ("x", "y", "wt"), {"reduction": "none"})), "l")
    request = wire.request_out(CheckRequest(graph, seed=np.array([1.0, -2.0])))
    return pb.CheckStreamRequest(request=request)


def test_a_leaf_whose_value_is_structure_must_be_equal_and_the_seed_is_a_value():
    template = _template(_weighted([1.0, 2.0], [0.5, -0.5]))
    assert [h.where for h in template.holes] == [("leaf", 0), ("leaf", 1), ("seed", None)]
    assert template.values(_weighted([1.0, 3.0], [0.5, -0.5])) is None  # the weight is in the batch key
    other = _weighted([1.0, 2.0], [4.0, 1e-300])
    other.request.gradient.data[:] = [3.0, 0.25]
    values = template.values(other)
    assert values is not None
    _assert_same(template.prepared_with(values), _prepared(other))
    assert template.prepared_with(values)[0].seed.tolist() == [3.0, 0.25]


@pytest.mark.parametrize("data", [b"\x0a\x05\x0a\x03\x0a\x01", b"\x0a\x02\x0b\x00"])
def test_bytes_not_laid_out_as_expected_give_no_template(data):
    item = _seed_item({})
    prepared = _prepared(item)

    class Odd:
        def SerializeToString(self) -> bytes:  # noqa: N802
            return data

    assert stream_values.Template.of(Odd(), prepared, set()) is None


def test_the_copied_dataclasses_have_nothing_init_would_add():
    """stream_values._replaced copies fields without __init__: fine only while these classes have
    no __post_init__ reading a field it replaces (values, graph, seed, claimed) and every field is an
    init field. CheckRequest's checks its witnesses, which a copy keeps from the template's request."""
    import dataclasses
    import inspect

    from crossgrad.engine.graph import Plan

    for cls in (Leaf, Graph, Plan):
        assert not hasattr(cls, "__post_init__"), cls
    post_init = inspect.getsource(CheckRequest.__post_init__)
    assert not any(f"self.{name}" in post_init for name in ("graph", "seed", "claimed")), post_init
    for cls in (Leaf, Graph, Plan, CheckRequest):
        assert all(f.init for f in dataclasses.fields(cls)), cls
