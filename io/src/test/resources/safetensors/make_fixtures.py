"""Writes python_made.safetensors by hand, following the format of the huggingface/safetensors README
(8-byte little-endian header length N, N bytes of JSON header, then the data section; offsets are
relative to the data section; tensors little-endian, C order). The safetensors package is not
installed here, so only numpy and the json module are used. The tensors are deliberately not in
offset order in the header, and the header is padded with spaces to a multiple of 8 as the reference
implementation does. Run: python3 make_fixtures.py
"""
import json, struct
import numpy as np

def bf16(values):  # float32 -> bfloat16 by truncation (values exact in bfloat16)
    return (np.asarray(values, np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()

tensors = [  # (name, dtype, shape, bytes)
    ("f32", "F32", [2, 3], (np.arange(6, dtype="<f4") - 2.5).tobytes()),
    ("f64", "F64", [2], np.array([0.1, -1e300], "<f8").tobytes()),
    ("f16", "F16", [3], np.array([1.0, -2.5, 65504], "<f2").tobytes()),
    ("bf16", "BF16", [2], bf16([1.0, 3.140625])),
    ("i64", "I64", [], np.array([-(2**40)], "<i8").tobytes()),
    ("i32", "I32", [2, 1], np.array([-7, 9], "<i4").tobytes()),
    ("u8", "U8", [4], np.array([0, 1, 200, 255], "u1").tobytes()),
    ("bool", "BOOL", [3], np.array([True, False, True]).tobytes()),
    ("empty", "F32", [0, 4], b""),
]
header, data = {}, b""
for name, dtype, shape, raw in tensors:
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
header = dict(reversed(list(header.items())))  # header order differs from offset order
header["__metadata__"] = {"format": "pt", "made_by": "make_fixtures.py"}
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open("python_made.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
