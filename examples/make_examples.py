"""Write the example CheckRequests (proto3 JSON) in this folder. Deterministic.

    python examples/make_examples.py
"""

from __future__ import annotations

from pathlib import Path

import crossgrad as torch
import crossgrad.nn.functional as F
from crossgrad.client import wire
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.program import Step

HERE = Path(__file__).parent


def seed_graph():
    """The tutorial's graph: z = x @ w + b, BCE-with-logits against zeros."""
    torch.manual_seed(1)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(torch.matmul(torch.ones(5), w) + b, torch.zeros(3))
    return to_graph(loss, {id(w): "w", id(b): "b"})[0]


def small_mlp():
    torch.manual_seed(2)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.ReLU(),
                                torch.nn.Linear(8, 3))
    x = torch.rand(4, 4, 4)
    loss = torch.nn.CrossEntropyLoss()(model(x), torch.tensor([0, 2, 1, 2]))
    return to_graph(loss, {id(p): n for n, p in model.named_parameters()})[0]


def kink():
    """relu at exactly 0 and a maximum tie: PyTorch's subgradients vs SymPy's Heaviside(0)."""
    x = torch.tensor([0.0, 1.5, -2.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0.5, 0.5, 3.0], dtype=torch.float64, requires_grad=True)
    loss = (torch.relu(x) + torch.maximum(x, y - 0.5)).sum()
    return to_graph(loss, {id(x): "x", id(y): "y"})[0]


def small_tanh():
    """sum(tanh(x @ w + b) * c), 6 weights: order 2 checks its full 6 x 6 Hessian three ways."""
    torch.manual_seed(3)
    w = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)
    x, c = torch.randn(3, 2, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    loss = (torch.tanh(x @ w + b) * c).sum()
    return to_graph(loss, {id(w): "w", id(b): "b"})[0]


def write(name: str, request: CheckRequest) -> None:
    (HERE / name).write_text(wire.to_json(wire.request_out(request)) + "\n")


def main() -> None:
    write("seed.json", CheckRequest(seed_graph(), formulas=True))
    accumulate = [Step("backward", retain_graph=True), Step("backward")]
    for _ in range(10):
        accumulate += [Step("forward"), Step("backward"), Step("sgd_step", lr=1e-4)]
    write("program.json", CheckRequest(seed_graph(), program=accumulate))
    write("mlp.json", CheckRequest(small_mlp()))
    write("kink.json", CheckRequest(kink()))
    write("hessian.json", CheckRequest(small_tanh(), order=2))
    print("wrote", ", ".join(sorted(p.name for p in HERE.glob("*.json"))))


if __name__ == "__main__":
    main()
