"""Tutorial script: checking a whole model, reading the report and the HTML view.

    python docs/tutorials/whole_model.py

Builds the GPT block of examples/models/gpt_block.py with crossgrad, trains it 3 AdamW steps,
checks every parameter three ways, then plants a bug in layer norm's hand-written backward rule
and shows how the report localizes it: the leaves that are off, the suspect witness, the faulty op
node (a culprit), and a self-contained HTML page to look at.
"""

from __future__ import annotations

import importlib.util
import pathlib
import tempfile

import crossgrad as torch
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

ROOT = pathlib.Path(__file__).parents[2]
spec = importlib.util.spec_from_file_location("gpt_block", ROOT / "examples" / "models" / "gpt_block.py")
gpt_block = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpt_block)  # type: ignore[union-attr]


def main() -> None:
    torch.manual_seed(0)
    model = gpt_block.build(torch, vocab=8, d_model=4, heads=2, seq=4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    idx, targets = torch.randint(0, 8, (2, 4)), torch.randint(0, 8, (2, 4))
    for _ in range(3):
        optimizer.zero_grad()
        model(idx, targets).backward()
        optimizer.step()
    model.eval()
    names = dict(model.named_parameters())
    report = torch.check(model(idx, targets), names=names)
    print(f"all {len(report.leaves)} parameters: {report.verdict}")
    assert report

    rule = RULES["layer_norm"]  # plant a bug: the input gradient of layer norm off by 10%
    RULES["layer_norm"] = Rule(rule.forward, lambda g, s, n: tuple(
        None if v is None or k else v * 1.1 for k, v in enumerate(rule.vjp(g, s, n))))
    try:
        bad = torch.check(model(idx, targets), names=names)
    finally:
        RULES["layer_norm"] = rule
    print(str(bad)[:2500])
    assert bad.verdict == "mismatch"
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False) as page:
        page.write(bad.to_html())
    print(f"the report as a page: {page.name}")


if __name__ == "__main__":
    main()
