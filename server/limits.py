"""The limits a server enforces on every request, before anything is allocated."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from crossgrad.engine.errors import FieldError

from .limits_conv import check_conv_work


class LimitError(FieldError):
    """A request is over a limit; ``path`` names the field (mapped to RESOURCE_EXHAUSTED)."""


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 64 * 1024 * 1024
    max_nodes: int = 10_000
    max_depth: int = 5_000
    max_rank: int = 8
    max_elements_per_tensor: int = 4_000_000
    max_total_elements: int = 8_000_000
    max_intermediate_elements: int = 32_000_000  # all op outputs of a graph together
    exact_budget: int = 4_000_000
    max_program_steps: int = 1_000
    max_element_evaluations: int = 2_000_000_000  # numeric and finite-difference work (engine/cost.py), ~10-40 s
    max_concurrent_requests: int = 16
    max_deadline_seconds: int = 60
    symbolic_workers: int = 2

    def check_count(self, count: int, limit: int, path: str, what: str) -> None:
        if count > limit:
            raise LimitError(path, f"{count} {what} exceed the limit of {limit}")

    def check_shape(self, shape: tuple[int, ...], path: str) -> None:
        """Rank, non-negative dims and element count, computed from the declared shape."""
        if len(shape) > self.max_rank:
            self.check_count(len(shape), self.max_rank, f"{path}.shape", "dimensions")
        if shape and min(shape) < 0:
            from crossgrad.engine.graph import GraphError

            raise GraphError(f"{path}.shape", f"negative dimension in {list(shape)}")
        size, most = 1, self.max_elements_per_tensor
        for d in shape:
            size *= d
            if size > most:
                self.check_count(size, most, f"{path}.shape", "elements")

    def check_exact_budget(self, request: Any) -> None:
        """An explicit tier=exact request over the exact tier's budget is refused up front
        (auto falls back to the tensor tier by itself)."""
        if request.tier != "exact":
            return
        from crossgrad.engine.cost import backward_runs
        from crossgrad.engine.graph import validate
        from crossgrad.engine.symbolic.exact import estimate_work

        work = estimate_work(validate(request.graph, self.max_nodes)) * backward_runs(request.program)
        self.check_count(work, self.exact_budget, "tier", "element evaluations for the exact tier")

    def check_plan(self, plan: Any, request: Any, figures_only: bool = False) -> None:
        """Every op's output shape (from declared shapes: broadcasting, matmul, reshapes) against
        the per-tensor limit, all of them against ``max_intermediate_elements``, and the response's
        size against the message limit, before any array is allocated."""
        total = 0
        for i, (node, shape) in enumerate(zip(plan.graph.nodes, plan.shapes)):
            size = math.prod(shape)
            total += size
            if size > self.max_elements_per_tensor:
                dims = "x".join(map(str, shape))
                raise LimitError(f"graph.nodes[{i}]", f"{node.op} output {dims} = {size:,} elements exceeds "
                                                      f"{self.max_elements_per_tensor:,} (max_elements_per_tensor)")
        self.check_count(total, self.max_intermediate_elements, "graph.nodes", "elements in all op outputs")
        check_conv_work(self, plan)  # im2col-sized buffers (server/limits_conv.py)
        self._check_work(plan, request)
        if not figures_only:
            self._check_response_size(plan, request)

    def _check_work(self, plan: Any, request: Any) -> None:
        """The numeric and finite-difference witnesses' estimated work (every program step's)."""
        from crossgrad.engine.cost import element_evaluations

        tier = "tensor" if request.tier in ("auto", "tensor") else request.tier  # auto: tensor is the dearer
        work = element_evaluations(plan, request.witnesses, tier, request.program, request.order)
        if work > self.max_element_evaluations:
            steps = ", every backward step" if request.program else ""
            raise LimitError("witnesses", f"the check would cost about {work:,} element evaluations (numeric and "
                                          f"finite-difference passes{steps}), over {self.max_element_evaluations:,} "
                                          "(max_element_evaluations); leave finite_difference out of the witnesses, "
                                          "use fewer leaves requiring grad, smaller tensors or fewer program steps")

    def _check_response_size(self, plan: Any, request: Any) -> None:
        """Gradients per witness per leaf (8 bytes an element) and the output, per program step
        (figures alone are small: a few numbers per leaf and pair)."""
        leaf_elements = sum(math.prod(plan.shapes[i]) for i in plan.grad_leaves())
        witnesses = len(request.witnesses) + (1 if request.claimed else 0)
        steps = 1 + len(request.program or ())
        size = 8 * steps * (leaf_elements * witnesses + math.prod(plan.shapes[plan.output]))
        if size > self.max_message_bytes:
            raise LimitError("witnesses", f"the response would carry about {size:,} bytes of gradients, over the "
                                          f"{self.max_message_bytes:,}-byte message limit; ask for figures only "
                                          "(figures_only: verdicts and figures without gradient tensors), fewer "
                                          "witnesses (each sends its gradient of every leaf back), fewer leaves "
                                          "requiring grad, or fewer program steps")

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
