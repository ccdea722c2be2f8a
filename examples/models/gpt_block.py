"""A one-block causal language model written as PyTorch code, run on crossgrad.

    python examples/models/gpt_block.py [--torch]     (--torch: the same script on real PyTorch)

Token and position embeddings, a pre-norm block (layer norm, two-head causal self-attention via
q @ k.transpose(-2, -1) with masked_fill(-inf) and softmax — or scaled_dot_product_attention with
is_causal=True — a GELU MLP, residuals), a final layer norm and an untied head; cross_entropy
over logits.view(-1, V); 10 AdamW steps; then crossgrad.check of the loss, every parameter.
"""

from __future__ import annotations

import argparse
import math
import sys


def build(torch, vocab: int = 16, d_model: int = 8, heads: int = 2, seq: int = 6, sdpa: bool = False):  # noqa: ANN001
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
            self.qkv = nn.Linear(d_model, 3 * d_model)
            self.proj = nn.Linear(d_model, d_model)
            self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))
            self.drop = nn.Dropout(0.1)

        def attention(self, x):  # noqa: ANN001, ANN202
            b, t, c = x.shape
            q, k, v = self.qkv(x).split(d_model, dim=2)
            q, k, v = (z.view(b, t, heads, c // heads).transpose(1, 2) for z in (q, k, v))
            if sdpa:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                scores = q @ k.transpose(-2, -1) / math.sqrt(c // heads)
                causal = torch.tril(torch.ones(t, t)) == 0
                y = F.softmax(scores.masked_fill(causal, float("-inf")), dim=-1) @ v
            return self.proj(y.transpose(1, 2).contiguous().view(b, t, c))

        def forward(self, x):  # noqa: ANN001, ANN202
            x = x + self.drop(self.attention(self.ln1(x)))
            return x + self.drop(self.mlp(self.ln2(x)))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, d_model), nn.Embedding(seq, d_model)
            self.block, self.ln = Block(), nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab, bias=False)

        def forward(self, idx, targets):  # noqa: ANN001, ANN202
            t = idx.shape[1]
            x = self.tok(idx) + self.pos(torch.arange(t))
            logits = self.head(self.ln(self.block(x)))
            return F.cross_entropy(logits.view(-1, vocab), targets.view(-1))

    return GPT()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch", action="store_true", help="run on real PyTorch instead")
    parser.add_argument("--sdpa", action="store_true", help="attention by scaled_dot_product_attention")
    args = parser.parse_args()
    if args.torch:
        import torch
    else:
        import crossgrad as torch  # type: ignore[no-redef]
    torch.manual_seed(0)
    model = build(torch, sdpa=args.sdpa)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    idx = torch.randint(0, 16, (4, 6))
    targets = torch.randint(0, 16, (4, 6))
    for step in range(10):
        optimizer.zero_grad()
        loss = model(idx, targets)
        loss.backward()
        optimizer.step()
        print(f"step {step}: loss {loss.item():.4f}")
    if not args.torch:
        model.eval()  # dropout off: the checked function is deterministic
        report = torch.check(model(idx, targets), names=dict(model.named_parameters()))
        print(report.verdict, f"({len(report.leaves)} parameters checked)")
        sys.exit(0 if report else 1)


if __name__ == "__main__":
    main()
