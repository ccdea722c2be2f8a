"""The hostile cases bench/hostile_service.py sends: one line per case (name, request builder,
accepted status codes), grouped by op family. A table, hence long lines."""
# ruff: noqa: E501

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from crossgrad.client import wire
from crossgrad.v1 import crossgrad_pb2 as pb

BAD = {"INVALID_ARGUMENT"}
LIMIT = {"RESOURCE_EXHAUSTED"}
BAD_OR_LIMIT = BAD | LIMIT
OK = {"OK"}
DEADLINE = {"DEADLINE_EXCEEDED"}
RNG = np.random.default_rng(0)


def leaf(name: str, value: Any, grad: bool = False) -> pb.Node:
    return pb.Node(name=name, leaf=pb.Leaf(value=wire.tensor_out(np.asarray(value)), requires_grad=grad))


def declared(name: str, shape: list[int], dtype: int = pb.DTYPE_FLOAT64, grad: bool = True, fill: bool = False) -> pb.Node:
    """A leaf with a declared shape and (unless ``fill``) no data: the limits must refuse it first."""
    t = pb.Tensor(shape=shape, dtype=dtype)
    if fill:
        t.data.extend([0.5] * math.prod(shape))
    return pb.Node(name=name, leaf=pb.Leaf(value=t, requires_grad=grad))


def op(name: str, kind: str, inputs: list[str], **attrs: Any) -> pb.Node:
    return pb.Node(name=name, op=pb.Op(op=kind, inputs=inputs, attrs={k: wire.attr_out(v) for k, v in attrs.items()}))


def request(nodes: list[pb.Node], root: str | None = None, seed: Any = None, **fields: Any) -> pb.CheckRequest:
    """A request; a non-scalar root is summed (``sum`` node) unless ``seed`` is given."""
    msg = pb.CheckRequest(graph=pb.Graph(nodes=nodes), root=root or nodes[-1].name, **fields)
    if seed is not None:
        msg.gradient.CopyFrom(wire.tensor_out(np.asarray(seed)))
    return msg


def summed(nodes: list[pb.Node], **fields: Any) -> pb.CheckRequest:
    return request([*nodes, op("loss", "sum", [nodes[-1].name])], "loss", **fields)


def r(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def conv(x: tuple, w: tuple, kind: str = "conv2d", **attrs: Any) -> pb.CheckRequest:
    return summed([leaf("x", r(*x), True), leaf("w", r(*w), True), op("c", kind, ["x", "w"], **attrs)])


def pool(x: tuple, kind: str = "max_pool2d", **attrs: Any) -> pb.CheckRequest:
    return summed([leaf("x", r(*x), True), op("p", kind, ["x"], **attrs)])


Case = tuple[str, Callable[[], pb.CheckRequest | bytes], set[str]]


def conv_cases() -> Iterator[Case]:
    yield "conv2d kernel larger than input", lambda: conv((1, 1, 3, 3), (1, 1, 5, 5)), BAD
    yield "conv2d kernel larger than padded input", lambda: conv((1, 1, 3, 3), (1, 1, 6, 6), padding=(1, 1)), BAD
    yield "conv2d kernel == padded input", lambda: conv((1, 1, 3, 3), (1, 1, 5, 5), padding=(1, 1)), OK
    yield "conv2d dilated kernel larger", lambda: conv((1, 1, 5, 5), (1, 1, 3, 3), dilation=(3, 3)), BAD
    yield "conv2d channels not divisible by groups", lambda: conv((1, 3, 4, 4), (2, 1, 2, 2), groups=2), BAD
    yield "conv2d out channels not divisible", lambda: conv((1, 4, 4, 4), (3, 2, 2, 2), groups=2), BAD
    yield "conv2d weight in-channels mismatch", lambda: conv((1, 4, 4, 4), (2, 3, 2, 2)), BAD
    yield "conv2d groups 0", lambda: conv((1, 2, 4, 4), (2, 2, 2, 2), groups=0), BAD
    yield "conv2d groups -1", lambda: conv((1, 2, 4, 4), (2, 2, 2, 2), groups=-1), BAD
    yield "conv2d stride 0", lambda: conv((1, 1, 4, 4), (1, 1, 2, 2), stride=(0, 1)), BAD
    yield "conv2d stride negative", lambda: conv((1, 1, 4, 4), (1, 1, 2, 2), stride=(-1, 1)), BAD
    yield "conv2d dilation 0", lambda: conv((1, 1, 4, 4), (1, 1, 2, 2), dilation=(0, 1)), BAD
    yield "conv2d padding negative", lambda: conv((1, 1, 4, 4), (1, 1, 2, 2), padding=(-1, 0)), BAD
    yield "conv2d padding huge", lambda: conv((1, 1, 2, 2), (1, 1, 2, 2), padding=(100000, 100000)), BAD_OR_LIMIT
    yield "conv2d padding huge with dilation", lambda: conv((1, 1, 2, 2), (1, 1, 2, 2), padding=(50000, 50000),
                                                              dilation=(100000, 100000)), BAD_OR_LIMIT
    yield "conv2d padding same with stride 2", lambda: conv((1, 1, 4, 4), (1, 1, 3, 3), padding="same", stride=(2, 2)), BAD
    yield "conv2d padding bogus string", lambda: conv((1, 1, 4, 4), (1, 1, 3, 3), padding="full"), BAD
    yield "conv2d padding 3-tuple", lambda: conv((1, 1, 4, 4), (1, 1, 3, 3), padding=(1, 1, 1)), BAD
    yield "conv2d stride as float", lambda: conv((1, 1, 4, 4), (1, 1, 3, 3), stride=1.5), BAD
    yield "conv2d 3-D input", lambda: conv((1, 4, 4), (1, 1, 2, 2)), BAD
    yield "conv2d 5-D input", lambda: conv((1, 1, 1, 4, 4), (1, 1, 2, 2)), BAD
    yield "conv2d 3-D weight", lambda: conv((1, 1, 4, 4), (1, 1, 2)), BAD
    yield "conv2d 0-D input", lambda: summed([leaf("x", 1.0, True), leaf("w", r(1, 1, 1, 1), True),
                                              op("c", "conv2d", ["x", "w"])]), BAD
    yield "conv2d zero batch", lambda: conv((0, 1, 4, 4), (1, 1, 2, 2)), BAD | OK
    yield "conv2d zero channels", lambda: conv((1, 0, 4, 4), (1, 0, 2, 2)), BAD | OK
    yield "conv2d zero-size kernel", lambda: conv((1, 1, 4, 4), (1, 1, 0, 2)), BAD | OK
    yield "conv2d bias wrong size", lambda: summed([leaf("x", r(1, 1, 4, 4), True), leaf("w", r(2, 1, 2, 2), True),
                                                    leaf("b", r(3), True), op("c", "conv2d", ["x", "w", "b"])]), BAD
    yield "conv2d bias 2-D", lambda: summed([leaf("x", r(1, 1, 4, 4), True), leaf("w", r(2, 1, 2, 2), True),
                                             leaf("b", r(2, 1), True), op("c", "conv2d", ["x", "w", "b"])]), BAD
    yield "conv2d int64 input", lambda: summed([leaf("x", np.ones((1, 1, 4, 4), np.int64)), leaf("w", r(1, 1, 2, 2), True),
                                                op("c", "conv2d", ["x", "w"])]), BAD
    yield "conv2d bool weight", lambda: summed([leaf("x", r(1, 1, 4, 4), True), leaf("w", np.ones((1, 1, 2, 2), bool)),
                                                op("c", "conv2d", ["x", "w"])]), BAD
    yield "conv2d mixed f32/f64", lambda: summed([leaf("x", r(1, 1, 4, 4).astype(np.float32), True),
                                                  leaf("w", r(1, 1, 2, 2), True), op("c", "conv2d", ["x", "w"])]), OK | BAD  # torch refuses; the IR promotes
    yield "conv2d im2col over limit", lambda: summed([declared("x", [1, 64, 100, 100], fill=True),
                                                      declared("w", [64, 64, 11, 11], fill=True),
                                                      op("c", "conv2d", ["x", "w"])]), LIMIT
    yield "conv2d huge declared, no data", lambda: summed([declared("x", [64, 64, 1000, 1000]), declared("w", [8, 64, 3, 3]),
                                                           op("c", "conv2d", ["x", "w"])]), BAD_OR_LIMIT
    yield "conv2d huge declared overflow", lambda: summed([declared("x", [2**40, 2**40, 2**40, 2**40]), declared("w", [1, 1, 1, 1]),
                                                           op("c", "conv2d", ["x", "w"])]), BAD_OR_LIMIT
    yield "conv_transpose2d output_padding >= stride", lambda: conv((1, 1, 3, 3), (1, 1, 3, 3), "conv_transpose2d",
                                                                    stride=(2, 2), output_padding=(2, 0)), BAD
    yield "conv_transpose2d negative output", lambda: conv((1, 1, 2, 2), (1, 1, 2, 2), "conv_transpose2d",
                                                           padding=(5, 5)), BAD
    yield "conv_transpose2d groups mismatch", lambda: conv((1, 3, 3, 3), (3, 1, 2, 2), "conv_transpose2d", groups=2), BAD
    yield "conv_transpose2d scatter over limit", lambda: summed([declared("x", [1, 64, 120, 120], fill=True),
                                                                 declared("w", [64, 64, 9, 9], fill=True),
                                                                 op("c", "conv_transpose2d", ["x", "w"])]), LIMIT
    yield "conv_transpose2d huge output_padding + stride", lambda: conv((1, 1, 2, 2), (1, 1, 2, 2), "conv_transpose2d",
                                                                        stride=(100000, 100000),
                                                                        output_padding=(99999, 99999)), BAD_OR_LIMIT
    yield "conv1d kernel larger", lambda: conv((1, 1, 3), (1, 1, 5), "conv1d"), BAD
    yield "conv1d 4-D input", lambda: conv((1, 1, 3, 3), (1, 1, 2), "conv1d"), BAD
    yield "conv1d 1-D input", lambda: conv((3,), (1, 1, 2), "conv1d"), BAD
    yield "conv_transpose1d dilation 0", lambda: conv((1, 1, 3), (1, 1, 2), "conv_transpose1d", dilation=(0,)), BAD
    yield "conv2d NaN weight", lambda: summed([leaf("x", r(1, 1, 4, 4), True), leaf("w", np.full((1, 1, 2, 2), np.nan), True),
                                               op("c", "conv2d", ["x", "w"])]), OK
    yield "conv2d inf input", lambda: summed([leaf("x", np.full((1, 1, 4, 4), np.inf), True), leaf("w", r(1, 1, 2, 2), True),
                                              op("c", "conv2d", ["x", "w"])]), OK


def pool_cases() -> Iterator[Case]:
    yield "max_pool2d kernel larger than input", lambda: pool((1, 1, 3, 3), kernel_size=(5, 5)), BAD
    yield "max_pool2d padding > kernel/2", lambda: pool((1, 1, 4, 4), kernel_size=(2, 2), padding=(2, 2)), BAD
    yield "max_pool2d huge padding huge kernel", lambda: pool((1, 1, 2, 2), kernel_size=(200001, 200001),
                                                              padding=(100000, 100000)), BAD_OR_LIMIT
    yield "max_pool2d huge dilation", lambda: pool((1, 1, 2, 2), kernel_size=(3, 3), padding=(1, 1),
                                                   dilation=(100000, 100000)), BAD_OR_LIMIT
    yield "max_pool2d stride 0", lambda: pool((1, 1, 4, 4), kernel_size=(2, 2), stride=(0, 0)), BAD
    yield "max_pool2d kernel 0", lambda: pool((1, 1, 4, 4), kernel_size=(0, 2)), BAD
    yield "max_pool2d kernel negative", lambda: pool((1, 1, 4, 4), kernel_size=(-2, 2)), BAD
    yield "max_pool2d no kernel", lambda: pool((1, 1, 4, 4)), OK  # the catalogue defaults kernel_size to (2, 2)
    yield "max_pool2d 2-D input", lambda: pool((4, 4), kernel_size=(2, 2)), BAD
    yield "max_pool2d 5-D input", lambda: pool((1, 1, 1, 4, 4), kernel_size=(2, 2)), BAD
    yield "max_pool2d 3-D ok", lambda: pool((1, 4, 4), kernel_size=(2, 2)), OK
    yield "max_pool2d ceil_mode last window in padding", lambda: pool((1, 1, 5, 5), kernel_size=(2, 2), stride=(2, 2),
                                                                      padding=(1, 1), ceil_mode=True), OK
    yield "max_pool2d zero-size spatial", lambda: pool((1, 1, 0, 4), kernel_size=(1, 1)), BAD | OK
    yield "max_pool2d all -inf", lambda: summed([leaf("x", np.full((1, 1, 4, 4), -np.inf), True),
                                                 op("p", "max_pool2d", ["x"], kernel_size=(2, 2))]), OK
    yield "max_pool2d NaN inside", lambda: summed([leaf("x", np.where(np.eye(4)[None, None] > 0, np.nan, 1.0), True),
                                                   op("p", "max_pool2d", ["x"], kernel_size=(2, 2))]), OK
    yield "avg_pool2d kernel larger", lambda: pool((1, 1, 3, 3), "avg_pool2d", kernel_size=(4, 4)), BAD
    yield "avg_pool2d divisor_override 0", lambda: pool((1, 1, 4, 4), "avg_pool2d", kernel_size=(2, 2), divisor_override=0), BAD
    yield "avg_pool2d divisor_override -1", lambda: pool((1, 1, 4, 4), "avg_pool2d", kernel_size=(2, 2), divisor_override=-1), OK  # torch takes a negative divisor
    yield "avg_pool2d padding > kernel/2", lambda: pool((1, 1, 4, 4), "avg_pool2d", kernel_size=(2, 2), padding=(2, 0)), BAD
    yield "avg_pool2d huge kernel+padding", lambda: pool((1, 1, 2, 2), "avg_pool2d", kernel_size=(200001, 200001),
                                                         padding=(100000, 100000)), BAD_OR_LIMIT
    yield "adaptive_avg output 0", lambda: pool((1, 1, 4, 4), "adaptive_avg_pool2d", output_size=(0, 2)), BAD | OK
    yield "adaptive_avg output negative", lambda: pool((1, 1, 4, 4), "adaptive_avg_pool2d", output_size=(-1, 2)), BAD
    yield "adaptive_avg output larger than input", lambda: pool((1, 1, 2, 2), "adaptive_avg_pool2d", output_size=(5, 5)), OK
    yield "adaptive_avg output huge", lambda: pool((1, 1, 2, 2), "adaptive_avg_pool2d", output_size=(100000, 100000)), LIMIT
    yield "adaptive_avg output huge on big input", lambda: summed([declared("x", [1, 1, 1000, 1000], fill=True),
                                                                   op("p", "adaptive_avg_pool2d", ["x"], output_size=(1999, 1999))]), OK | DEADLINE
    yield "adaptive_max output 1-tuple", lambda: pool((1, 1, 4, 4), "adaptive_max_pool2d", output_size=(2,)), BAD | OK
    yield "adaptive_max output string", lambda: pool((1, 1, 4, 4), "adaptive_max_pool2d", output_size="big"), BAD
    yield "adaptive_max 0 input", lambda: pool((1, 1, 0, 4), "adaptive_max_pool2d", output_size=(2, 2)), BAD
    yield "interpolate size 0", lambda: pool((1, 1, 3, 3), "interpolate", size=(0, 3)), BAD
    yield "interpolate huge", lambda: pool((1, 1, 3, 3), "interpolate", size=(100000, 100000)), LIMIT
    yield "interpolate bad mode", lambda: pool((1, 1, 3, 3), "interpolate", size=(4, 4), mode="cubic-ish"), BAD
    yield "interpolate scale_factor negative", lambda: pool((1, 1, 3, 3), "interpolate", scale_factor=-2.0), BAD
    yield "interpolate scale_factor nan", lambda: pool((1, 1, 3, 3), "interpolate", scale_factor=float("nan")), BAD
    yield "interpolate scale_factor inf", lambda: pool((1, 1, 3, 3), "interpolate", scale_factor=float("inf")), BAD
    yield "interpolate scale_factor huge", lambda: pool((1, 1, 3, 3), "interpolate", scale_factor=1e12), BAD_OR_LIMIT
    yield "pad reflect larger than input", lambda: pool((1, 1, 3, 3), "pad", pad=(3, 3, 0, 0), mode="reflect"), BAD
    yield "pad negative crops all", lambda: pool((1, 1, 3, 3), "pad", pad=(-2, -2, 0, 0)), BAD
    yield "pad huge", lambda: pool((1, 1, 3, 3), "pad", pad=(10**9, 10**9, 0, 0)), LIMIT
    yield "pad odd length", lambda: pool((1, 1, 3, 3), "pad", pad=(1, 1, 1)), BAD
    yield "pad value nan", lambda: pool((1, 1, 3, 3), "pad", pad=(1, 1), value=float("nan")), OK | BAD  # torch pads with NaN; crossgrad refuses non-finite attrs
    yield "pixel_shuffle not divisible", lambda: pool((1, 3, 2, 2), "pixel_shuffle", upscale_factor=2), BAD
    yield "pixel_shuffle factor 0", lambda: pool((1, 4, 2, 2), "pixel_shuffle", upscale_factor=0), BAD
    yield "pixel_shuffle factor huge", lambda: pool((1, 4, 2, 2), "pixel_shuffle", upscale_factor=2**32), BAD


def norm_cases() -> Iterator[Case]:
    def bn(x: tuple, *extra: tuple | None, **attrs: Any) -> pb.CheckRequest:
        nodes, names = [leaf("x", r(*x), True)], ["x"]
        for name, shape in zip(["rm", "rv", "w", "b"], extra):
            if shape is None:
                names.append("")
                continue
            value = np.abs(r(*shape)) + 0.5 if name == "rv" else r(*shape)
            nodes.append(leaf(name, value, name in ("w", "b")))
            names.append(name)
        return summed([*nodes, op("n", "batch_norm", names, **attrs)])

    yield "batch_norm batch 1 per channel (training)", lambda: bn((1, 3), training=True), BAD
    yield "batch_norm batch 1 spatial 1 (training)", lambda: bn((1, 2, 1, 1), training=True), BAD
    yield "batch_norm batch 1 spatial 4 (training)", lambda: bn((1, 2, 2, 2), training=True), OK
    yield "batch_norm weight wrong size", lambda: bn((4, 3), None, None, (2,), None, training=True), BAD
    yield "batch_norm running_var wrong size", lambda: bn((4, 3), (3,), (4,), training=False), BAD
    yield "batch_norm eval without running stats", lambda: bn((4, 3), training=False), BAD
    yield "batch_norm 1-D input", lambda: bn((4,), training=True), BAD
    yield "batch_norm eps negative", lambda: bn((4, 3), training=True, eps=-1.0), BAD | OK
    yield "batch_norm momentum nan", lambda: bn((4, 3), (3,), (3,), training=True, momentum=float("nan")), BAD | OK
    yield "batch_norm negative running_var", lambda: summed([leaf("x", r(4, 3), True), leaf("rm", r(3)),
                                                             leaf("rv", -np.ones(3)),
                                                             op("n", "batch_norm", ["x", "rm", "rv"], training=False)]), OK
    yield "batch_norm int running_mean", lambda: summed([leaf("x", r(4, 3), True), leaf("rm", np.zeros(3, np.int64)),
                                                         leaf("rv", np.ones(3)),
                                                         op("n", "batch_norm", ["x", "rm", "rv"], training=False)]), BAD
    yield "batch_norm running_mean requires grad", lambda: summed([leaf("x", r(4, 3), True), leaf("rm", r(3), True),
                                                                   leaf("rv", np.ones(3)),
                                                                   op("n", "batch_norm", ["x", "rm", "rv"], training=False)]), BAD | OK
    yield "layer_norm shape mismatch", lambda: summed([leaf("x", r(3, 5), True), op("n", "layer_norm", ["x"], normalized_shape=(4,))]), BAD
    yield "layer_norm shape longer than input", lambda: summed([leaf("x", r(5), True),
                                                                op("n", "layer_norm", ["x"], normalized_shape=(2, 5))]), BAD
    yield "layer_norm empty normalized_shape", lambda: summed([leaf("x", r(3, 5), True),
                                                               op("n", "layer_norm", ["x"], normalized_shape=())]), BAD
    yield "layer_norm weight wrong shape", lambda: summed([leaf("x", r(3, 5), True), leaf("w", r(4), True),
                                                           op("n", "layer_norm", ["x", "w"], normalized_shape=(5,))]), BAD
    yield "layer_norm eps nan", lambda: summed([leaf("x", r(3, 5), True), op("n", "layer_norm", ["x"], normalized_shape=(5,),
                                                                             eps=float("nan"))]), BAD | OK
    yield "layer_norm normalized_shape zero", lambda: summed([leaf("x", np.zeros((3, 0)), True),
                                                              op("n", "layer_norm", ["x"], normalized_shape=(0,))]), BAD | OK


def index_cases() -> Iterator[Case]:
    yield "embedding index out of range", lambda: summed([leaf("i", np.array([0, 5])), leaf("w", r(5, 3), True),
                                                          op("e", "embedding", ["i", "w"])]), BAD
    yield "embedding negative index", lambda: summed([leaf("i", np.array([0, -1])), leaf("w", r(5, 3), True),
                                                      op("e", "embedding", ["i", "w"])]), BAD
    yield "embedding float index", lambda: summed([leaf("i", np.array([0.0, 1.0])), leaf("w", r(5, 3), True),
                                                   op("e", "embedding", ["i", "w"])]), BAD
    yield "embedding bool index", lambda: summed([leaf("i", np.array([True, False])), leaf("w", r(5, 3), True),
                                                  op("e", "embedding", ["i", "w"])]), BAD
    yield "embedding index requires grad", lambda: summed([pb.Node(name="i", leaf=pb.Leaf(value=pb.Tensor(
        shape=[2], dtype=pb.DTYPE_INT64, int_data=[0, 1]), requires_grad=True)), leaf("w", r(5, 3), True),
        op("e", "embedding", ["i", "w"])]), BAD
    yield "embedding 1-D weight", lambda: summed([leaf("i", np.array([0, 1])), leaf("w", r(5), True),
                                                  op("e", "embedding", ["i", "w"])]), BAD
    yield "embedding padding_idx out of range", lambda: summed([leaf("i", np.array([0, 1])), leaf("w", r(5, 3), True),
                                                                op("e", "embedding", ["i", "w"], padding_idx=7)]), BAD
    yield "embedding index int64 max", lambda: summed([leaf("i", np.array([2**63 - 1])), leaf("w", r(5, 3), True),
                                                       op("e", "embedding", ["i", "w"])]), BAD
    yield "embedding index int64 min", lambda: summed([leaf("i", np.array([-(2**63)])), leaf("w", r(5, 3), True),
                                                       op("e", "embedding", ["i", "w"])]), BAD
    yield "embedding index through an op", lambda: summed([leaf("i", np.array([0, 1])), leaf("w", r(5, 3), True),
                                                           op("j", "add", ["i", "i"]), op("e", "embedding", ["j", "w"])]), BAD | OK
    yield "embedding index from float op", lambda: summed([leaf("i", np.array([0.0, 1.0]), True), leaf("w", r(5, 3), True),
                                                           op("j", "relu", ["i"]), op("e", "embedding", ["j", "w"])]), BAD
    yield "gather index out of range", lambda: summed([leaf("x", r(3, 4), True), leaf("i", np.array([[0, 4]] * 3)),
                                                       op("g", "gather", ["x", "i"], dim=1)]), BAD
    yield "gather negative index", lambda: summed([leaf("x", r(3, 4), True), leaf("i", np.array([[0, -1]] * 3)),
                                                   op("g", "gather", ["x", "i"], dim=1)]), BAD
    yield "gather index rank mismatch", lambda: summed([leaf("x", r(3, 4), True), leaf("i", np.array([0, 1])),
                                                        op("g", "gather", ["x", "i"], dim=1)]), BAD
    yield "gather index larger on other dim", lambda: summed([leaf("x", r(3, 4), True), leaf("i", np.zeros((5, 2), np.int64)),
                                                              op("g", "gather", ["x", "i"], dim=1)]), BAD
    yield "gather dim out of range", lambda: summed([leaf("x", r(3, 4), True), leaf("i", np.zeros((3, 2), np.int64)),
                                                     op("g", "gather", ["x", "i"], dim=5)]), BAD
    yield "gather float index", lambda: summed([leaf("x", r(3, 4), True), leaf("i", np.zeros((3, 2))),
                                                op("g", "gather", ["x", "i"], dim=1)]), BAD
    yield "index out of range", lambda: summed([leaf("x", r(5, 3), True), leaf("i", np.array([0, 5])),
                                                op("g", "index", ["x", "i"])]), BAD
    yield "index negative ok (wraps)", lambda: summed([leaf("x", r(5, 3), True), leaf("i", np.array([0, -5])),
                                                       op("g", "index", ["x", "i"])]), OK | BAD
    yield "index negative out of range", lambda: summed([leaf("x", r(5, 3), True), leaf("i", np.array([0, -6])),
                                                         op("g", "index", ["x", "i"])]), BAD
    yield "index bool mask", lambda: summed([leaf("x", r(5, 3), True), leaf("i", np.array([True, False, True, False, True])),
                                             op("g", "index", ["x", "i"])]), BAD | OK
    yield "index on 0-D input", lambda: summed([leaf("x", 1.0, True), leaf("i", np.array([0])),
                                                op("g", "index", ["x", "i"])]), BAD
    yield "index huge index tensor", lambda: summed([leaf("x", r(5, 3), True), declared("i", [5_000_000], pb.DTYPE_INT64, False),
                                                     op("g", "index", ["x", "i"])]), BAD_OR_LIMIT
    yield "index_select out of range", lambda: summed([leaf("x", r(5, 3), True), leaf("i", np.array([3])),
                                                       op("g", "index_select", ["x", "i"], dim=1)]), BAD
    yield "index_select 2-D index", lambda: summed([leaf("x", r(5, 3), True), leaf("i", np.array([[0, 1]])),
                                                    op("g", "index_select", ["x", "i"], dim=0)]), BAD
    yield "scatter_add index out of range", lambda: summed([leaf("x", r(3, 4), True), leaf("i", np.full((3, 2), 9)),
                                                            leaf("s", r(3, 2), True), op("g", "scatter_add", ["x", "i", "s"], dim=1)]), BAD
    yield "scatter_add src smaller than index", lambda: summed([leaf("x", r(3, 4), True), leaf("i", np.zeros((3, 2), np.int64)),
                                                                leaf("s", r(3, 1), True), op("g", "scatter_add", ["x", "i", "s"], dim=1)]), BAD
    yield "cross_entropy target out of range", lambda: request([leaf("x", r(4, 5), True), leaf("t", np.array([0, 1, 2, 5])),
                                                                op("l", "cross_entropy", ["x", "t"])]), BAD
    yield "cross_entropy ignore_index target", lambda: request([leaf("x", r(4, 5), True), leaf("t", np.array([0, 1, 2, -100])),
                                                                op("l", "cross_entropy", ["x", "t"])]), OK | BAD
    yield "cross_entropy all ignored", lambda: request([leaf("x", r(2, 5), True), leaf("t", np.array([-100, -100])),
                                                        op("l", "cross_entropy", ["x", "t"])]), OK | BAD
    yield "nll_loss float target", lambda: request([leaf("x", r(4, 5), True), leaf("t", np.array([0.0, 1, 2, 3])),
                                                    op("l", "nll_loss", ["x", "t"])]), BAD
    yield "nll_loss target shape", lambda: request([leaf("x", r(4, 5), True), leaf("t", np.array([0, 1, 2])),
                                                    op("l", "nll_loss", ["x", "t"])]), BAD
    yield "select index out of range", lambda: summed([leaf("x", r(3, 4), True), op("s", "select", ["x"], dim=0, index=3)]), BAD
    yield "slice step 0", lambda: summed([leaf("x", r(3, 4), True), op("s", "slice", ["x"], dim=0, start=0, stop=2, step=0)]), BAD
    yield "slice step negative", lambda: summed([leaf("x", r(3, 4), True), op("s", "slice", ["x"], dim=0, step=-1)]), BAD
    yield "slice empty", lambda: summed([leaf("x", r(3, 4), True), op("s", "slice", ["x"], dim=0, start=2, stop=1)]), OK | BAD
    yield "max_dim dim out of range", lambda: summed([leaf("x", r(3, 4), True), op("m", "max_dim", ["x"], dim=2)]), BAD
    yield "max_dim on empty dim", lambda: summed([leaf("x", np.zeros((3, 0)), True), op("m", "max_dim", ["x"], dim=1)]), BAD
    yield "amax on empty", lambda: summed([leaf("x", np.zeros((0,)), True), op("m", "amax", ["x"], dim=None)]), BAD
    yield "max_all on empty", lambda: request([leaf("x", np.zeros((0,)), True), op("m", "max_all", ["x"])]), BAD
    yield "amax repeated dim", lambda: summed([leaf("x", r(3, 4), True), op("m", "amax", ["x"], dim=(1, 1))]), BAD
    yield "cumsum dim out of range", lambda: summed([leaf("x", r(3, 4), True), op("m", "cumsum", ["x"], dim=-3)]), BAD


def mask_cases() -> Iterator[Case]:
    yield "dropout float mask ok", lambda: summed([leaf("x", r(3, 4), True), leaf("m", (RNG.random((3, 4)) > 0.5) * 2.0),
                                                   op("d", "dropout", ["x", "m"])]), OK
    yield "dropout bool mask", lambda: summed([leaf("x", r(3, 4), True), leaf("m", RNG.random((3, 4)) > 0.5),
                                               op("d", "dropout", ["x", "m"])]), BAD | OK
    yield "dropout int mask", lambda: summed([leaf("x", r(3, 4), True), leaf("m", np.ones((3, 4), np.int64)),
                                              op("d", "dropout", ["x", "m"])]), BAD | OK
    yield "dropout mask wrong shape", lambda: summed([leaf("x", r(3, 4), True), leaf("m", np.ones((4, 3))),
                                                      op("d", "dropout", ["x", "m"])]), BAD
    yield "dropout mask broadcast", lambda: summed([leaf("x", r(3, 4), True), leaf("m", np.ones((1, 4))),
                                                    op("d", "dropout", ["x", "m"])]), BAD | OK
    yield "dropout mask requires grad", lambda: summed([leaf("x", r(3, 4), True), leaf("m", np.ones((3, 4)), True),
                                                        op("d", "dropout", ["x", "m"])]), BAD | OK
    yield "dropout mask nan", lambda: summed([leaf("x", r(3, 4), True), leaf("m", np.full((3, 4), np.nan)),
                                              op("d", "dropout", ["x", "m"])]), BAD | OK
    yield "dropout mask computed", lambda: summed([leaf("x", r(3, 4), True), op("m", "exp", ["x"]),
                                                   op("d", "dropout", ["x", "m"])]), BAD | OK
    yield "masked_fill float mask", lambda: summed([leaf("x", r(3, 4), True), leaf("m", np.ones((3, 4))),
                                                    op("d", "masked_fill", ["x", "m"], value=0.0)]), BAD
    yield "masked_fill int mask", lambda: summed([leaf("x", r(3, 4), True), leaf("m", np.ones((3, 4), np.int64)),
                                                  op("d", "masked_fill", ["x", "m"], value=0.0)]), BAD
    yield "masked_fill mask not broadcastable", lambda: summed([leaf("x", r(3, 4), True), leaf("m", np.ones((3, 3), bool)),
                                                                op("d", "masked_fill", ["x", "m"], value=0.0)]), BAD
    yield "masked_fill mask larger (broadcasts input)", lambda: summed([leaf("x", r(1, 4), True), leaf("m", np.ones((3, 4), bool)),
                                                                        op("d", "masked_fill", ["x", "m"], value=0.0)]), BAD | OK
    yield "masked_fill value string", lambda: summed([leaf("x", r(3, 4), True), leaf("m", np.ones((3, 4), bool)),
                                                      op("d", "masked_fill", ["x", "m"], value="-inf")]), BAD
    yield "masked_fill value -inf then softmax all masked", lambda: summed([
        leaf("x", r(3, 4), True), leaf("m", np.ones((3, 4), bool)),
        op("d", "masked_fill", ["x", "m"], value=float("-inf")), op("s", "softmax", ["d"], dim=-1)]), OK
    yield "where float condition", lambda: summed([leaf("c", np.ones((3,))), leaf("a", r(3), True), leaf("b", r(3), True),
                                                   op("w", "where", ["c", "a", "b"])]), BAD
    yield "where condition from comparison-less op", lambda: summed([leaf("a", r(3), True), op("c", "relu", ["a"]),
                                                                     op("w", "where", ["c", "a", "a"])]), BAD
    yield "to_dtype int64", lambda: summed([leaf("x", r(3), True), op("t", "to_dtype", ["x"], dtype="int64")]), BAD
    yield "to_dtype float16", lambda: summed([leaf("x", r(3), True), op("t", "to_dtype", ["x"], dtype="float16")]), BAD
    yield "to_dtype bogus", lambda: summed([leaf("x", r(3), True), op("t", "to_dtype", ["x"], dtype="torch.float32")]), BAD
    yield "to_dtype int attr", lambda: summed([leaf("x", r(3), True), op("t", "to_dtype", ["x"], dtype=3)]), BAD
    yield "to_dtype of int leaf", lambda: summed([leaf("x", np.arange(3)), op("t", "to_dtype", ["x"], dtype="float64")]), OK | BAD
    yield "to_dtype of bool leaf", lambda: summed([leaf("x", np.ones(3, bool)), op("t", "to_dtype", ["x"], dtype="float32")]), OK | BAD
    yield "to_dtype float32 of 1e300", lambda: summed([leaf("x", np.full(3, 1e300), True),
                                                       op("t", "to_dtype", ["x"], dtype="float32")]), OK
    yield "to_dtype float32 of 1e-300", lambda: summed([leaf("x", np.full(3, 1e-300), True),
                                                        op("t", "to_dtype", ["x"], dtype="float32")]), OK


def graph_cases() -> Iterator[Case]:
    base = [leaf("x", r(3), True), op("y", "tanh", ["x"]), op("loss", "sum", ["y"])]
    yield "duplicate node ids", lambda: request([leaf("x", r(3), True), op("x", "tanh", ["x"]), op("loss", "sum", ["x"])], "loss"), BAD
    yield "duplicate leaf ids", lambda: request([leaf("x", r(3), True), leaf("x", r(3), True), op("loss", "sum", ["x"])], "loss"), BAD
    yield "self cycle", lambda: request([leaf("x", r(3), True), op("y", "add", ["x", "y"]), op("loss", "sum", ["y"])], "loss"), BAD
    yield "two-node cycle", lambda: request([leaf("x", r(3), True), op("y", "add", ["x", "z"]), op("z", "tanh", ["y"]),
                                             op("loss", "sum", ["z"])], "loss"), BAD
    yield "forward reference", lambda: request([leaf("x", r(3), True), op("loss", "sum", ["y"]), op("y", "tanh", ["x"])], "loss"), BAD | OK
    yield "root missing", lambda: request(base, "nope"), BAD
    yield "root is a leaf", lambda: request(base, "x", seed=np.ones(3)), OK | BAD
    yield "empty graph", lambda: pb.CheckRequest(), BAD
    yield "empty name", lambda: request([leaf("", r(3), True), op("loss", "sum", [""])], "loss"), BAD
    yield "unicode names", lambda: request([leaf("x\u200b\u0301", r(3), True), op("\U0001f600y", "tanh", ["x\u200b\u0301"]),
                                            op("\u202eloss", "sum", ["\U0001f600y"])], "\u202eloss"), OK | BAD
    yield "lone surrogate bytes name", lambda: b"\x0a\x0b\x0a\x09\x0a\x03\xed\xa0\x80\x12\x02\x0a\x00", BAD
    yield "NUL in name", lambda: request([leaf("x\x00y", r(3), True), op("loss", "sum", ["x\x00y"])], "loss"), OK | BAD
    yield "name 10k chars", lambda: request([leaf("x" * 10000, r(3), True), op("loss", "sum", ["x" * 10000])], "loss"), OK | BAD
    yield "deep chain 4999", lambda: request([leaf("x", r(3), True)] + [op(f"n{i}", "tanh", [f"n{i - 1}" if i else "x"]) for i in range(4999)]
                                             + [op("loss", "sum", ["n4998"])], "loss", tier=pb.TIER_OFF), OK | LIMIT
    yield "deep chain 6000", lambda: request([leaf("x", r(3), True)] + [op(f"n{i}", "tanh", [f"n{i - 1}" if i else "x"]) for i in range(6000)]
                                             + [op("loss", "sum", ["n5999"])], "loss"), LIMIT | BAD
    yield "wide fan 9000 adds", lambda: request([leaf("x", r(3), True)] + [op(f"n{i}", "add", [f"n{i - 1}" if i else "x", "x"]) for i in range(9000)]
                                                + [op("loss", "sum", ["n8999"])], "loss"), OK | LIMIT
    yield "deep symbolic exact chain 300", lambda: request([leaf("x", r(2), True)] + [op(f"n{i}", "sin", [f"n{i - 1}" if i else "x"]) for i in range(300)]
                                                           + [op("loss", "sum", ["n299"])], "loss", tier=pb.TIER_EXACT), OK | LIMIT
    yield "binary tree depth 40 (shared)", lambda: request([leaf("x", r(2), True)] + [op(f"n{i}", "mul", [f"n{i - 1}" if i else "x"] * 2) for i in range(40)]
                                                           + [op("loss", "sum", ["n39"])], "loss"), OK | LIMIT
    yield "too many inputs", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x", "x"])]), BAD
    yield "too few inputs", lambda: summed([leaf("x", r(3), True), op("y", "add", ["x"])]), BAD
    yield "unknown attr", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"], bogus=1)]), BAD
    yield "data length mismatch", lambda: summed([pb.Node(name="x", leaf=pb.Leaf(value=pb.Tensor(shape=[3], dtype=pb.DTYPE_FLOAT64,
                                                                                                data=[1.0, 2.0]), requires_grad=True))]), BAD
    yield "int data on float leaf", lambda: summed([pb.Node(name="x", leaf=pb.Leaf(value=pb.Tensor(shape=[2], dtype=pb.DTYPE_FLOAT64,
                                                                                                   int_data=[1, 2]), requires_grad=True))]), BAD
    yield "dtype unspecified", lambda: summed([pb.Node(name="x", leaf=pb.Leaf(value=pb.Tensor(shape=[2], data=[1.0, 2.0]),
                                                                              requires_grad=True))]), BAD | OK
    yield "dtype 77", lambda: summed([pb.Node(name="x", leaf=pb.Leaf(value=pb.Tensor(shape=[2], dtype=77, data=[1.0, 2.0]),
                                                                     requires_grad=True))]), BAD
    yield "bool data 2", lambda: summed([pb.Node(name="m", leaf=pb.Leaf(value=pb.Tensor(shape=[2], dtype=pb.DTYPE_BOOL, int_data=[2, 0]))),
                                         leaf("x", r(2), True), op("y", "masked_fill", ["x", "m"], value=0.0)]), BAD | OK
    yield "float32 overflow data", lambda: summed([pb.Node(name="x", leaf=pb.Leaf(value=pb.Tensor(shape=[2], dtype=pb.DTYPE_FLOAT32,
                                                                                                  data=[1e300, 1.0]), requires_grad=True))]), BAD | OK
    yield "gradient seed wrong shape", lambda: request([leaf("x", r(3), True), op("y", "tanh", ["x"])], "y", seed=np.ones(4)), BAD
    yield "gradient seed NaN", lambda: request([leaf("x", r(3), True), op("y", "tanh", ["x"])], "y", seed=np.full(3, np.nan)), OK | BAD
    yield "claimed unknown leaf", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"])],
                                                 claimed={"zz": wire.tensor_out(np.ones(3))}), BAD
    yield "claimed wrong shape", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"])],
                                                claimed={"x": wire.tensor_out(np.ones(4))}), OK  # deliberate: a mismatch naming the shape
    yield "claimed int dtype", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"])],
                                              claimed={"x": wire.tensor_out(np.ones(3, np.int64))}), BAD | OK
    yield "claimed NaN", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"])],
                                        claimed={"x": wire.tensor_out(np.full(3, np.nan))}), OK
    yield "tolerance negative", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"])],
                                               tolerance=pb.Tolerance(rtol=-1.0, atol=1e-6)), BAD
    yield "tolerance nan", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"])],
                                          tolerance=pb.Tolerance(rtol=float("nan"), atol=1e-6)), BAD
    yield "tolerance inf", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"])],
                                          tolerance=pb.Tolerance(rtol=float("inf"), atol=1e-6)), BAD | OK
    yield "witness 99", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"])], witnesses=[99]), BAD
    yield "witness claimed without claimed", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"])],
                                                            witnesses=[pb.WITNESS_CLAIMED]), BAD | OK
    yield "order 3", lambda: summed([leaf("x", r(3), True), op("y", "tanh", ["x"])], order=3), BAD
    yield "no leaf requires grad", lambda: summed([leaf("x", r(3)), op("y", "tanh", ["x"])]), BAD | OK
    yield "rank 9", lambda: summed([leaf("x", np.ones((1,) * 9), True)]), LIMIT | BAD
    yield "negative dim", lambda: summed([pb.Node(name="x", leaf=pb.Leaf(value=pb.Tensor(shape=[-1], dtype=pb.DTYPE_FLOAT64),
                                                                         requires_grad=True))]), BAD
    yield "reshape -1 twice", lambda: summed([leaf("x", r(6), True), op("y", "reshape", ["x"], shape=(-1, -1))]), BAD
    yield "reshape 0 with -1", lambda: summed([leaf("x", r(6), True), op("y", "reshape", ["x"], shape=(0, -1))]), BAD
    yield "expand huge", lambda: summed([leaf("x", r(1), True), op("y", "expand", ["x"], size=(10**9,))]), LIMIT
    yield "repeat huge", lambda: summed([leaf("x", r(2), True), op("y", "repeat", ["x"], repeats=(10**9,))]), LIMIT
    yield "repeat overflow", lambda: summed([leaf("x", r(2), True), op("y", "repeat", ["x"], repeats=(2**62, 2**62))]), LIMIT | BAD
    yield "matmul huge broadcast", lambda: summed([declared("a", [1000, 1, 2000, 1], fill=False),
                                                   declared("b", [1, 1000, 1, 2000], fill=False), op("c", "matmul", ["a", "b"])]), LIMIT | BAD
    yield "program 2000 steps", lambda: pb.CheckRequest(graph=pb.Graph(nodes=base), root="loss",
                                                        program=[pb.Step(kind=pb.STEP_KIND_BACKWARD, retain_graph=True)] * 2000), LIMIT
    yield "program sgd lr nan", lambda: pb.CheckRequest(graph=pb.Graph(nodes=base), root="loss",
                                                        program=[pb.Step(kind=pb.STEP_KIND_BACKWARD),
                                                                 pb.Step(kind=pb.STEP_KIND_SGD_STEP, lr=float("nan"))]), OK | BAD
    yield "garbage bytes", lambda: b"\xff\xff\xff\xff", BAD


def order2_cases() -> Iterator[Case]:
    def o2(nodes: list[pb.Node]) -> pb.CheckRequest:
        return summed(nodes, order=2)

    yield "order 2 max_pool2d", lambda: o2([leaf("x", r(1, 1, 4, 4), True), op("p", "max_pool2d", ["x"], kernel_size=(2, 2)),
                                            op("q", "square", ["p"])]), OK | BAD
    yield "order 2 prod long row", lambda: o2([leaf("x", RNG.uniform(0.9, 1.1, 64), True), op("p", "prod", ["x"], dim=0)]), OK | BAD
    yield "order 2 embedding", lambda: o2([leaf("i", np.array([0, 2])), leaf("w", r(3, 2), True), op("e", "embedding", ["i", "w"]),
                                           op("q", "square", ["e"])]), OK | BAD
    yield "order 2 dropout", lambda: o2([leaf("x", r(3, 4), True), leaf("m", (RNG.random((3, 4)) > 0.5) * 2.0),
                                         op("d", "dropout", ["x", "m"]), op("q", "tanh", ["d"])]), OK | BAD
    yield "order 2 to_dtype float32", lambda: o2([leaf("x", r(3), True), op("t", "to_dtype", ["x"], dtype="float32"),
                                                  op("q", "tanh", ["t"])]), OK | BAD
    yield "order 2 batch_norm", lambda: o2([leaf("x", r(4, 3), True), op("n", "batch_norm", ["x"], training=True),
                                            op("q", "tanh", ["n"])]), OK | BAD
    yield "order 2 conv_transpose2d", lambda: o2([leaf("x", r(1, 1, 3, 3), True), leaf("w", r(1, 1, 2, 2), True),
                                                  op("c", "conv_transpose2d", ["x", "w"]), op("q", "tanh", ["c"])]), OK | BAD
    yield "order 2 interpolate bilinear", lambda: o2([leaf("x", r(1, 1, 3, 3), True), op("c", "interpolate", ["x"], size=(4, 4),
                                                                                        mode="bilinear"), op("q", "tanh", ["c"])]), OK | BAD
    yield "order 2 masked -inf softmax", lambda: o2([leaf("x", r(3, 4), True), leaf("m", np.triu(np.ones((3, 4), bool), 1)),
                                                     op("d", "masked_fill", ["x", "m"], value=float("-inf")),
                                                     op("s", "softmax", ["d"], dim=-1), op("q", "square", ["s"])]), OK
    yield "order 2 amax ties", lambda: o2([leaf("x", np.array([[1.0, 1.0, 0.5]]), True), op("a", "amax", ["x"], dim=(1,)),
                                           op("q", "square", ["a"])]), OK
    yield "order 2 no grad leaf", lambda: o2([leaf("x", r(3)), op("q", "square", ["x"])]), OK | BAD
    yield "order 2 program", lambda: pb.CheckRequest(graph=pb.Graph(nodes=[leaf("x", r(3), True), op("q", "square", ["x"]),
                                                                           op("l", "sum", ["q"])]), root="l", order=2,
                                                     program=[pb.Step(kind=pb.STEP_KIND_BACKWARD)]), OK | BAD


GROUPS = {"conv": conv_cases, "pool": pool_cases, "norm": norm_cases, "index": index_cases, "mask": mask_cases,
          "graph": graph_cases, "order2": order2_cases}


