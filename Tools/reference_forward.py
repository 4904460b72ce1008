#!/usr/bin/env python3
"""Independent NumPy reference for the attention-only transformer, and the golden-file generator.

Regenerate the golden file (from the package root; needs only Python 3 and NumPy):

    python3 Tools/reference_forward.py            # writes Tests/CircuitGraderTests/Fixtures/golden/forward_golden.json
    python3 Tools/reference_forward.py --check    # exits 1 if the file on disk differs from a fresh run

The output is deterministic: every case draws its weights and tokens from np.random.default_rng(seed),
and Python writes each float64 with repr (the shortest text that reads back to the same double).

This file is written from the math in grading.md ("The model"), not from the Swift code, so
that the Swift tests compare two implementations. Conventions (TransformerLens, row vectors, x @ W):

    x[t]     = W_E[tok_t] + W_pos[t]        (W_pos only for learned / sinusoidal positions)
    shortformer: W_pos[t] is added to the inputs of Q and K in every layer, never to the residual stream
    per layer, per head h:
        q = x_qk W_Q[h] + b_Q[h],  k = x_qk W_K[h] + b_K[h],  v = x W_V[h] + b_V[h]
        scores  = q k^T * attn_scale, entries with key j > query i set to -inf when causal
        pattern = softmax over keys (last axis)
        x      += sum_h (pattern v) W_O[h]  ... then + b_O once per layer
    logits = x W_U + b_U                    (W_U may have more or fewer columns than W_E has rows)

Shapes (B = batch, T = positions, H = heads in a layer, M = d_model, D = d_head, V = d_vocab, O = outputs):
    W_E [V, M]   W_pos [n_ctx, M]   W_Q, W_K, W_V [H, M, D]   W_O [H, D, M]
    b_Q, b_K, b_V [H, D]   b_O [M]   W_U [M, O]   b_U [O]

Two implementations live here: `forward` (batched einsum, the one the golden file stores) and
`forward_loops` (one query position at a time, plain dot products); the generator refuses to write
the file unless they agree within max(1e-12, 1e-10 |expected|).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent.parent / "Tests/CircuitGraderTests/Fixtures/golden/forward_golden.json"

POSITIONAL_MODES = ("none", "learned", "sinusoidal", "shortformer")


@dataclass
class Layer:
    W_Q: np.ndarray  # [H, M, D]
    W_K: np.ndarray  # [H, M, D]
    W_V: np.ndarray  # [H, M, D]
    W_O: np.ndarray  # [H, D, M]
    b_Q: np.ndarray  # [H, D]
    b_K: np.ndarray  # [H, D]
    b_V: np.ndarray  # [H, D]
    b_O: np.ndarray  # [M]


@dataclass
class Model:
    W_E: np.ndarray  # [V, M]
    W_pos: np.ndarray | None  # [n_ctx, M]
    W_U: np.ndarray  # [M, O]
    b_U: np.ndarray  # [O]
    layers: list[Layer]
    positional: str
    causal: bool
    attn_scale: float


def forward(model: Model, tokens: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Batched forward pass. tokens [B, T] -> logits [B, T, O], patterns[layer] [B, H, T, T]."""
    tokens = np.asarray(tokens, dtype=np.int64)
    _, T = tokens.shape
    x = model.W_E[tokens]                                                   # [B, T, M]
    pos = np.zeros((T, x.shape[-1]))                                        # [T, M]
    if model.positional != "none":
        assert model.W_pos is not None and T <= model.W_pos.shape[0]
        pos = model.W_pos[:T]
    if model.positional in ("learned", "sinusoidal"):
        x = x + pos[None]                                                   # [B, T, M]
    qk_extra = pos[None] if model.positional == "shortformer" else 0.0      # [1, T, M]
    future = np.triu(np.ones((T, T), dtype=bool), k=1)                      # [T, T], True where key > query
    patterns = []
    for layer in model.layers:
        x_qk = x + qk_extra                                                 # [B, T, M]
        q = np.einsum("btm,hmd->bhtd", x_qk, layer.W_Q) + layer.b_Q[None, :, None, :]  # [B, H, T, D]
        k = np.einsum("btm,hmd->bhtd", x_qk, layer.W_K) + layer.b_K[None, :, None, :]  # [B, H, T, D]
        v = np.einsum("btm,hmd->bhtd", x, layer.W_V) + layer.b_V[None, :, None, :]     # [B, H, T, D]
        scores = np.einsum("bhid,bhjd->bhij", q, k) * model.attn_scale     # [B, H, T, T]
        if model.causal:
            scores = np.where(future, -np.inf, scores)                      # [B, H, T, T]
        shifted = scores - scores.max(axis=-1, keepdims=True)              # [B, H, T, T], max is finite
        weights = np.exp(shifted)                                           # exp(-inf) = 0 exactly
        pattern = weights / weights.sum(axis=-1, keepdims=True)            # [B, H, T, T]
        z = np.einsum("bhij,bhjd->bhid", pattern, v)                        # [B, H, T, D]
        out = np.einsum("bhtd,hdm->bhtm", z, layer.W_O)                     # [B, H, T, M]
        x = x + out.sum(axis=1) + layer.b_O                                 # [B, T, M]
        patterns.append(pattern)
    logits = x @ model.W_U + model.b_U                                      # [B, T, O]
    return logits, patterns


def forward_loops(model: Model, tokens: list[int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The same model, one sequence, one query at a time (a cross-check of `forward`)."""
    T = len(tokens)
    M = model.W_E.shape[1]
    resid = [model.W_E[tok].copy() for tok in tokens]                       # T x [M]
    pos = [np.zeros(M) if model.positional == "none" else model.W_pos[t] for t in range(T)]
    if model.positional in ("learned", "sinusoidal"):
        resid = [resid[t] + pos[t] for t in range(T)]
    patterns = []
    for layer in model.layers:
        n_heads = layer.W_Q.shape[0]
        layer_pattern = np.zeros((n_heads, T, T))
        new = [r.copy() for r in resid]
        for h in range(n_heads):
            qk_in = [resid[t] + (pos[t] if model.positional == "shortformer" else 0.0) for t in range(T)]
            q = [qk_in[t] @ layer.W_Q[h] + layer.b_Q[h] for t in range(T)]
            k = [qk_in[t] @ layer.W_K[h] + layer.b_K[h] for t in range(T)]
            v = [resid[t] @ layer.W_V[h] + layer.b_V[h] for t in range(T)]
            for i in range(T):
                keys = range(i + 1) if model.causal else range(T)
                s = {j: float(q[i] @ k[j]) * model.attn_scale for j in keys}
                top = max(s.values())
                e = {j: math.exp(s[j] - top) for j in keys}
                total = sum(e.values())
                z = sum((e[j] / total) * v[j] for j in keys)
                for j in keys:
                    layer_pattern[h, i, j] = e[j] / total
                new[i] = new[i] + z @ layer.W_O[h]
        resid = [r + layer.b_O for r in new]
        patterns.append(layer_pattern)
    logits = np.array([r @ model.W_U + model.b_U for r in resid])
    return logits, patterns


def sinusoidal_table(n_ctx: int, d_model: int) -> np.ndarray:
    """cos/sin pairs of falling frequency: W_pos[t, 2i] = cos(t w_i), W_pos[t, 2i+1] = sin(t w_i)."""
    table = np.zeros((n_ctx, d_model))
    for i in range(d_model // 2):
        w = 1.0 / 10000 ** (2 * i / d_model)
        table[:, 2 * i] = np.cos(np.arange(n_ctx) * w)
        table[:, 2 * i + 1] = np.sin(np.arange(n_ctx) * w)
    return table


# name, seed, d_vocab, d_model, n_outputs, n_ctx, positional, causal, attn_scale ("1" or "1/sqrt(d_head)"),
# layers as [(n_heads, d_head)], biases, weight scale, sequence lengths
CASES = [
    ("1 layer 1 head, no positions, causal, zero biases", 11, 5, 4, 5, 6, "none", True, "1",
     [(1, 4)], False, 1.0, [1, 3, 6]),
    ("1 layer 2 heads, learned positions, d_head < d_model, extra none output", 12, 6, 6, 7, 8, "learned", True,
     "1/sqrt(d_head)", [(2, 3)], True, 1.0, [1, 2, 5, 8]),
    ("2 layers 2 heads, shortformer, causal", 13, 5, 5, 6, 7, "shortformer", True, "1/sqrt(d_head)",
     [(2, 2), (2, 2)], True, 1.0, [1, 4, 7]),
    ("2 layers 3 heads, learned positions, not causal, fewer outputs than tokens", 14, 4, 8, 3, 6, "learned",
     False, "1", [(3, 2), (3, 2)], True, 1.0, [1, 2, 6]),
    ("1 layer 3 heads, shortformer, not causal", 15, 7, 6, 8, 5, "shortformer", False, "1/sqrt(d_head)",
     [(3, 4)], True, 1.0, [1, 3, 5]),
    ("3 layers with 1, 3, 2 heads of different d_head, no positions, causal", 16, 6, 7, 7, 8, "none", True, "1",
     [(1, 3), (3, 2), (2, 5)], True, 1.0, [1, 2, 5, 8]),
    ("3 layers 2 heads, d_head > d_model, shortformer, causal", 17, 4, 4, 3, 6, "shortformer", True,
     "1/sqrt(d_head)", [(2, 6), (2, 6), (2, 6)], True, 1.0, [1, 3, 6]),
    ("2 layers with 2 and 1 heads, sinusoidal positions, causal", 18, 5, 6, 6, 8, "sinusoidal", True,
     "1/sqrt(d_head)", [(2, 3), (1, 3)], True, 1.0, [1, 5, 8]),
    ("2 layers 2 heads, learned positions, large weights (saturated softmax)", 19, 5, 5, 6, 6, "learned", True,
     "1", [(2, 5), (2, 5)], True, 3.0, [1, 4, 6, 6]),
]


def build_case(spec) -> tuple[dict, Model, list[list[int]]]:
    (name, seed, d_vocab, d_model, n_outputs, n_ctx, positional, causal, scale_rule,
     layer_shapes, biases, weight_scale, lengths) = spec
    assert positional in POSITIONAL_MODES
    rng = np.random.default_rng(seed)
    d_heads = {d for _, d in layer_shapes}
    if scale_rule == "1":
        attn_scale = 1.0
    else:
        assert len(d_heads) == 1, "1/sqrt(d_head) needs one d_head"
        attn_scale = 1.0 / math.sqrt(d_heads.pop())

    def normal(*shape, std=1.0):
        return rng.normal(0.0, std * weight_scale, size=shape)

    W_E = normal(d_vocab, d_model)
    W_pos = None
    if positional in ("learned", "shortformer"):
        W_pos = normal(n_ctx, d_model)
    elif positional == "sinusoidal":
        W_pos = sinusoidal_table(n_ctx, d_model)
    layers = []
    for n_heads, d_head in layer_shapes:
        std = 1.0 / math.sqrt(d_model)
        bias = (lambda *shape: normal(*shape, std=0.5)) if biases else (lambda *shape: np.zeros(shape))
        layers.append(Layer(
            W_Q=normal(n_heads, d_model, d_head, std=std), W_K=normal(n_heads, d_model, d_head, std=std),
            W_V=normal(n_heads, d_model, d_head, std=std), W_O=normal(n_heads, d_head, d_model, std=1.0 / math.sqrt(d_head)),
            b_Q=bias(n_heads, d_head), b_K=bias(n_heads, d_head), b_V=bias(n_heads, d_head), b_O=bias(d_model)))
    W_U = normal(d_model, n_outputs)
    b_U = normal(n_outputs, std=0.5) if biases else np.zeros(n_outputs)
    model = Model(W_E, W_pos, W_U, b_U, layers, positional, causal, attn_scale)
    sequences = [rng.integers(0, d_vocab, size=n).tolist() for n in lengths]
    meta = dict(name=name, seed=seed, d_vocab=d_vocab, d_model=d_model, n_outputs=n_outputs, n_ctx=n_ctx,
                positional=positional, causal=causal, attn_scale=attn_scale)
    return meta, model, sequences


def agree(actual: np.ndarray, expected: np.ndarray) -> bool:
    """The tolerance the Swift tests use: |actual - expected| <= max(1e-12, 1e-10 |expected|) entry-wise."""
    return bool(np.all(np.abs(actual - expected) <= np.maximum(1e-12, 1e-10 * np.abs(expected))))


def case_json(meta: dict, model: Model, sequences: list[list[int]]) -> dict:
    runs = []
    for tokens in sequences:
        logits, patterns = forward(model, np.array([tokens]))
        check_logits, check_patterns = forward_loops(model, tokens)
        assert agree(logits[0], check_logits), meta["name"]
        assert all(agree(p[0], c) for p, c in zip(patterns, check_patterns)), meta["name"]
        runs.append(dict(tokens=tokens, logits=logits[0].tolist(),
                         patterns=[[head.tolist() for head in p[0]] for p in patterns]))
    layers = []
    for layer in model.layers:
        heads = [dict(W_Q=layer.W_Q[h].tolist(), W_K=layer.W_K[h].tolist(), W_V=layer.W_V[h].tolist(),
                      W_O=layer.W_O[h].tolist(), b_Q=layer.b_Q[h].tolist(), b_K=layer.b_K[h].tolist(),
                      b_V=layer.b_V[h].tolist()) for h in range(layer.W_Q.shape[0])]
        layers.append(dict(heads=heads, b_O=layer.b_O.tolist()))
    return dict(**meta, W_E=model.W_E.tolist(), W_pos=None if model.W_pos is None else model.W_pos.tolist(),
                W_U=model.W_U.tolist(), b_U=model.b_U.tolist(), layers=layers, runs=runs)


def golden_text() -> str:
    cases = [case_json(*build_case(spec)) for spec in CASES]
    header = dict(
        description="Golden forward passes of the attention-only transformer (see README.md next to this file).",
        generator="Tools/reference_forward.py",
        numpy=np.__version__,
    )
    # One case per line keeps the file diffable without one number per line.
    lines = ["{"]
    for key, value in header.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value)},")
    lines.append('  "cases": [')
    for i, case in enumerate(cases):
        sep = "," if i + 1 < len(cases) else ""
        lines.append("    " + json.dumps(case, separators=(",", ":"), allow_nan=False) + sep)
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the file on disk instead of writing")
    parser.add_argument("--output", type=Path, default=GOLDEN)
    args = parser.parse_args()
    text = golden_text()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run python3 Tools/reference_forward.py", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(text)} bytes, {len(CASES)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
