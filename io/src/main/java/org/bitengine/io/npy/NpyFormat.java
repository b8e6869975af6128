package org.bitengine.io.npy;

import static org.bitengine.io.IoErrors.error;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.bitengine.io.IoErrors;

/**
 * The .npy byte format: encoding headers exactly as numpy 2's {@code np.save} does, and decoding
 * and validating the headers of versions 1.0, 2.0 and 3.0.
 *
 * <p>Layout: 6 bytes magic {@code \x93NUMPY}, 1 byte major and 1 byte minor version, the header
 * length (u16 little-endian in 1.0, u32 in 2.0 and 3.0), then the header: a Python dict literal
 * (latin-1 in 1.0/2.0, UTF-8 in 3.0) padded with spaces and ending in {@code '\n'} so that the data
 * starts at a multiple of 64 bytes. The data follows in C order.
 */
final class NpyFormat {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};

    /** numpy's ARRAY_ALIGN: the data of an .npy starts at a multiple of this. */
    static final int ARRAY_ALIGN = 64;

    /**
     * numpy's GROWTH_AXIS_MAX_DIGITS (since 1.23): after the dict, numpy adds
     * {@code 21 - len(repr(shape[0]))} spaces so the first dimension can later be rewritten in place
     * with up to 21 digits. Without them our files would not be byte-identical to np.save's.
     */
    static final int GROWTH_AXIS_MAX_DIGITS = 21;

    /**
     * Headers numpy writes are a few hundred bytes (numpy itself refuses more than 10000 by
     * default); a larger length field means a corrupt file, and we must not allocate it.
     */
    static final int MAX_HEADER_LENGTH = 1 << 20;

    /** The largest byte[] the JVM reliably allocates. */
    static final int MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

    /**
     * Reads go through buffers of at most this size: one huge read() into a heap array makes the
     * JDK allocate a native or direct buffer of the same size behind the scenes, and a read whose
     * size comes from an unverified header must never allocate more than the data that exists.
     */
    static final int CHUNK = 1 << 20;

    private static final Set<String> HEADER_KEYS = Set.of("descr", "fortran_order", "shape");

    private NpyFormat() {
    }

    // ---------------------------------------------------------------------------------------------
    // Writing

    /**
     * The magic, version, length and padded dict that {@code np.save} writes before the data of a
     * C-order array of this dtype and shape. Version 1.0 unless the header would not fit its 16-bit
     * length field (only with thousands of dimensions), then 2.0, as numpy does.
     */
    static byte[] encodeHeader(NpyDType dtype, int[] shape) {
        StringBuilder dict = new StringBuilder(128);
        dict.append("{'descr': '").append(dtype.descr()).append("', 'fortran_order': False, 'shape': ")
                .append(Shapes.toString(shape)).append(", }");
        if (shape.length > 0) {
            dict.append(" ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - Integer.toString(shape[0]).length())));
        }
        byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        int hlen = text.length + 1; // + the final '\n'
        int major = 1;
        int prefix = MAGIC.length + 2 + 2;
        // numpy: padlen = ARRAY_ALIGN - ((MAGIC_LEN + 2 + 2 + hlen) % ARRAY_ALIGN), which is 64, not
        // 0, when the unpadded header already ends on a boundary.
        int padlen = ARRAY_ALIGN - ((prefix + hlen) % ARRAY_ALIGN);
        if (hlen + padlen > 0xFFFF) {
            major = 2;
            prefix = MAGIC.length + 2 + 4;
            padlen = ARRAY_ALIGN - ((prefix + hlen) % ARRAY_ALIGN);
        }
        int total = prefix + hlen + padlen;
        byte[] out = new byte[total];
        System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
        out[6] = (byte) major;
        out[7] = 0;
        int len = hlen + padlen;
        out[8] = (byte) len;
        out[9] = (byte) (len >>> 8);
        if (major == 2) {
            out[10] = (byte) (len >>> 16);
            out[11] = (byte) (len >>> 24);
        }
        System.arraycopy(text, 0, out, prefix, text.length);
        Arrays.fill(out, prefix + text.length, total - 1, (byte) ' ');
        out[total - 1] = '\n';
        return out;
    }

    /** Writes the header and the data of {@code array}; does not flush or close. */
    static void write(OutputStream out, NpyArray array) throws IOException {
        out.write(encodeHeader(array.dtype(), array.shapeRef()));
        out.write(array.bytesRef());
    }

    // ---------------------------------------------------------------------------------------------
    // Reading

    /**
     * Reads and validates a header, leaving {@code in} at the first data byte.
     *
     * @param source    what to call the file in messages: a path, or "path: key 'k'"
     * @param knownSize total bytes of the .npy (file size, npz entry size), or -1 when unknown;
     *                  when known, the data must be exactly as long as the shape says
     */
    static NpyHeader readHeader(InputStream in, String source, long knownSize) throws IOException {
        byte[] pre = in.readNBytes(8);
        if (pre.length == 0) {
            throw error(source + ": empty (0 bytes), not a .npy array; re-create it with numpy.save");
        }
        int m = Math.min(pre.length, MAGIC.length);
        if (!Arrays.equals(pre, 0, m, MAGIC, 0, m)) {
            throw notNpy(source, pre);
        }
        if (pre.length < 8) {
            throw truncatedHeader(source, pre.length);
        }
        int major = pre[6] & 0xFF;
        int minor = pre[7] & 0xFF;
        if (major < 1 || major > 3 || minor != 0) {
            throw error(source + ": unsupported .npy format version " + major + "." + minor
                    + " (supported: 1.0, 2.0, 3.0); re-save it with numpy.save");
        }
        int lenBytes = major == 1 ? 2 : 4;
        byte[] lb = in.readNBytes(lenBytes);
        if (lb.length < lenBytes) {
            throw truncatedHeader(source, 8 + lb.length);
        }
        long hlen = (lb[0] & 0xFFL) | (lb[1] & 0xFFL) << 8;
        if (major > 1) {
            hlen |= (lb[2] & 0xFFL) << 16 | (lb[3] & 0xFFL) << 24;
        }
        int prefix = 8 + lenBytes;
        if (knownSize >= 0 && prefix + hlen > knownSize) {
            throw error(source + ": truncated .npy header: it says it is " + hlen + " bytes long but only "
                    + (knownSize - prefix) + " follow; the file was cut short, copy or save it again");
        }
        if (hlen > MAX_HEADER_LENGTH) {
            throw error(source + ": corrupt .npy header: its length field says " + hlen
                    + " bytes (numpy writes a few hundred); re-create the file with numpy.save");
        }
        byte[] hb = in.readNBytes((int) hlen);
        if (hb.length < hlen) {
            throw truncatedHeader(source, prefix + hb.length);
        }
        String text = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        return interpret(text, source, prefix + hlen, knownSize);
    }

    /** Validates the header dict and the sizes it implies. */
    private static NpyHeader interpret(String text, String source, long dataOffset, long knownSize) {
        Object parsed;
        try {
            parsed = PyLiteral.parse(text);
        } catch (PyLiteral.SyntaxError e) {
            throw error(source + ": corrupt .npy header (" + e.getMessage() + ") in \""
                    + IoErrors.quote(text.strip(), 120) + "\"; re-create the file with numpy.save");
        }
        if (!(parsed instanceof Map<?, ?> raw)) {
            throw error(source + ": corrupt .npy header: not a dict: \"" + IoErrors.quote(text.strip(), 120)
                    + "\"; re-create the file with numpy.save");
        }
        @SuppressWarnings("unchecked")
        Map<Object, PyLiteral.Entry> dict = (Map<Object, PyLiteral.Entry>) raw;
        if (!dict.keySet().equals(HEADER_KEYS)) {
            Set<String> have = new TreeSet<>();
            dict.keySet().forEach(k -> have.add(String.valueOf(k)));
            throw error(source + ": corrupt .npy header: its keys are " + have
                    + ", expected [descr, fortran_order, shape]; re-create the file with numpy.save");
        }

        PyLiteral.Entry descrEntry = dict.get("descr");
        Optional<NpyDType> dtype = descrEntry.value() instanceof String d ? NpyDType.fromDescr(d) : Optional.empty();
        if (dtype.isEmpty()) {
            throw unsupportedDtype(source, descrEntry);
        }

        if (!(dict.get("fortran_order").value() instanceof Boolean fortran)) {
            throw error(source + ": corrupt .npy header: fortran_order is " + IoErrors.quote(
                    dict.get("fortran_order").text(), 40) + ", not True or False; re-create the file with numpy.save");
        }

        Object shapeValue = dict.get("shape").value();
        if (!(shapeValue instanceof PyLiteral.Tuple(List<Object> items))) {
            throw error(source + ": corrupt .npy header: shape is " + IoErrors.quote(dict.get("shape").text(), 60)
                    + ", not a tuple of integers; re-create the file with numpy.save");
        }
        long[] dims = new long[items.size()];
        BigInteger count = BigInteger.ONE;
        for (int i = 0; i < dims.length; i++) {
            if (!(items.get(i) instanceof BigInteger d) || d.signum() < 0) {
                throw error(source + ": corrupt .npy header: shape " + IoErrors.quote(dict.get("shape").text(), 60)
                        + " is not a tuple of non-negative integers; re-create the file with numpy.save");
            }
            if (d.bitLength() > 31) {
                throw error(source + ": shape " + IoErrors.quote(dict.get("shape").text(), 60) + " has dimension "
                        + d + ", larger than bit-engine supports (" + Integer.MAX_VALUE
                        + "); the header is corrupt or the array must be split with numpy");
            }
            dims[i] = d.longValue();
            count = count.multiply(d);
        }
        String what = dtype.get().descr() + " " + Shapes.toString(dims);

        // An array with at most one dimension longer than 1 has the same bytes in C and Fortran
        // order (numpy itself writes fortran_order False for them), so only the others are refused.
        if (fortran) {
            int longDims = 0;
            for (long d : dims) {
                longDims += d > 1 ? 1 : 0;
            }
            if (longDims > 1) {
                throw error(source + ": " + what + " is stored in Fortran order, which bit-engine does not read;"
                        + " re-save it in C order with np.save(f, np.ascontiguousarray(a))");
            }
        }

        BigInteger dataLength = count.multiply(BigInteger.valueOf(dtype.get().itemSize()));
        // Size checks come before the element-count limit: for a header whose shape asks for more
        // than the file holds, "truncated" is the diagnosis that helps, and nothing is allocated.
        if (knownSize >= 0) {
            BigInteger available = BigInteger.valueOf(knownSize - dataOffset);
            int cmp = dataLength.compareTo(available);
            if (cmp > 0) {
                throw truncatedData(source, what, dataLength.toString(), available.longValue());
            }
            if (cmp < 0) {
                throw error(source + ": " + available.subtract(dataLength) + " unexpected bytes after the data of "
                        + what + " (" + dataLength + " bytes); the file is corrupt or not a single .npy array,"
                        + " re-create it with numpy.save");
            }
        }
        if (count.compareTo(BigInteger.valueOf(Integer.MAX_VALUE)) > 0) {
            throw error(source + ": " + what + " has " + count + " elements, more than one bit-engine array holds ("
                    + Integer.MAX_VALUE + "); split it into smaller arrays with numpy");
        }
        int[] shape = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            shape[i] = (int) dims[i];
        }
        return new NpyHeader(dtype.get(), shape, dataOffset, dataLength.longValue());
    }

    /**
     * Reads a whole array: header, then data.
     *
     * @param knownSize    as in {@link #readHeader}; when -1, reading stops after the data and does
     *                     not look for trailing bytes (a stream may hold several arrays one after
     *                     another, as numpy allows)
     * @param sizeIsOnDisk true when {@code knownSize} is backed by bytes that exist (a file's length,
     *                     a STORED entry inside the file), so the data buffer may be allocated at once;
     *                     false for sizes that are only claims, like a DEFLATED entry's uncompressed size
     */
    static NpyArray readArray(InputStream in, String source, long knownSize, boolean sizeIsOnDisk) throws IOException {
        NpyHeader h = readHeader(in, source, knownSize);
        byte[] data = readData(in, h, source, knownSize >= 0 && sizeIsOnDisk);
        return new NpyArray(h.dtype(), h.shape(), data, source);
    }

    /**
     * Reads the data of a header just read from {@code in}.
     *
     * @param sizeVerified true when {@link #readHeader} checked the data length against a size
     *                     backed by bytes on disk, so the whole buffer may be allocated at once
     */
    static byte[] readData(InputStream in, NpyHeader h, String source, boolean sizeVerified) throws IOException {
        long length = h.dataLength();
        if (length > MAX_ARRAY_BYTES) {
            throw error(source + ": " + h.dtype().descr() + " " + h.shapeString() + " is " + length
                    + " bytes, more than one Java array holds (2 GiB); split it into smaller arrays with numpy");
        }
        int n = (int) length;
        // Grow the buffer as bytes actually arrive instead of trusting the header: a corrupt header on
        // a stream of unknown length must not make us allocate gigabytes for a 100-byte file.
        byte[] buf = new byte[sizeVerified ? n : Math.min(n, CHUNK)];
        int filled = 0;
        while (filled < n) {
            if (filled == buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
            }
            int r = in.read(buf, filled, Math.min(buf.length - filled, CHUNK));
            if (r < 0) {
                throw truncatedData(source, h.dtype().descr() + " " + h.shapeString(), Long.toString(length), filled);
            }
            filled += r;
        }
        return buf;
    }

    // ---------------------------------------------------------------------------------------------
    // Messages

    private static RuntimeException notNpy(String source, byte[] start) {
        if (start.length >= ZIP_MAGIC.length && Arrays.equals(start, 0, ZIP_MAGIC.length, ZIP_MAGIC, 0, ZIP_MAGIC.length)) {
            return error(source + ": is a zip archive (an .npz?), not a .npy array; open it with NpzReader");
        }
        return error(source + ": not a .npy file (it does not start with the \\x93NUMPY magic); check the path"
                + " and save the array with numpy.save");
    }

    private static RuntimeException truncatedHeader(String source, long have) {
        return error(source + ": truncated .npy header (the data ends after " + have
                + " bytes); the file was cut short, copy or save it again");
    }

    private static RuntimeException truncatedData(String source, String what, String need, long have) {
        return error(source + ": truncated: the header says " + what + ", i.e. " + need
                + " bytes of data, but only " + have + " follow; the file was cut short, copy or save it again");
    }

    private static RuntimeException unsupportedDtype(String source, PyLiteral.Entry descr) {
        String shown = IoErrors.quote(descr.text(), 80);
        String advice;
        if (descr.value() instanceof String d && d.length() > 1 && d.charAt(0) == '>'
                && NpyDType.fromDescr("<" + d.substring(1)).isPresent()) {
            advice = "re-save it with numpy as little-endian: np.save(f, a.astype(a.dtype.newbyteorder('<')))";
        } else if (descr.value() instanceof String d && d.endsWith("O")) {
            advice = "object arrays hold pickled Python objects; convert it to a numeric array with numpy first";
        } else {
            advice = "convert it with numpy first, e.g. np.save(f, a.astype(np.float32))";
        }
        return error(source + ": unsupported dtype " + shown + " (supported: " + NpyDType.supportedList() + "); "
                + advice);
    }
}
