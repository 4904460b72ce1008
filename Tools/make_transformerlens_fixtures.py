#!/usr/bin/env python3
"""Makes the TransformerLens fixtures under Tests/CircuitGraderTests/Fixtures/transformerlens/ (run once, committed).

Files written by real TransformerLens models, the way users save them, so the test suite can grade them without
Python. Run it in an environment with torch, transformer_lens and safetensors, once per generation:

    python Tools/make_transformerlens_fixtures.py 3   # TransformerLens 3.x HookedTransformer
    python Tools/make_transformerlens_fixtures.py 4   # TransformerLens 4.x TransformerBridge.boot_native

For each exercise below the model is built by the very script `circuit-grader init ID --format transformerlens`
writes (its build_model(), set_head() and save(), which pick the generation installed), with the heads of the
reference solution in submissions/reference/, float32 (TransformerLens's default). Its state dict is saved as
np.savez, safetensors save_file, a folder of per-key .npy and json.dump({k: v.tolist()}) (which writes -Infinity
for 3.x's attn.IGNORE); NAME.logits.json holds the logits TransformerLens computes on a few sequences, which the
grader must reproduce. The 4.x bridge divides its scores by sqrt(d_head), so set_head folds the exercise's scale
into q.weight; its files carry n_heads (safetensors metadata, or an entry cfg.n_heads). Also: the init script's
zero-head model as it comes (tl{3,4}-init-...), for every exercise in float32 and float64 under every/,
and with pandas installed the 3.x heads, W_E, W_pos and b_U as pandas CSV folders (DataFrame.to_csv).
"""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "CircuitGraderTests", "Fixtures", "transformerlens")
BIN = os.environ.get("CIRCUIT_GRADER", os.path.join(ROOT, ".build", "debug", "circuit-grader"))
EXERCISES = {
    "current-token/nopos": "submissions/reference/current-token-nopos.json",
    "pointer-arithmetic/sinusoidal": "submissions/reference/pointer-arithmetic-sinusoidal.json",
}


def init_script(exercise, folder):
    """The module `circuit-grader init EXERCISE --format transformerlens` writes, imported."""
    path = os.path.join(folder, exercise.replace("/", "-") + ".py")
    if os.path.exists(path):
        os.remove(path)
    subprocess.run([BIN, "init", exercise, "--format", "transformerlens", "--out", path,
                    "--exercises", os.path.join(ROOT, "exercises")], check=True, stdout=subprocess.DEVNULL)
    spec = importlib.util.spec_from_file_location("template", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path


def axis(parts, residual_rows):
    """Inner (head-side) names of a matrix given sparsely ({row: {column: value}}) or densely (lists)."""
    if parts is None:
        return []
    if isinstance(parts, list):
        width = len(parts[0]) if residual_rows else len(parts)
        return [str(i) for i in range(width)]
    if residual_rows:
        return [c for row in parts.values() for c in row]
    return list(parts.keys())


def dense(parts, rows, columns):
    m = np.zeros((len(rows), len(columns)))
    if parts is None:
        return m
    if isinstance(parts, list):
        return np.array(parts, dtype=float)
    for r, row in parts.items():
        for c, v in row.items():
            m[rows.index(r), columns.index(c)] = v
    return m


def unique(names):
    seen = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return seen


def reference_heads(path, residual):
    """[[(W_Q, W_K, W_V, W_O)] per layer] as numpy arrays, head dims named as the grader names them."""
    ref = json.load(open(os.path.join(ROOT, path)))
    layers = []
    for layer in ref["layers"]:
        heads = []
        for h in layer["heads"]:
            qk = unique(axis(h.get("W_Q"), True) + axis(h.get("W_K"), True))
            ov = unique(axis(h.get("W_V"), True) + axis(h.get("W_O"), False))
            heads.append((dense(h.get("W_Q"), residual, qk), dense(h.get("W_K"), residual, qk),
                          dense(h.get("W_V"), residual, ov), dense(h.get("W_O"), ov, residual)))
        layers.append(heads)
    return layers


def state(model):
    return {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}


SEQUENCES = {
    "current-token/nopos": [[4, 0], [4, 0, 2, 0, 1], [4, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 2]],
    "pointer-arithmetic/sinusoidal": [[4, 0, 1, 2, 0, 3], [4, 3, 3, 1, 2, 3, 0, 1], [4] + [0, 1, 2, 3] * 3 + [0, 1, 2]],
}


def save_logits(model, exercise, stem):
    """The logits TransformerLens itself computes on SEQUENCES (token ids, BOS first), for the tests to match."""
    rows = []
    with torch.no_grad():
        for tokens in SEQUENCES[exercise]:
            out = model(torch.tensor([tokens]))
            logits = out if isinstance(out, torch.Tensor) else out.logits
            rows.append({"tokens": tokens, "logits": logits[0].double().tolist()})
    with open(stem + ".logits.json", "w") as f:
        json.dump({"exercise": exercise, "cases": rows}, f)
    return [stem + ".logits.json"]


def save_all(sd, stem, metadata, extra):
    from safetensors.torch import save_file

    save_file(sd, stem + ".safetensors", metadata=metadata)
    np.savez(stem + ".npz", **{k: v.numpy() for k, v in sd.items()}, **extra)
    return [stem + ".safetensors", stem + ".npz"]


def hooked(exercise, reference, module):
    model = module.build_model()
    for l, heads in enumerate(reference_heads(reference, module.RESIDUAL)):
        for h, (q, k, v, o) in enumerate(heads):
            module.set_head(model, l, h, W_Q=q, W_K=k, W_V=v, W_O=o)
    stem = os.path.join(OUT, "tl3-" + exercise.replace("/", "-"))
    sd = state(model)
    files = save_all(sd, stem, {"exercise": exercise}, {}) + save_text_forms(sd, stem, exercise, {})
    return files + pandas_folder(exercise, model) + save_logits(model, exercise, stem)


def save_text_forms(sd, stem, exercise, extra):
    """A folder of per-key .npy (with exercise.txt) and json.dump({k: v.tolist()}), plus `extra` entries."""
    folder = stem + ".npy"
    os.makedirs(folder, exist_ok=True)
    for key, value in list(sd.items()) + [(k, torch.tensor(v)) for k, v in extra.items()]:
        np.save(os.path.join(folder, key + ".npy"), value.numpy())
    with open(os.path.join(folder, "exercise.txt"), "w") as f:
        f.write(exercise + "\n")
    with open(stem + ".json", "w") as f:
        json.dump({"exercise": exercise, **{k: v.tolist() for k, v in sd.items()}, **extra}, f)
    return [folder, stem + ".json"]


def pandas_folder(exercise, model):
    """The heads and W_E as a folder of pandas CSV (DataFrame.to_csv: position header ',0,1' and index)."""
    try:
        import pandas as pd
    except ImportError:
        return []
    folder = os.path.join(OUT, "pandas-" + exercise.replace("/", "-"))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "exercise.txt"), "w") as f:
        f.write(exercise + "\n")
    for l, block in enumerate(model.blocks):
        for h in range(model.cfg.n_heads):
            for name in ["W_Q", "W_K", "W_V", "W_O"]:
                m = getattr(block.attn, name)[h].detach().numpy()
                pd.DataFrame(m).to_csv(os.path.join(folder, f"L{l}H{h}.{name}.csv"), index=(name != "W_V"))
    pd.DataFrame(model.embed.W_E.detach().numpy()).to_csv(os.path.join(folder, "W_E.csv"))
    if model.pos_embed.W_pos.abs().max() > 0:
        pd.DataFrame(model.pos_embed.W_pos.detach().numpy()).to_csv(os.path.join(folder, "W_pos.csv"))
    pd.Series(model.unembed.b_U.detach().numpy()).to_csv(os.path.join(folder, "b_U.csv"))
    return [folder]


def bridge(exercise, reference, module):
    model = module.build_model()  # the init script builds a TransformerBridge where HookedTransformer is gone
    assert module.is_bridge(model)
    for l, heads in enumerate(reference_heads(reference, module.RESIDUAL)):
        for h, (q, k, v, o) in enumerate(heads):
            module.set_head(model, l, h, W_Q=q, W_K=k, W_V=v, W_O=o)  # folds the scale into q.weight
    n_heads = module.N_HEADS
    stem = os.path.join(OUT, "tl4-" + exercise.replace("/", "-"))
    sd = state(model)
    return (save_all(sd, stem, {"exercise": exercise, "n_heads": str(n_heads)}, {"cfg.n_heads": np.array(n_heads)})
            + save_text_forms(sd, stem, exercise, {"cfg.n_heads": n_heads}) + save_logits(model, exercise, stem))


def every_exercise(scratch, generation):
    """For every exercise, the init script's zero-head model in float32 and float64, saved by its own save()
    (every/ID-f32 for 3.x, every/tl4-ID-f32 for 4.x, which has no shortformer exercises)."""
    listing = subprocess.run([BIN, "list", "--exercises", os.path.join(ROOT, "exercises")], check=True,
                             capture_output=True, text=True).stdout
    folder = os.path.join(OUT, "every")
    os.makedirs(folder, exist_ok=True)
    written = []
    for exercise in [line.split()[0] for line in listing.splitlines() if line.strip()]:
        module, script = init_script(exercise, scratch)
        prefix = "" if generation == "3" else "tl4-"
        for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
            if generation == "4" and module.POSITIONS == "shortformer":
                continue
            model = module.build_model(dtype)
            module.set_heads(model)
            written.append(module.save(model, os.path.join(folder, prefix + exercise.replace("/", "-") + "-" + tag)))
        os.remove(script)
    return written


def main():
    generation = sys.argv[1] if len(sys.argv) > 1 else "3"
    os.makedirs(OUT, exist_ok=True)
    scratch = os.path.join(OUT, "_scripts")
    os.makedirs(scratch, exist_ok=True)
    written = []
    for exercise, reference in EXERCISES.items():
        module, script = init_script(exercise, scratch)
        if generation == "3":
            written += hooked(exercise, reference, module)
            if exercise == "current-token/nopos":
                # The init script as it comes (zero heads), saved by its own save().
                written.append(module.save(module.build_model(), os.path.join(OUT, "tl3-init-current-token-nopos")))
        else:
            written += bridge(exercise, reference, module)
            if exercise == "current-token/nopos":
                written.append(module.save(module.build_model(), os.path.join(OUT, "tl4-init-current-token-nopos")))
        os.remove(script)
    written += every_exercise(scratch, generation)
    os.rmdir(scratch)
    import transformer_lens.utilities  # noqa: F401 (the version is read from the installed package)
    from importlib.metadata import version

    with open(os.path.join(OUT, f"VERSION-tl{generation}.txt"), "w") as f:
        f.write(f"transformer_lens {version('transformer_lens')}, torch {torch.__version__}, numpy {np.__version__}\n")
    for path in written:
        print("wrote", os.path.relpath(path, ROOT))


if __name__ == "__main__":
    main()
