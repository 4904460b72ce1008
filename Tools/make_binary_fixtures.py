#!/usr/bin/env python3
"""Writes the binary-format test fixtures into Tests/CircuitGraderTests/Fixtures/binary/.

Needs python3 and numpy only; safetensors files are written by hand (struct + json) since the
safetensors package is not a dependency. Every value is exactly representable in the stored dtype,
so the Swift tests can hard-code them. Rerunning gives byte-identical files except the zip
timestamps of the .npz archives. See the README.md written next to the fixtures.

Usage: python3 Tools/make_binary_fixtures.py
"""

import io
import json
import os
import struct
import zipfile
import zlib

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "CircuitGraderTests",
                   "Fixtures", "binary")


def small():
    """float64 [2, 3]: -1, -0.5, 0, 0.5, 1, 1.5 (row-major)."""
    return np.arange(6, dtype=np.float64).reshape(2, 3) * 0.5 - 1


def w_q():
    """[n_heads=2, d_model=4, d_head=3]: arange(24) * 0.125."""
    return np.arange(24, dtype=np.float64).reshape(2, 4, 3) * 0.125


def w_e():
    """[d_vocab=3, d_model=4]: arange(12) - 6."""
    return np.arange(12, dtype=np.float64).reshape(3, 4) - 6


def npy_bytes(array, version=None):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version, allow_pickle=True)
    return buffer.getvalue()


def npy_with_header(header_text, data=b"", version=1):
    """A .npy file with a hand-written header dict (padded like numpy) and raw data."""
    text = header_text.encode("latin1")
    prefix = 10 if version == 1 else 12
    padding = (-(prefix + len(text) + 1)) % 64
    text += b" " * padding + b"\n"
    length = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + data


def safetensors_bytes(tensors, metadata=None, header_override=None):
    """tensors: list of (name, dtype string, shape, raw bytes), stored in that order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    if header_override:
        header_override(header)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(raw for _, _, _, raw in tensors)


def bf16_bytes(values):
    """bfloat16: the top 16 bits of float32 (exact for the values used)."""
    bits = np.asarray(values, dtype="<f4").view("<u4")
    assert not (bits & 0xFFFF).any(), "value not exact in bfloat16"
    return (bits >> 16).astype("<u2").tobytes()


def npz_bytes(save, *positional, **arrays):
    buffer = io.BytesIO()
    save(buffer, *positional, **arrays)
    return buffer.getvalue()


def zip64_archive(entries):
    """A stored zip written by hand in full Zip64 form: every size and offset in the central directory is
    0xFFFFFFFF with its value in a Zip64 extra field (0x0001), and a Zip64 end record and locator precede the
    end record, whose counts are 0xFFFF and 0xFFFFFFFF. np.savez only does this for huge archives."""
    body, directory = b"", b""
    for name, data in entries:
        name = name.encode()
        crc = zlib.crc32(data)
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc, len(data), len(data),
                            len(name), 0) + name + data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF,
                                 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + name + extra
    record_offset = len(body) + len(directory)
    record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries),
                         len(directory), len(body))
    locator = struct.pack("<IIQI", 0x07064B50, 0, record_offset, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return body + directory + record + locator + end


def flip_first_entry_data_byte(archive):
    """The archive with the last data byte of its first entry changed, so its CRC-32 no longer matches."""
    data = bytearray(archive)
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        info = z.infolist()[0]
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    end = info.header_offset + 30 + name_length + extra_length + info.compress_size
    data[end - 1] ^= 0x01
    return bytes(data)


def fixtures():
    files = {}
    # --- valid .npy
    files["small.npy"] = npy_bytes(small())
    files["f32.npy"] = npy_bytes((np.arange(6).reshape(3, 2) * 0.25).astype("<f4"))
    files["fortran.npy"] = npy_bytes(np.asfortranarray(small()))
    files["fortran3d.npy"] = npy_bytes(np.asfortranarray(w_q()))
    files["bigendian.npy"] = npy_bytes(small().astype(">f8"))
    files["bigendian_i4.npy"] = npy_bytes(np.array([[-2, 70000], [3, -70000]], dtype=">i4"))
    files["f16.npy"] = npy_bytes(np.array([0.5, -2, 65504, 2.0 ** -14, 2.0 ** -24], dtype="<f2"))
    files["ints.npy"] = npy_bytes(np.array([[-3, 0, 7]], dtype="<i2"))
    files["u1.npy"] = npy_bytes(np.array([0, 1, 255], dtype="u1"))
    files["bool.npy"] = npy_bytes(np.array([True, False, True]))
    files["scalar.npy"] = npy_bytes(np.array(3.5))
    files["v2.npy"] = npy_bytes(small(), version=(2, 0))
    files["v3.npy"] = npy_bytes(small(), version=(3, 0))
    files["python2_shape.npy"] = npy_with_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }", small().tobytes())
    # --- valid .npz and safetensors
    state = {"embed.W_E": w_e(), "blocks.0.attn.W_Q": w_q(), "unembed.W_U": small().T.copy()}
    files["state.npz"] = npz_bytes(np.savez, **state)
    files["positional.npz"] = npz_bytes(np.savez, np.array([1.0, 2.0]), np.array([[3.0]]))
    files["zip64.npz"] = zip64_archive([("embed.W_E.npy", npy_bytes(w_e())), ("small.npy", npy_bytes(small()))])
    files["state.safetensors"] = safetensors_bytes(
        [("blocks.0.attn.W_Q", "F32", (2, 4, 3), w_q().astype("<f4").tobytes()),
         ("embed.W_E", "F64", (3, 4), w_e().astype("<f8").tobytes())],
        metadata={"exercise": "current-token/nopos"})
    files["f16.safetensors"] = safetensors_bytes(
        [("half", "F16", (2, 2), np.array([[0.5, -2], [65504, 2.0 ** -24]], dtype="<f2").tobytes()),
         ("brain", "BF16", (3,), bf16_bytes([1.5, -0.15625, 2.0 ** 100]))])
    files["ints.safetensors"] = safetensors_bytes(
        [("i64", "I64", (2,), np.array([-5, 1 << 40], dtype="<i8").tobytes()),
         ("i32", "I32", (1, 2), np.array([[-7, 9]], dtype="<i4").tobytes()),
         ("u8", "U8", (3,), np.array([0, 128, 255], dtype="u1").tobytes()),
         ("flags", "BOOL", (2,), np.array([True, False]).tobytes()),
         ("empty", "F32", (0, 3), b"")])
    # --- broken
    files["compressed.npz"] = npz_bytes(np.savez_compressed, **state)
    files["crc.npz"] = flip_first_entry_data_byte(files["state.npz"])
    files["truncated.npy"] = files["small.npy"][:-5]
    files["trailing.npy"] = files["small.npy"] + b"junk"
    nan = small()
    nan[1, 2] = np.nan
    files["nan.npy"] = npy_bytes(nan)
    inf = (np.arange(6).reshape(3, 2) * 0.25).astype("<f4")
    inf[0, 1] = -np.inf
    files["inf.npy"] = npy_bytes(inf)
    files["badmagic.npy"] = b"\x93NUMPX" + files["small.npy"][6:]
    files["badheader.npy"] = npy_with_header("{'descr': '<f8', 'fortran_order': False, }", small().tobytes())
    files["huge_shape.npy"] = npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }")
    files["object.npy"] = npy_bytes(np.array([1, "a"], dtype=object))
    files["structured.npy"] = npy_bytes(np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]))
    files["complex.npy"] = npy_bytes(np.array([1 + 2j]))
    files["strings.npy"] = npy_bytes(np.array(["ab", "c"]))
    files["offsets.safetensors"] = safetensors_bytes(
        [("w", "F64", (2,), np.array([1.0, 2.0]).tobytes())],
        header_override=lambda h: h["w"].update(data_offsets=[0, 400]))
    files["badsize.safetensors"] = safetensors_bytes(
        [("w", "F64", (3,), np.array([1.0, 2.0]).tobytes())])
    files["nan.safetensors"] = safetensors_bytes(
        [("w", "F32", (2, 2), np.array([[1, 2], [np.inf, 4]], dtype="<f4").tobytes())])
    files["header_too_big.safetensors"] = struct.pack("<Q", 1 << 40) + b"{}"
    files["random.bin"] = np.random.default_rng(7).integers(0, 256, 256, dtype=np.uint8).tobytes()
    files["empty.bin"] = b""
    return files


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(fixtures().items()):
        assert len(data) < 4096, f"{name} is {len(data)} bytes"
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{len(data):5d}  {name}")


if __name__ == "__main__":
    main()
