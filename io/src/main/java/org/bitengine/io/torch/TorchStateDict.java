package org.bitengine.io.torch;

import static org.bitengine.io.IoErrors.error;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.io.IoErrors;
import org.bitengine.io.ZipArchives;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyDType;
import org.bitengine.io.torch.Pickle.Global;
import org.bitengine.io.torch.Pickle.PickleException;
import org.bitengine.io.torch.Pickle.Tuple;

/**
 * Reads PyTorch state dicts ({@code .pth}/{@code .pt}) in the zip format that {@code torch.save}
 * writes since torch 1.6, in pure Java: no Python, no libtorch.
 *
 * <p>The file is a zip holding {@code <archive>/data.pkl}, a pickle of an {@code OrderedDict} whose
 * values are {@code torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...)}
 * calls, each storage a persistent id {@code ('storage', torch.FloatStorage, key, location, numel)}
 * whose raw little-endian bytes are the entry {@code <archive>/data/<key>}. The pickle is run by a
 * small VM ({@link Pickle}) that knows only the opcodes torch.save emits and never executes
 * anything: the only callables it honours are {@code collections.OrderedDict},
 * {@code torch._utils._rebuild_tensor_v2} and {@code torch._utils._rebuild_parameter}.
 *
 * <p>Tensors are views: {@link #read} materialises each into a fresh C-order {@link NpyArray}.
 * Float, double, int64, int32, uint8 and bool storages keep their dtype; half and bfloat16 are
 * converted to float32. {@link #open} reads only {@code data.pkl} and then one tensor at a time, so
 * a state dict larger than the heap can be copied tensor by tensor; a storage shared by several
 * tensors is then read once for each of them.
 *
 * <p>Allocation is bounded by what the file holds: a storage is read only up to the bytes its zip
 * entry really has, and a view must fit in its storage. Every malformed input ends in one
 * {@link BitEngineException} line naming the file (and the key).
 */
public final class TorchStateDict {

    private static final String HINT = "this reader handles PyTorch state dicts saved with torch.save";

    private TorchStateDict() {
    }

    /** A storage class of torch: its pickled name, bytes per element, and the dtype read returns. */
    private enum Kind {
        FLOAT("FloatStorage", 4, NpyDType.F4),
        DOUBLE("DoubleStorage", 8, NpyDType.F8),
        HALF("HalfStorage", 2, NpyDType.F4),
        BFLOAT16("BFloat16Storage", 2, NpyDType.F4),
        LONG("LongStorage", 8, NpyDType.I8),
        INT("IntStorage", 4, NpyDType.I4),
        BYTE("ByteStorage", 1, NpyDType.U1),
        BOOL("BoolStorage", 1, NpyDType.B1);

        final String pyName;
        final int itemSize;
        final NpyDType out;

        Kind(String pyName, int itemSize, NpyDType out) {
            this.pyName = pyName;
            this.itemSize = itemSize;
            this.out = out;
        }

        static Kind of(String name) {
            for (Kind k : values()) {
                if (k.pyName.equals(name)) {
                    return k;
                }
            }
            return null;
        }
    }

    private record StorageRef(Kind kind, String key, long numel) {
    }

    private record TensorRef(StorageRef storage, Object offset, Object size, Object stride) {
    }

    // ---------------------------------------------------------------------------------------------
    // API

    /**
     * The tensors' keys, dtypes and shapes in the file's order, from {@code data.pkl} alone: no
     * storage is read, so this is cheap even for multi-GB checkpoints.
     *
     * @throws BitEngineException if the file is missing, not a torch.save zip, or its pickle is
     *                            malformed or holds something other than tensors
     */
    public static Map<String, TorchTensorHeader> headers(Path path) {
        try (Reader r = open(path)) {
            return r.headers();
        }
    }

    /**
     * The state dict with its pickle parsed and no storage read yet: each tensor is read when asked
     * for. Close it to release the file.
     *
     * @throws BitEngineException as {@link #headers}
     */
    public static Reader open(Path path) {
        return Reader.open(path);
    }

    /**
     * Every tensor of the state dict, in the file's order, materialised in C order (half and
     * bfloat16 as float32; int64 such as {@code num_batches_tracked} kept).
     *
     * @throws BitEngineException as {@link #headers}, or if a storage is missing, truncated, fails
     *                            its CRC, or is too small for a view of it
     */
    public static Map<String, NpyArray> read(Path path) {
        try (Reader r = open(path)) {
            Map<String, NpyArray> out = new LinkedHashMap<>();
            for (String key : r.keys()) {
                out.put(key, r.array(key));
            }
            return Collections.unmodifiableMap(out);
        }
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * An open state dict: the zip, its archive prefix and the parsed pickle. As a {@link WeightSource}
     * it reads each tensor as float32 (integers and bools converted), under the state dict's own keys.
     */
    public static final class Reader implements WeightSource, AutoCloseable {
        private final Path path;
        private final ZipFile zip;
        private final String prefix;
        private Map<String, TorchTensorHeader> headers;

        private Reader(Path path, ZipFile zip, String prefix) {
            this.path = path;
            this.zip = zip;
            this.prefix = prefix;
        }

        static Reader open(Path path) {
            ZipFile zf = ZipArchives.open(path, "not a .pth file; pass the path of the file torch.save wrote",
                    e -> error(path + ": not a zip archive, so not a PyTorch checkpoint in the torch.save format of torch >= 1.6"
                            + " (" + IoErrors.message(e) + "); the file is truncated or corrupt, or it is a legacy"
                            + " (pre-1.6) checkpoint: re-save it with a recent torch", e));
            Reader r;
            try {
                String prefix = null;
                for (Enumeration<? extends ZipEntry> en = zf.entries(); en.hasMoreElements(); ) {
                    String name = en.nextElement().getName();
                    int slash = name.indexOf('/');
                    if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                        prefix = name.substring(0, slash + 1);
                        break;
                    }
                }
                if (prefix == null) {
                    throw error(path + ": a zip without <archive>/data.pkl, so not a checkpoint written by torch.save; "
                            + HINT);
                }
                r = new Reader(path, zf, prefix);
                r.checkByteOrder();
            } catch (RuntimeException e) {
                closeQuietly(zf);
                if (e instanceof BitEngineException) {
                    throw e;
                }
                throw error(path + ": corrupt zip directory: " + IoErrors.message(e) + "; re-save the checkpoint", e);
            }
            try {
                r.headers = r.parseHeaders();
            } catch (RuntimeException | Error e) {
                r.close();
                throw e;
            }
            return r;
        }

        private void checkByteOrder() {
            ZipEntry e = zip.getEntry(prefix + "byteorder");
            if (e == null) {
                return; // torch < 2.1 writes no byteorder record and only little-endian files
            }
            String order = new String(entry(e, 16, "byteorder"), StandardCharsets.US_ASCII).strip();
            if (!order.equals("little")) {
                throw error(path + ": storages are stored " + IoErrors.quote(order, 16)
                        + "-endian; only little-endian checkpoints are supported: re-save it on a little-endian machine");
            }
        }

        /** Every tensor's header, in the file's order. */
        public Map<String, TorchTensorHeader> headers() {
            return headers;
        }

        @Override
        public Set<String> keys() {
            return headers.keySet();
        }

        @Override
        public Shape shape(String key) {
            return Shape.of(header(key).shape());
        }

        @Override
        public float[] read(String key) {
            return array(key).toFloats();
        }

        /**
         * One tensor, materialised in C order with its dtype (half and bfloat16 as float32).
         *
         * @throws BitEngineException if the key is not in the state dict, or its storage is missing,
         *                            truncated, fails its CRC, or is too small for the view
         */
        public NpyArray array(String key) {
            TorchTensorHeader h = header(key);
            Kind kind = Kind.of(h.storageType());
            return materialise(storage(h, kind), kind, h);
        }

        private TorchTensorHeader header(String key) {
            TorchTensorHeader h = headers.get(key);
            if (h == null) {
                throw error(path + ": no key '" + IoErrors.quote(key, 120) + "' in the state dict (" + headers.size() + " keys)");
            }
            return h;
        }

        private Map<String, TorchTensorHeader> parseHeaders() {
            ZipEntry pkl = zip.getEntry(prefix + "data.pkl");
            byte[] bytes = entry(pkl, Integer.MAX_VALUE - 16, "data.pkl");
            Object root;
            try {
                root = Pickle.load(bytes, this::reduce, this::persistentLoad);
            } catch (PickleException e) {
                throw error(path + ": " + e.getMessage() + " at byte " + e.position + " of data.pkl; " + HINT);
            }
            if (!(root instanceof LinkedHashMap<?, ?> dict)) {
                throw error(path + ": data.pkl holds " + Pickle.describe(root) + ", not a state dict; " + HINT
                        + "(model.state_dict())");
            }
            Map<String, TorchTensorHeader> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> en : dict.entrySet()) {
                if (!(en.getKey() instanceof String key)) {
                    throw error(path + ": state dict key " + Pickle.describe(en.getKey()) + " is not a str; " + HINT);
                }
                if (!(en.getValue() instanceof TensorRef t)) {
                    throw error(path + ": key '" + key + "' holds " + Pickle.describe(en.getValue())
                            + ", not a tensor; " + HINT + "(model.state_dict()), not whole checkpoints or models");
                }
                out.put(key, header(key, t));
            }
            return Collections.unmodifiableMap(out);
        }

        private TorchTensorHeader header(String key, TensorRef t) {
            String where = path + ": key '" + key + "'";
            long offset = nonNegative(t.offset(), where, "storage offset");
            long[] size = longs(t.size(), where, "size");
            long[] stride = longs(t.stride(), where, "stride");
            if (size.length != stride.length) {
                throw error(where + ": size has " + size.length + " dimensions but stride " + stride.length
                        + "; the file is corrupt");
            }
            int[] shape = new int[size.length];
            long count = 1;
            long last = offset;
            for (int i = 0; i < size.length; i++) {
                if (size[i] > Integer.MAX_VALUE) {
                    throw error(where + ": dimension " + size[i] + " is too large; the file is corrupt");
                }
                shape[i] = (int) size[i];
                count = satMul(count, size[i]);
                if (size[i] > 0) {
                    last = satAdd(last, satMul(size[i] - 1, stride[i]));
                }
            }
            StorageRef s = t.storage();
            if (count > 0 && (last >= s.numel() || count > s.numel())) {
                throw error(where + ": the view (offset " + offset + ", size " + java.util.Arrays.toString(size)
                        + ", stride " + java.util.Arrays.toString(stride) + ") does not fit in its storage of "
                        + s.numel() + " elements; the file is corrupt");
            }
            if (count > (Integer.MAX_VALUE - 16) / s.kind().out.itemSize()) {
                throw error(where + ": " + count + " elements do not fit in one Java array; split the tensor");
            }
            return new TorchTensorHeader(key, s.kind().pyName, s.kind().out, shape, stride, offset, s.key(), s.numel());
        }

        /** The bytes the view needs from its storage entry, read only as far as the entry really goes. */
        private byte[] storage(TorchTensorHeader h, Kind kind) {
            String name = prefix + "data/" + h.storageKey();
            ZipEntry e = zip.getEntry(name);
            String where = path + ": key '" + h.key() + "'";
            if (e == null) {
                throw error(where + ": storage entry " + name + " is missing; the file is truncated or corrupt");
            }
            // Checked before multiplying: a pickled element count near 2^62 would wrap the byte count to 0.
            if (h.storageNumel() > (Integer.MAX_VALUE - 16) / kind.itemSize) {
                throw error(where + ": storage " + name + " of " + h.storageNumel() + " " + kind.pyName
                        + " elements does not fit in one Java array; the file is corrupt or the tensor must be split");
            }
            long needed = h.storageNumel() * kind.itemSize;
            if (e.getSize() >= 0 && e.getSize() < needed) {
                throw error(where + ": storage " + name + " holds " + e.getSize() + " bytes but " + h.storageNumel()
                        + " " + kind.pyName + " elements need " + needed + "; the file is truncated or corrupt");
            }
            try (InputStream in = zip.getInputStream(e)) {
                // readNBytes grows its buffer as data arrives, so a lying size allocates nothing extra.
                byte[] b = in.readNBytes((int) needed);
                if (b.length != needed) {
                    throw error(where + ": storage " + name + " ends after " + b.length + " of " + needed
                            + " bytes; the file is truncated or corrupt");
                }
                if (e.getSize() == needed && e.getCrc() >= 0) {
                    CRC32 crc = new CRC32();
                    crc.update(b);
                    if (crc.getValue() != e.getCrc()) {
                        throw error(where + ": storage " + name + " fails its CRC-32 check; the file is corrupt");
                    }
                }
                return b;
            } catch (IOException ex) {
                throw error(where + ": cannot read storage " + name + ": " + IoErrors.reason(ex)
                        + "; the file is truncated or corrupt", ex);
            }
        }

        /** A whole small entry (data.pkl, byteorder), refusing one larger than {@code max}. */
        private byte[] entry(ZipEntry e, int max, String what) {
            try (InputStream in = zip.getInputStream(e)) {
                byte[] b = in.readNBytes(max);
                if (in.read() >= 0) {
                    throw error(path + ": " + what + " is larger than " + max + " bytes; the file is corrupt");
                }
                if (e.getSize() >= 0 && b.length != e.getSize()) {
                    throw error(path + ": " + what + " ends after " + b.length + " of " + e.getSize()
                            + " bytes; the file is truncated or corrupt");
                }
                if (e.getCrc() >= 0) {
                    CRC32 crc = new CRC32();
                    crc.update(b);
                    if (crc.getValue() != e.getCrc()) {
                        throw error(path + ": " + what + " fails its CRC-32 check; the file is corrupt");
                    }
                }
                return b;
            } catch (IOException ex) {
                throw error(path + ": cannot read " + what + ": " + IoErrors.reason(ex)
                        + "; the file is truncated or corrupt", ex);
            }
        }

        private Object reduce(Global g, Tuple args, long position) {
            String name = g.toString();
            switch (name) {
                case "collections.OrderedDict" -> {
                    if (args.size() != 0) {
                        throw new PickleException("OrderedDict with arguments", position);
                    }
                    return new LinkedHashMap<>();
                }
                case "torch._utils._rebuild_tensor_v2" -> {
                    if (args.size() < 4 || !(args.get(0) instanceof StorageRef s)) {
                        throw new PickleException("_rebuild_tensor_v2 without (storage, offset, size, stride)", position);
                    }
                    return new TensorRef(s, args.get(1), args.get(2), args.get(3));
                }
                case "torch._utils._rebuild_parameter" -> {
                    if (args.size() < 1 || !(args.get(0) instanceof TensorRef t)) {
                        throw new PickleException("_rebuild_parameter without a tensor", position);
                    }
                    return t;
                }
                default -> throw new PickleException("unsupported global " + IoErrors.quote(name, 80)
                        + " (only OrderedDicts of tensors are read)", position);
            }
        }

        private Object persistentLoad(Object pid) {
            if (pid instanceof Tuple t && t.size() == 5 && "storage".equals(t.get(0))
                    && t.get(1) instanceof Global g && t.get(2) instanceof String key && t.get(4) instanceof Long numel) {
                Kind kind = g.module().equals("torch") ? Kind.of(g.name()) : null;
                if (kind == null) {
                    throw error(path + ": storage type " + IoErrors.quote(g.toString(), 60) + " is not supported"
                            + " (supported: float32, float64, float16, bfloat16, int64, int32, uint8, bool);"
                            + " convert the tensor with .float() or .long() before torch.save");
                }
                if (numel < 0 || key.isEmpty() || key.contains("/") || key.contains("..")) {
                    throw error(path + ": malformed storage id for storage '" + IoErrors.quote(key, 40)
                            + "'; the file is corrupt");
                }
                return new StorageRef(kind, key, numel);
            }
            throw error(path + ": unexpected persistent id " + Pickle.describe(pid) + " in data.pkl; " + HINT);
        }

        @Override
        public void close() {
            closeQuietly(zip);
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** The view {@code h} of {@code storage} as a fresh C-order array of {@code h.dtype()}. */
    private static NpyArray materialise(byte[] storage, Kind kind, TorchTensorHeader h) {
        int[] shape = h.shape();
        long[] stride = h.stride();
        int n = (int) h.elementCount();
        int ndim = shape.length;
        int in = kind.itemSize;
        int out = kind.out.itemSize();
        byte[] dst = new byte[n * out];
        if (n == 0) {
            return NpyArray.ofRaw(kind.out, shape, dst);
        }
        boolean contiguous = true;
        long expect = 1;
        for (int d = ndim - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expect) {
                contiguous = false;
            }
            expect *= shape[d];
        }
        ByteBuffer src = ByteBuffer.wrap(storage).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer dstBuf = ByteBuffer.wrap(dst).order(ByteOrder.LITTLE_ENDIAN);
        if (contiguous && in == out) {
            System.arraycopy(storage, (int) (h.storageOffset() * in), dst, 0, n * in);
            return NpyArray.ofRaw(kind.out, shape, dst);
        }
        int[] idx = new int[ndim];
        long pos = h.storageOffset();
        for (int i = 0; i < n; i++) {
            int s = (int) (pos * in);
            switch (kind) {
                case HALF -> dstBuf.putFloat(i * 4, Float.float16ToFloat(src.getShort(s)));
                case BFLOAT16 -> dstBuf.putFloat(i * 4, Float.intBitsToFloat((src.getShort(s) & 0xFFFF) << 16));
                default -> System.arraycopy(storage, s, dst, i * out, out);
            }
            // advance the C-order index
            for (int d = ndim - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    pos += stride[d];
                    break;
                }
                pos -= stride[d] * (shape[d] - 1);
                idx[d] = 0;
            }
        }
        return NpyArray.ofRaw(kind.out, shape, dst);
    }

    private static long nonNegative(Object o, String where, String what) {
        if (o instanceof Long l && l >= 0) {
            return l;
        }
        throw error(where + ": " + what + " is " + Pickle.describe(o) + ", not a non-negative int; the file is corrupt");
    }

    private static long[] longs(Object o, String where, String what) {
        if (!(o instanceof Tuple t)) {
            throw error(where + ": " + what + " is " + Pickle.describe(o) + ", not a tuple; the file is corrupt");
        }
        List<Object> items = t.items();
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = nonNegative(items.get(i), where, what + " entry");
        }
        return out;
    }

    private static long satMul(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return hi != 0 || lo < 0 ? Long.MAX_VALUE : lo;
    }

    private static long satAdd(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }

    private static void closeQuietly(ZipFile zf) {
        try {
            zf.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
