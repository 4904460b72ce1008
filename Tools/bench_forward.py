#!/usr/bin/env python3
"""NumPy reference of circuit-grader's forward pass, timed, for `circuit-grader-bench`.

Usage: bench_forward.py INPUT.json

INPUT.json (written by the bench command):
  {"model": {"W_E": [[...]], "W_pos": [[...]] | null, "positional": "none|learned|sinusoidal|shortformer",
             "causal": true, "attention_scale": 1.0, "W_U": [[...]], "b_U": [...],
             "layers": [{"b_O": [...], "heads": [{"W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V"}]}]},
   "sequences": [[token index, ...], ...],   # BOS already prepended
   "runs": N,
   "batch_size": B,                         # optional: calls of B consecutive sequences, as the grader
                                            # runs one family at a time; default: one call for all
   "emit_logits": true}                     # optional (default true): false prints "logits": [] (timing
                                            # rounds, whose output would only be thrown away)

Runs the forward pass of every sequence N times (within a call, sequences of equal length batched together,
float64, the same math as Sources/Model/ForwardPass.swift) and prints one JSON object:
  {"numpy": version, "runs": N, "seconds": best wall time of one run over all sequences,
   "logits": [[[...] per position] per sequence]}
It checks nothing itself: the Swift side compares the logits before it compares the times.
"""

import json
import sys
import time

import numpy as np


def load(path):
    with open(path) as f:
        doc = json.load(f)
    m = doc["model"]
    model = {
        "W_E": np.array(m["W_E"], dtype=np.float64),
        "W_pos": None if m["W_pos"] is None else np.array(m["W_pos"], dtype=np.float64),
        "positional": m["positional"],
        "causal": bool(m["causal"]),
        "scale": float(m["attention_scale"]),
        "W_U": np.array(m["W_U"], dtype=np.float64),
        "b_U": np.array(m["b_U"], dtype=np.float64),
        "layers": [
            {
                "b_O": np.array(layer["b_O"], dtype=np.float64),
                "heads": [{k: np.array(v, dtype=np.float64) for k, v in head.items()} for head in layer["heads"]],
            }
            for layer in m["layers"]
        ],
    }
    return model, doc["sequences"], int(doc["runs"]), doc.get("batch_size"), doc.get("emit_logits", True)


def group_by_length(sequences, indices):
    """[(indices into sequences, tokens [B, T])] for the sequences at `indices`, one entry per length T;
    built once, outside the timed runs."""
    groups = {}
    for i in indices:
        groups.setdefault(len(sequences[i]), []).append(i)
    return [(idx, np.array([sequences[i] for i in idx], dtype=np.int64).reshape(len(idx), t))
            for t, idx in sorted(groups.items())]


def forward(model, tokens):
    """Logits [B, T, n_outputs] of a batch of equal-length sequences [B, T]."""
    b, t = tokens.shape
    x = model["W_E"][tokens]                                   # [B, T, d_model]
    pos = None
    if model["W_pos"] is not None and model["positional"] != "none":
        pos = model["W_pos"][:t]                               # [T, d_model]
        if model["positional"] in ("learned", "sinusoidal"):
            x = x + pos
            pos = None
    mask = np.triu(np.ones((t, t), dtype=bool), k=1) if model["causal"] else None
    for layer in model["layers"]:
        qk_in = x if pos is None else x + pos                  # [B, T, d_model]
        nxt = x.copy()
        for h in layer["heads"]:
            q = qk_in @ h["W_Q"] + h["b_Q"]                    # [B, T, d_head]
            k = qk_in @ h["W_K"] + h["b_K"]                    # [B, T, d_head]
            v = x @ h["W_V"] + h["b_V"]                        # [B, T, d_value]
            scores = (q @ k.transpose(0, 2, 1)) * model["scale"]   # [B, T, T]
            if mask is not None:
                scores[:, mask] = -np.inf
            scores = scores - scores.max(axis=-1, keepdims=True)
            e = np.exp(scores)
            pattern = e / e.sum(axis=-1, keepdims=True)        # [B, T, T]
            nxt += (pattern @ v) @ h["W_O"]                     # [B, T, d_model]
        x = nxt + layer["b_O"]
    return x @ model["W_U"] + model["b_U"]                     # [B, T, n_outputs]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench_forward.py INPUT.json")
    model, sequences, runs, batch_size, emit_logits = load(sys.argv[1])
    size = int(batch_size) if batch_size else max(1, len(sequences))
    calls = [group_by_length(sequences, range(start, min(start + size, len(sequences))))
             for start in range(0, len(sequences), size)]
    logits = [None] * len(sequences)
    best = float("inf")
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        out = [[forward(model, tokens) for _, tokens in groups] for groups in calls]
        best = min(best, time.perf_counter() - start)
    for groups, results in zip(calls, out):
        for (idx, _), result in zip(groups, results):
            for row, i in enumerate(idx):
                logits[i] = result[row].tolist()
    json.dump({"numpy": np.__version__, "runs": runs, "seconds": best, "logits": logits if emit_logits else []},
              sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
