#!/usr/bin/env python3
"""Writes the same model (the reference solution of current-token/nopos) in every submission format.

Run from the repository root:  python3 Tools/make_format_fixtures.py
Output: Tests/CircuitGraderTests/Fixtures/formats/ (committed; the tests need no Python).

The matrices are built here from the exercise's residual layout, independently of the Swift loaders:
  residual (13 dims): tok:A tok:B tok:C tok:D tok:BOS s0 s1 s2 s3 out:A out:B out:C out:D
  W_Q [13, 2]: every real token writes 8 to head dim 0 ("any"); tok:A also writes 16 to dim 1 ("isA")
  W_K [13, 2]: tok:BOS -> dim 0, tok:A -> dim 1
  W_V [13, 1]: tok:A -> 1;  W_O [1, 13]: -> out:B
Every value is a small integer, exact in float32.
"""
import json, os, struct
import numpy as np

OUT = os.path.join("Tests", "CircuitGraderTests", "Fixtures", "formats")
EXERCISE = "current-token/nopos"
DIMS = ["tok:A", "tok:B", "tok:C", "tok:D", "tok:BOS", "s0", "s1", "s2", "s3", "out:A", "out:B", "out:C", "out:D"]
I = {n: i for i, n in enumerate(DIMS)}

W_Q = np.zeros((13, 2)); W_K = np.zeros((13, 2)); W_V = np.zeros((13, 1)); W_O = np.zeros((1, 13))
for t in "ABCD":
    W_Q[I["tok:" + t], 0] = 8
W_Q[I["tok:A"], 1] = 16
W_K[I["tok:BOS"], 0] = 1
W_K[I["tok:A"], 1] = 1
W_V[I["tok:A"], 0] = 1
W_O[0, I["out:B"]] = 1


def write(name, text):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(text)


def nested(matrices, convention=None):
    doc = {"exercise": EXERCISE}
    if convention:
        doc["convention"] = convention
    doc["layers"] = [{"heads": [{k: v.tolist() for k, v in matrices.items()}]}]
    return json.dumps(doc, indent=1)


def state_dict():
    # TransformerLens shapes: W_Q [n_heads, d_model, d_head], W_O [n_heads, d_head, d_model].
    return {"blocks.0.attn.W_Q": W_Q[None], "blocks.0.attn.W_K": W_K[None],
            "blocks.0.attn.W_V": W_V[None], "blocks.0.attn.W_O": W_O[None],
            "blocks.0.attn.b_O": np.zeros(13), "blocks.0.attn.mask": np.tril(np.ones((12, 12))),
            "blocks.0.attn.IGNORE": np.array(-1e5)}


def safetensors(tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def main():
    os.makedirs(OUT, exist_ok=True)
    factored = {"W_Q": W_Q, "W_K": W_K, "W_V": W_V, "W_O": W_O}
    write("dense.json", nested(factored))
    # Anthropic convention: W_Q, W_K, W_V are [d_head, d_model], W_O is [d_model, d_head].
    write("anthropic.json", nested({"W_Q": W_Q.T, "W_K": W_K.T, "W_V": W_V.T, "W_O": W_O.T}, "anthropic"))
    # Circuits: W_QK = W_Q W_K^T (same matrix in both conventions), W_OV = W_V W_O (transposed in Anthropic's).
    write("circuits.json", nested({"W_QK": W_Q @ W_K.T, "W_OV": W_V @ W_O}))
    write("circuits-anthropic.json", nested({"W_QK": W_Q @ W_K.T, "W_OV": (W_V @ W_O).T}, "anthropic"))
    sd = state_dict()
    doc = {"exercise": EXERCISE}
    doc.update({k: v.tolist() for k, v in sd.items()})
    write("state-dict.json", json.dumps(doc))
    np.savez(os.path.join(OUT, "state.npz"), **sd)
    with open(os.path.join(OUT, "state.safetensors"), "wb") as f:
        f.write(safetensors(sd, {"exercise": EXERCISE}))
    # A folder of labelled CSV files, one matrix each.
    csv = os.path.join(OUT, "csv")
    os.makedirs(csv, exist_ok=True)
    write("csv/exercise.txt", EXERCISE + "\n")
    for name, m, cols in [("W_Q", W_Q, ["any", "isA"]), ("W_K", W_K, ["any", "isA"]), ("W_V", W_V, ["A"])]:
        lines = ["," + ",".join(cols)] + [DIMS[r] + "," + ",".join("%g" % x for x in m[r]) for r in range(13)]
        write("csv/L0H0.%s.csv" % name, "\n".join(lines) + "\n")
    write("csv/L0H0.W_O.csv", "," + ",".join(DIMS) + "\nA," + ",".join("%g" % x for x in W_O[0]) + "\n")
    # A folder of .npy files with state-dict names.
    npy = os.path.join(OUT, "npy")
    os.makedirs(npy, exist_ok=True)
    write("npy/exercise.txt", EXERCISE + "\n")
    for name in ["blocks.0.attn.W_Q", "blocks.0.attn.W_K", "blocks.0.attn.W_V", "blocks.0.attn.W_O"]:
        np.save(os.path.join(npy, name + ".npy"), sd[name])


if __name__ == "__main__":
    main()
