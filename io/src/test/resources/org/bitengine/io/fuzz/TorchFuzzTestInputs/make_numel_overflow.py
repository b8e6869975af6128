import sys, types, pickle, collections, io, zipfile, struct
torch = types.ModuleType('torch'); utils = types.ModuleType('torch._utils')
class FloatStorage: pass
FloatStorage.__module__ = 'torch'
def _rebuild_tensor_v2(*a): pass
_rebuild_tensor_v2.__module__ = 'torch._utils'
torch.FloatStorage = FloatStorage; utils._rebuild_tensor_v2 = _rebuild_tensor_v2; torch._utils = utils
sys.modules['torch'] = torch; sys.modules['torch._utils'] = utils
class S: pass
class T:
    def __init__(s, st): s.st = st
    def __reduce__(s): return (_rebuild_tensor_v2, (s.st, 0, (2,), (1,), False, collections.OrderedDict()))
class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, S): return ('storage', FloatStorage, '0', 'cpu', 2**62)
        return None
buf = io.BytesIO(); P(buf, protocol=2).dump(collections.OrderedDict([('w', T(S()))]))
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED) as z:
    z.writestr('archive/data.pkl', buf.getvalue())
    z.writestr('archive/data/0', struct.pack('<2f', 1.0, 2.0))
