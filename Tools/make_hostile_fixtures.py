#!/usr/bin/env python3
"""Writes Tests/CircuitGraderTests/Fixtures/hostile/<entry point>/<finding>: one input per finding of issue 11.

Each file is the smallest input that reproduces its finding; HostileInputTests asserts the exact error each one
must produce, and Tools/fuzz.sh seeds the campaign with them. Standard library only (no NumPy). Run from the
repository root: python3 Tools/make_hostile_fixtures.py
"""
import json, os, struct, zlib

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "Tests", "CircuitGraderTests", "Fixtures", "hostile")


def write(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npy(shape, values, descr="<f8"):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % d for d in shape) if len(shape) != 1 else "%d," % shape[0])
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack("<%dd" % len(values), *values)


def zip_stored(entries):
    """A zip of stored entries: [(name, data)], as np.savez writes it."""
    out, central = b"", b""
    for name, data in entries:
        n = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        common = struct.pack("<HHHHHIIIHH", 20, 0, 0, 0, 0, crc, len(data), len(data), len(n), 0)
        central += b"PK\x01\x02" + struct.pack("<H", 20) + common + struct.pack("<HHHII", 0, 0, 0, 0, len(out)) + n
        out += b"PK\x03\x04" + common + n + data
    return out + central + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), len(central), len(out), 0)


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, shape, values in tensors:
        raw = struct.pack("<%dd" % len(values), *values)
        header[name] = {"dtype": "F64", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def spec(path, **changes):
    s = json.load(open(os.path.join(ROOT, "exercises", path)))
    for key, value in changes.items():
        s[key] = value
    return json.dumps(s, indent=1)


D_MODEL = 13  # current-token/nopos: tok:A-D, tok:BOS, s0-s3, out:A-D
EXERCISE = "current-token/nopos"

# --- traps -------------------------------------------------------------------------------------------------
write("json", "surrogate-pair-overflow.json", '{"exercise": "%s", "\\uDBFF\\uDBFF": 1}' % EXERCISE)


def nested(depth, width):
    return "[" + nested(depth - 1, width) + ",0" * (width - 1) + "]" if depth else "0"


write("state-dict", "shape-product-overflow.json", '{"blocks.0.attn.W_Q": %s}' % nested(8, 235))
base = "current-token/nopos.json"
write("spec", "residual-range-overflow.json", spec(base, residual=["tok:{vocab}", "tok:BOS", "s{-9223372036854775808..1}", "out:{vocab}"]))
s = json.loads(spec(base))
s["families"][1]["generator"]["variable_tokens"] = []
s["families"][1]["generator"]["plant"] = [{"pattern": "$x"}]
write("spec", "empty-variable-tokens.json", json.dumps(s, indent=1))

# --- hangs and memory --------------------------------------------------------------------------------------
# 1,024 entries whose data all run to the end of the archive, so every one overlaps the next.
payload = npy((1, D_MODEL, 2), [0.0] * (D_MODEL * 2))
entries, local = [], b""
for i in range(1024):
    n = ("arr_%d.npy" % i).encode()
    entries.append((n, len(local)))
    local += b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0, 0, 0, 0, 0, 0, 0, len(n), 0) + n
local += payload
central = b""
for n, offset in entries:
    start = offset + 30 + len(n)
    size = len(local) - start
    crc = zlib.crc32(local[start:]) & 0xFFFFFFFF
    central += b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", 20, 20, 0, 0, 0, 0, crc, size, size, len(n), 0, 0, 0, 0, 0, offset) + n
write("npz", "overlapping-entries.npz",
      local + central + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1024, 1024, len(central), len(local), 0))
write("spec", "residual-names-explode.json", spec(base, residual=["{0..99999}{0..99999}"]))
s = json.loads(spec(base))
s["n_ctx"] = 4096
s["families"][1]["generator"] = {"count": 100000, "length": 4095}
write("spec", "generated-cases-explode.json", json.dumps(s, indent=1))

# --- accepted but must not be ------------------------------------------------------------------------------
big = 1e300
W = {"W_Q": (1, D_MODEL, 1), "W_K": (1, D_MODEL, 1), "W_V": (1, D_MODEL, 1), "W_O": (1, 1, D_MODEL)}


def zeros(shape):
    n = 1
    for d in shape:
        n *= d
    return [0.0] * n


state = [("blocks.0.attn." + k, list(v), zeros(v)) for k, v in W.items()]
write("npz", "bias-beyond-limit.npz", zip_stored(
    [(n + ".npy", npy(s, v)) for n, s, v in state] + [("blocks.0.attn.b_Q.npy", npy((1, 1), [big]))]))
write("safetensors", "bias-beyond-limit.safetensors", safetensors(state + [("blocks.0.attn.b_K", [1, 1], [big])]))
write("safetensors", "metadata-convention-capitalised.safetensors", safetensors(state, {"convention": "Anthropic"}))


def folder(files):
    """A folder for the csv-folder / npy-folder entry points: each file behind a `--- NAME` line."""
    return b"\n".join(b"--- " + name.encode() + b"\n" + (data if isinstance(data, bytes) else data.encode()) for name, data in files)


npy_state = [(n + ".npy", npy(s, v)) for n, s, v in state]
write("npy-folder", "state-dict-bias-beyond-limit", folder(npy_state + [("blocks.0.attn.b_V.npy", npy((1, 1), [big]))]))
heads = [("L0H0.%s.npy" % k, npy(v[1:], zeros(v))) for k, v in W.items()]
write("npy-folder", "layer-bias-beyond-limit", folder(heads + [("L0.b_O.npy", npy((D_MODEL,), [big] + [0.0] * (D_MODEL - 1)))]))
write("npy-folder", "npy-beside-NPY", folder(heads + [("L0H0.W_Q.NPY", npy((D_MODEL, 1), [0.0] * D_MODEL))]))
write("npy-folder", "state-dict-npy-beside-NPY", folder(npy_state + [("blocks.0.attn.W_Q.NPY", npy((1, D_MODEL, 1), [0.0] * D_MODEL))]))
csv_head = [("L0H0.%s.csv" % k, "\n".join(",".join("0" for _ in range(v[2])) for _ in range(v[1]))) for k, v in W.items()]
write("csv-folder", "two-spellings-of-one-head", folder(csv_head + [("l0h0.W_Q.csv", "\n".join("0" for _ in range(D_MODEL)))]))
write("csv-folder", "zero-padded-head", folder(csv_head + [("L00H00.W_Q.csv", "\n".join("0" for _ in range(D_MODEL)))]))
write("csv-folder", "one-column-bias-with-row-names", folder(csv_head + [("L0.b_O.csv", "out:B,0.25\nout:A,0.5\n")]))
write("state-dict", "two-spellings-of-one-layer.json", json.dumps({
    "exercise": EXERCISE, "blocks.0.attn.W_Q": [[[0]] * D_MODEL], "blocks.00.attn.W_Q": [[[0]] * D_MODEL]}))
s = json.load(open(os.path.join(ROOT, "exercises", "pointer-arithmetic", "sinusoidal.json")))
s["fixed"]["W_pos"]["sinusoidal"][0]["alpha"] = 1e308
write("spec", "sinusoidal-alpha-overflow.json", json.dumps(s, indent=1))

# --- spoofing ----------------------------------------------------------------------------------------------
write("json", "escape-sequence-in-key.json", '{"exercise": "%s", "layers": [], "\\u001b[2K\\rFAKE: all tests passed": 1}' % EXERCISE)
