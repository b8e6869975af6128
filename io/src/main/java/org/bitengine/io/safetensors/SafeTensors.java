package org.bitengine.io.safetensors;

import static org.bitengine.io.IoErrors.error;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.io.AtomicFile;
import org.bitengine.io.IoErrors;
import org.bitengine.io.json.Json;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyDType;

/**
 * Reads and writes safetensors files: an unsigned 64-bit little-endian header length {@code N},
 * {@code N} bytes of UTF-8 JSON {@code {"name": {"dtype": "F32", "shape": [..], "data_offsets":
 * [begin, end]}, ..., "__metadata__": {"k": "v"}}}, then the data section, with offsets relative to
 * its start and every tensor stored little-endian in C order (format as documented in the
 * huggingface/safetensors README).
 *
 * <p>Read dtypes: {@code F32}, {@code F64}, {@code I64}, {@code I32}, {@code U8}, {@code BOOL}
 * kept; {@code F16} and {@code BF16} converted to float32. Every header entry is checked before any
 * data is read: the header must lie within the file, offsets within the data section, tensors must
 * not overlap, and each byte range must be exactly the shape times the item size. Gaps between
 * tensors are tolerated. {@link #open} reads the header and then one tensor at a time, so a file
 * larger than the heap can be copied tensor by tensor. Every failure is one
 * {@link BitEngineException} line naming the file (and the tensor).
 */
public final class SafeTensors {

    /** Largest header accepted (the reference implementation's limit is 100 MB). */
    static final long MAX_HEADER = 100L << 20;

    private static final String METADATA = "__metadata__";

    private SafeTensors() {
    }

    // ---------------------------------------------------------------------------------------------
    // Reading

    /**
     * The header entries in the header's order, without reading any tensor data.
     *
     * @throws BitEngineException if the file is missing, or its header is malformed or inconsistent
     *                            with the file's size
     */
    public static Map<String, SafeTensorHeader> headers(Path path) {
        try (Reader r = open(path)) {
            return r.headers();
        }
    }

    /** The {@code __metadata__} string map of the header (empty when absent). */
    public static Map<String, String> metadata(Path path) {
        try (Reader r = open(path)) {
            return r.metadata();
        }
    }

    /**
     * Every tensor, in the header's order ({@code F16}/{@code BF16} as float32).
     *
     * @throws BitEngineException as {@link #headers}, or if the file ends early
     */
    public static Map<String, NpyArray> read(Path path) {
        try (Reader r = open(path)) {
            Map<String, NpyArray> out = new LinkedHashMap<>();
            for (String name : r.keys()) {
                out.put(name, r.array(name));
            }
            return Collections.unmodifiableMap(out);
        }
    }

    /**
     * The file with its header parsed and checked and no tensor read yet: each tensor is read when
     * asked for. Close it to release the file.
     *
     * @throws BitEngineException as {@link #headers}
     */
    public static Reader open(Path path) {
        FileChannel ch = openChannel(path);
        try {
            return new Reader(path, ch, parse(path, ch));
        } catch (IOException e) {
            closeQuietly(ch);
            throw readError(path, e);
        } catch (RuntimeException | Error e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /**
     * An open safetensors file. As a {@link WeightSource} it reads each tensor as float32 (integers
     * and bools converted), under the header's names.
     */
    public static final class Reader implements WeightSource, AutoCloseable {
        private final Path path;
        private final FileChannel ch;
        private final Parsed parsed;

        private Reader(Path path, FileChannel ch, Parsed parsed) {
            this.path = path;
            this.ch = ch;
            this.parsed = parsed;
        }

        /** Every tensor's header entry, in the header's order. */
        public Map<String, SafeTensorHeader> headers() {
            return parsed.tensors;
        }

        /** The {@code __metadata__} string map of the header (empty when absent). */
        public Map<String, String> metadata() {
            return parsed.metadata;
        }

        @Override
        public Set<String> keys() {
            return parsed.tensors.keySet();
        }

        @Override
        public Shape shape(String name) {
            return Shape.of(header(name).shape());
        }

        @Override
        public float[] read(String name) {
            return array(name).toFloats();
        }

        /**
         * One tensor ({@code F16}/{@code BF16} as float32).
         *
         * @throws BitEngineException if the name is not in the header or the file ends early
         */
        public NpyArray array(String name) {
            SafeTensorHeader h = header(name);
            ByteBuffer b = ByteBuffer.allocate((int) (h.end() - h.begin())).order(ByteOrder.LITTLE_ENDIAN);
            try {
                readFully(ch, b, parsed.dataStart + h.begin());
            } catch (IOException e) {
                throw readError(path, e);
            }
            return convert(path, h, b.array());
        }

        private SafeTensorHeader header(String name) {
            SafeTensorHeader h = parsed.tensors.get(name);
            if (h == null) {
                throw error(path + ": no tensor '" + IoErrors.quote(name, 120) + "' in the header (" + parsed.tensors.size()
                        + " tensors)");
            }
            return h;
        }

        @Override
        public void close() {
            closeQuietly(ch);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // Read-only file: nothing can be lost by a failed close.
        }
    }

    private record Parsed(Map<String, SafeTensorHeader> tensors, Map<String, String> metadata, long dataStart) {
    }

    private static FileChannel openChannel(Path path) {
        Objects.requireNonNull(path, "path");
        if (Files.isDirectory(path)) {
            throw error(path + ": is a directory, not a .safetensors file; pass the path of the file");
        }
        if (!Files.exists(path)) {
            throw error(path + ": no such file; check the path");
        }
        try {
            return FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw readError(path, e);
        }
    }

    private static BitEngineException readError(Path path, IOException e) {
        return error(path + ": cannot read: " + IoErrors.reason(e) + "; check the path, or the file is truncated", e);
    }

    private static Parsed parse(Path path, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) {
            throw error(path + ": " + fileSize + " bytes, too short for a safetensors file (8-byte header length)");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > fileSize - 8) {
            throw error(path + ": header length " + Long.toUnsignedString(n) + " runs past the end of the "
                    + fileSize + "-byte file; the file is truncated or not a safetensors file");
        }
        if (n > MAX_HEADER) {
            throw error(path + ": header of " + n + " bytes exceeds the limit of " + MAX_HEADER + " bytes");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(hb.flip()).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw error(path + ": header is not valid UTF-8; not a safetensors file");
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw error(path + ": header does not start with '{'; not a safetensors file");
        }
        Map<String, Object> json = Json.parseObject(text, path + " header");
        long dataStart = 8 + n;
        long dataSize = fileSize - dataStart;
        Map<String, SafeTensorHeader> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, Object> en : json.entrySet()) {
            String name = en.getKey();
            if (name.equals(METADATA)) {
                if (!(en.getValue() instanceof Map<?, ?> m)) {
                    throw error(path + ": __metadata__ is not an object");
                }
                for (Map.Entry<?, ?> me : m.entrySet()) {
                    if (!(me.getValue() instanceof String v)) {
                        throw error(path + ": __metadata__ value of '" + IoErrors.quote((String) me.getKey(), 60)
                                + "' is not a string");
                    }
                    metadata.put((String) me.getKey(), v);
                }
                continue;
            }
            tensors.put(name, entry(path, name, en.getValue(), dataSize));
        }
        List<SafeTensorHeader> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(SafeTensorHeader::begin).thenComparingLong(SafeTensorHeader::end));
        for (int i = 1; i < byOffset.size(); i++) {
            SafeTensorHeader a = byOffset.get(i - 1);
            SafeTensorHeader b = byOffset.get(i);
            if (b.begin() < a.end()) {
                throw error(path + ": tensors '" + IoErrors.quote(a.name(), 80) + "' [" + a.begin() + ", " + a.end()
                        + ") and '" + IoErrors.quote(b.name(), 80) + "' [" + b.begin() + ", " + b.end()
                        + ") overlap; the file is corrupt");
            }
        }
        return new Parsed(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata), dataStart);
    }

    private static SafeTensorHeader entry(Path path, String name, Object value, long dataSize) {
        String where = path + ": tensor '" + IoErrors.quote(name, 120) + "'";
        if (!(value instanceof Map<?, ?> m)) {
            throw error(where + ": header entry is not an object");
        }
        if (!(m.get("dtype") instanceof String dtype)) {
            throw error(where + ": header entry has no string \"dtype\"");
        }
        Dt dt = Dt.of(dtype);
        if (dt == null) {
            throw error(where + ": unsupported dtype " + IoErrors.quote(dtype, 20)
                    + " (supported: F32 F64 F16 BF16 I64 I32 U8 BOOL)");
        }
        if (!(m.get("shape") instanceof List<?> shapeList)) {
            throw error(where + ": header entry has no \"shape\" list");
        }
        int[] shape = new int[shapeList.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = integer(shapeList.get(i), where, "shape");
            if (d > Integer.MAX_VALUE) {
                throw error(where + ": dimension " + d + " is too large");
            }
            shape[i] = (int) d;
            count = count > 0 && d > Long.MAX_VALUE / count ? Long.MAX_VALUE : count * d;
        }
        if (!(m.get("data_offsets") instanceof List<?> offs) || offs.size() != 2) {
            throw error(where + ": header entry has no \"data_offsets\" [begin, end]");
        }
        long begin = integer(offs.get(0), where, "data_offsets");
        long end = integer(offs.get(1), where, "data_offsets");
        if (begin > end || end > dataSize) {
            throw error(where + ": data_offsets [" + begin + ", " + end + "] lie outside the data section of "
                    + dataSize + " bytes; the file is truncated or corrupt");
        }
        long expected = count > Long.MAX_VALUE / dt.itemSize ? Long.MAX_VALUE : count * dt.itemSize;
        if (end - begin != expected) {
            throw error(where + ": " + dtype + " shape " + shapeList + " needs " + expected + " bytes but data_offsets ["
                    + begin + ", " + end + "] hold " + (end - begin) + "; the file is corrupt");
        }
        if (count * dt.out.itemSize() > Integer.MAX_VALUE - 16) {
            throw error(where + ": " + count + " elements do not fit in one Java array");
        }
        return new SafeTensorHeader(name, dtype, dt.out, shape, begin, end);
    }

    private static long integer(Object o, String where, String what) {
        if (o instanceof Double d && d >= 0 && d == Math.rint(d) && d <= 9.007199254740992E15) {
            return d.longValue();
        }
        throw error(where + ": " + what + " holds " + o + ", not a non-negative integer");
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                throw new EOFException();
            }
        }
    }

    private static NpyArray convert(Path path, SafeTensorHeader h, byte[] raw) {
        Dt dt = Dt.of(h.dtype());
        if (dt == Dt.F16 || dt == Dt.BF16) {
            ByteBuffer src = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            float[] f = new float[raw.length / 2];
            for (int i = 0; i < f.length; i++) {
                short s = src.getShort(2 * i);
                f[i] = dt == Dt.F16 ? Float.float16ToFloat(s) : Float.intBitsToFloat((s & 0xFFFF) << 16);
            }
            return NpyArray.ofFloats(h.shape(), f);
        }
        if (dt == Dt.BOOL) {
            for (byte b : raw) {
                if (b != 0 && b != 1) {
                    throw error(path + ": tensor '" + IoErrors.quote(h.name(), 120) + "': BOOL byte " + (b & 0xFF)
                            + " is neither 0 nor 1; the file is corrupt");
                }
            }
        }
        return NpyArray.ofRaw(dt.out, h.shape(), raw);
    }

    /** The safetensors dtypes this reader knows. */
    private enum Dt {
        F32(4, NpyDType.F4), F64(8, NpyDType.F8), F16(2, NpyDType.F4), BF16(2, NpyDType.F4),
        I64(8, NpyDType.I8), I32(4, NpyDType.I4), U8(1, NpyDType.U1), BOOL(1, NpyDType.B1);

        final int itemSize;
        final NpyDType out;

        Dt(int itemSize, NpyDType out) {
            this.itemSize = itemSize;
            this.out = out;
        }

        static Dt of(String s) {
            for (Dt d : values()) {
                if (d.name().equals(s)) {
                    return d;
                }
            }
            return null;
        }

        static Dt forNpy(NpyDType t) {
            return switch (t) {
                case F4 -> F32;
                case F8 -> F64;
                case I4 -> I32;
                case I8 -> I64;
                case U1 -> U8;
                case B1 -> BOOL;
            };
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Writing

    /** {@link #write(Path, Map, Map)} without metadata. */
    public static void write(Path path, Map<String, NpyArray> tensors) {
        write(path, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} (in the map's order, packed without gaps) and {@code metadata} as a
     * safetensors file, atomically: a temporary file beside {@code path} is committed only once
     * complete, so a failure leaves any old file untouched. The header is padded with spaces to a
     * multiple of 8 bytes, as the reference implementation does.
     *
     * @throws BitEngineException if a name is empty or {@code __metadata__}, or the file cannot be written
     */
    public static void write(Path path, Map<String, NpyArray> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata");
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put(METADATA, new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, NpyArray> en : tensors.entrySet()) {
            String name = en.getKey();
            if (name == null || name.isEmpty() || name.equals(METADATA)) {
                throw error(path + ": cannot write a tensor named '" + name + "'; choose another name");
            }
            NpyArray a = Objects.requireNonNull(en.getValue(), name);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", Dt.forNpy(a.dtype()).name());
            List<Long> shape = new ArrayList<>();
            for (int d : a.shape()) {
                shape.add((long) d);
            }
            e.put("shape", shape);
            e.put("data_offsets", List.of(offset, offset + a.byteSize()));
            offset += a.byteSize();
            header.put(name, e);
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = new byte[8 + padded];
        ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, head, 8, json.length);
        for (int i = 8 + json.length; i < head.length; i++) {
            head[i] = ' ';
        }
        try (AtomicFile f = AtomicFile.create(path)) {
            try {
                f.stream().write(head);
                for (NpyArray a : tensors.values()) {
                    ByteBuffer d = a.data();
                    byte[] chunk = new byte[Math.min(d.remaining(), 1 << 20)];
                    while (d.hasRemaining()) {
                        int k = Math.min(chunk.length, d.remaining());
                        d.get(chunk, 0, k);
                        f.stream().write(chunk, 0, k);
                    }
                }
            } catch (IOException e) {
                throw error(path + ": cannot write: " + IoErrors.reason(e) + "; check free disk space and permissions", e);
            }
            f.commit();
        }
    }
}
