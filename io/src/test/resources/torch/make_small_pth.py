"""Writes small.pth: a hand-made PyTorch state dict in torch.save's zip format, without torch.

torch is not installed here, so this script reproduces what torch.save (>= 1.6) writes, following
torch/serialization.py's documented layout: a zip (STORED entries) holding <archive>/data.pkl, a
protocol-2 pickle of an OrderedDict whose values are torch._utils._rebuild_tensor_v2(storage,
storage_offset, size, stride, requires_grad, backward_hooks) and whose storages are persistent ids
('storage', torch.<Type>Storage, key, location, numel); <archive>/data/<key> holds the raw
little-endian storage bytes; <archive>/version and <archive>/byteorder are small text records.
Stand-in classes named torch.FloatStorage etc. make Python's own pickler emit the same GLOBAL,
BINPERSID and REDUCE opcodes torch does. Run: python3 make_small_pth.py
"""
import collections, io, pickle, sys, types, zipfile
import numpy as np

torch = types.ModuleType("torch"); utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch; sys.modules["torch._utils"] = utils
def _rebuild_tensor_v2(*a): raise NotImplementedError
_rebuild_tensor_v2.__module__ = "torch._utils"; utils._rebuild_tensor_v2 = _rebuild_tensor_v2
storage_types = {}
for name in ["FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage", "BoolStorage"]:
    cls = type(name, (), {"__module__": "torch"}); setattr(torch, name, cls); storage_types[name] = cls

class Storage:
    def __init__(self, key, typ, raw, numel): self.key, self.typ, self.raw, self.numel = key, typ, raw, numel
class Tensor:
    def __init__(self, storage, offset, size, stride): self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())
    def __reduce__(self): return (_rebuild_tensor_v2, self.args)

def bf16(values):  # float32 -> bfloat16 by truncation (the values chosen are exact in bfloat16)
    return (np.asarray(values, np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()

s0 = Storage("0", "FloatStorage", (np.arange(6, dtype="<f4") * 0.5).tobytes(), 6)
s1 = Storage("1", "FloatStorage", np.arange(10, dtype="<f4").tobytes(), 10)
s2 = Storage("2", "HalfStorage", np.array([1.0, -2.5, 65504], "<f2").tobytes(), 3)
s3 = Storage("3", "BFloat16Storage", bf16([1.0, 3.140625]), 2)
s4 = Storage("4", "LongStorage", np.array([42], "<i8").tobytes(), 1)
s5 = Storage("5", "IntStorage", np.array([-7, 9], "<i4").tobytes(), 2)
s6 = Storage("6", "DoubleStorage", np.array([0.1, -1e300], "<f8").tobytes(), 2)
s7 = Storage("7", "BoolStorage", np.array([True, False, True]).tobytes(), 3)
sd = collections.OrderedDict()
sd["w"] = Tensor(s0, 0, [2, 3], [3, 1])     # [[0, .5, 1], [1.5, 2, 2.5]]
sd["wt"] = Tensor(s0, 0, [3, 2], [1, 3])    # w.t(): shares storage 0, non-contiguous
sd["sl"] = Tensor(s1, 2, [2, 2], [4, 1])    # arange(10)[2:].view(2,4)[:, :2] -> [[2, 3], [6, 7]]
sd["h"] = Tensor(s2, 0, [3], [1])
sd["bf"] = Tensor(s3, 0, [2], [1])
sd["n"] = Tensor(s4, 0, [], [])             # 0-d int64, like num_batches_tracked
sd["i"] = Tensor(s5, 0, [2], [1])
sd["d"] = Tensor(s6, 0, [2], [1])
sd["b"] = Tensor(s7, 0, [3], [1])
storages = [s0, s1, s2, s3, s4, s5, s6, s7]

class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", storage_types[obj.typ], obj.key, "cpu", obj.numel)
        return None
buf = io.BytesIO(); P(buf, protocol=2).dump(sd)
with zipfile.ZipFile("small.pth", "w", zipfile.ZIP_STORED) as z:
    z.writestr("small/data.pkl", buf.getvalue())
    z.writestr("small/byteorder", "little")
    for s in storages:
        z.writestr("small/data/" + s.key, s.raw)
    z.writestr("small/version", "3\n")
