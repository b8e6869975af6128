package org.bitengine.io.keras;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.IoErrors;
import org.bitengine.io.npy.NpyArray;

import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;

/**
 * Reads the weights of a Keras HDF5 file ({@link KerasWeights} describes both layouts) with jhdf.
 *
 * <p>TF-Keras ({@code keras/saving/legacy/hdf5_format.py}, {@code save_weights_to_hdf5_group}): the
 * root (or its {@code model_weights} group, for a file written by {@code model.save}) carries the
 * attribute {@code layer_names}; each layer is a group with the attribute {@code weight_names}, and
 * each weight a dataset at {@code <layer>/<weight name>}, e.g.
 * {@code block1a_dwconv/block1a_dwconv/depthwise_kernel:0}. An attribute too large for one HDF5
 * object header is split by Keras into {@code layer_names0}, {@code layer_names1}, …, and read back
 * joined.
 *
 * <p>Keras 3 ({@code keras/src/saving/saving_lib.py}, {@code H5IOStore}/{@code H5Entry}): every
 * saveable object at inner path {@code p} writes its variables as datasets {@code p/vars/0},
 * {@code p/vars/1}, …; a functional model's layers sit under {@code layers/<snake_case class
 * name>[_<n>]}, nested models one level deeper. TF-Keras 2.13's variant puts them under
 * {@code _layer_checkpoint_dependencies} instead of {@code layers}; both are read.
 *
 * <p>Float32, float64 and float16 (read as float32), int32 and int64 datasets are read; anything
 * else, a missing dataset, a dataset claiming more bytes than the file holds, or a file jhdf cannot
 * parse is one {@link BitEngineException} line naming the file and the dataset.
 */
public final class KerasH5 {

    /** The 8-byte HDF5 format signature. */
    public static final byte[] SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    /** Nested Keras 3 objects deeper than this are not followed (HDF5 links may form cycles). */
    private static final int MAX_DEPTH = 64;

    /** The largest ratio of decompressed to stored bytes accepted for a compressed dataset. */
    private static final long MAX_EXPANSION = 1100;

    private static final Pattern TRAILING_NUMBER = Pattern.compile("(|.*_)(\\d+)");

    private KerasH5() {}

    /**
     * Where the HDF5 superblock starts: the signature is at byte 0, or after a user block at 512,
     * 1024, 2048, … (HDF5 file format specification, "Format Signature"); −1 when there is none.
     */
    public static long signatureOffset(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer b = ByteBuffer.allocate(SIGNATURE.length);
            for (long at = 0; at + SIGNATURE.length <= size; at = at == 0 ? 512 : at * 2) {
                b.clear();
                while (b.hasRemaining() && ch.read(b, at + b.position()) > 0) {
                    // read until the 8 bytes are in
                }
                if (!b.hasRemaining() && Arrays.equals(b.array(), SIGNATURE)) return at;
            }
            return -1;
        } catch (IOException e) {
            throw IoErrors.error(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    /**
     * Refuses a file shorter than its superblock's end-of-file address says (a truncated download):
     * jhdf would otherwise follow addresses past the end, and on crafted files of this kind it was
     * found looping without end (fuzzing, a 160-byte file). The address sits after the fixed fields
     * of superblock version 0 (16 bytes), 1 (20) or 2/3 (4), behind the base and one more address,
     * and counts from the base address (HDF5 file format specification, "Superblock").
     */
    static void checkEndOfFile(Path file, long signatureAt, long fileSize) {
        ByteBuffer b = ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (b.hasRemaining() && ch.read(b, signatureAt + b.position()) > 0) {
                // read the superblock's first bytes (fewer in a tiny file)
            }
        } catch (IOException e) {
            throw IoErrors.error(file + ": cannot read: " + IoErrors.reason(e), e);
        }
        int have = b.position();
        int version = have > 8 ? b.get(8) & 0xff : -1;
        int fixed = switch (version) {
            case 0 -> 16;
            case 1 -> 20;
            case 2, 3 -> 4;
            default -> -1;
        };
        int offsetSize = version < 0 ? 0 : b.get(version <= 1 ? 13 : 9) & 0xff;
        if (fixed < 0 || offsetSize != 8) return; // an unusual layout: jhdf judges it
        int baseAt = 8 + fixed;
        if (have < baseAt + 3 * offsetSize) {
            throw IoErrors.error(file + ": truncated: the HDF5 superblock is cut off after " + have + " bytes");
        }
        long base = b.getLong(baseAt);
        long end = b.getLong(baseAt + 2 * offsetSize);
        if (base < 0 || end < 0 || base > fileSize || end > fileSize - base) {
            throw IoErrors.error(file + ": truncated or damaged: its HDF5 superblock says the file ends at byte "
                    + Long.toUnsignedString(base) + " + " + Long.toUnsignedString(end) + ", but it has " + fileSize
                    + " bytes; download or copy it again");
        }
    }

    /** Whether the file starts (at one of the allowed offsets) with the HDF5 signature. */
    public static boolean isHdf5(Path file) {
        return signatureOffset(file) >= 0;
    }

    /** Reads every layer and variable of a Keras weight file into memory (see {@link #open} to read them one at a time). */
    public static KerasWeights read(Path file) {
        try (Reader r = open(file)) {
            return r.readAll();
        }
    }

    /**
     * Opens a Keras weight file and reads its structure: every layer, and every variable's name and shape, each checked
     * as {@link #read} checks it; the values stay in the file until {@link Reader#read} asks for them, so a file larger
     * than the heap can be copied one array at a time.
     */
    public static Reader open(Path file) {
        if (!Files.isRegularFile(file)) throw IoErrors.error(file + ": no such file");
        if (signatureOffset(file) < 0) {
            throw IoErrors.error(file + ": not an HDF5 file (no HDF5 signature at byte 0, 512, 1024, …); expected a Keras .h5 or .weights.h5");
        }
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (IOException e) {
            throw IoErrors.error(file + ": cannot read: " + IoErrors.reason(e), e);
        }
        checkEndOfFile(file, signatureOffset(file), fileSize);
        HdfFile h5;
        try {
            h5 = openHdf(file, fileSize);
        } catch (IOException e) {
            throw IoErrors.error(file + ": cannot read: " + IoErrors.reason(e), e);
        } catch (RuntimeException e) {
            throw damaged(file, e);
        }
        try {
            return new Reader(file, fileSize, h5);
        } catch (RuntimeException e) {
            h5.close();
            throw e instanceof BitEngineException b ? b : damaged(file, e);
        }
    }

    /** jhdf reports a damaged or truncated file with a variety of runtime exceptions; this is their one-line error. */
    private static BitEngineException damaged(Path file, RuntimeException e) {
        return IoErrors.error(file + ": cannot read this HDF5 file (truncated or damaged?): " + IoErrors.reason(e), e);
    }

    /**
     * jhdf over a read-only mapping of the file when it fits one buffer (every Keras EfficientNet and BiT up to
     * R101x3): jhdf then reads each structure as a bounds-checked slice of the mapping, where over a file
     * channel it allocates whatever an object header's size field says (a 792-byte file asked for 117 MB).
     * A larger file goes through the channel; it can back any single allocation an int size field asks for.
     */
    private static HdfFile openHdf(Path file, long fileSize) throws IOException {
        if (fileSize > Integer.MAX_VALUE) return new HdfFile(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            // The mapping stays valid after the channel closes.
            return HdfFile.fromByteBuffer(channel.map(FileChannel.MapMode.READ_ONLY, 0, fileSize));
        }
    }

    /**
     * An open Keras weight file: its layout, attributes and layers, with every variable's name and shape, read and
     * checked when it opens; a variable's values are read when {@link #read} asks for them. Closing it releases the file.
     */
    public static final class Reader implements AutoCloseable {

        /** A variable as stored: its name within the layer (see {@link KerasWeights}), its path in the file, its shape. */
        public record StoredVariable(String name, String path, int[] shape) {}

        /** A layer (or Keras 3 object) and its variables in stored order. */
        public record StoredLayer(String name, List<StoredVariable> variables) {

            public StoredLayer {
                variables = List.copyOf(variables);
            }
        }

        private final Path file;
        private final long fileSize;
        private final HdfFile h5;
        /** Each variable's dataset, by {@link StoredVariable#path}. */
        private final Map<String, Dataset> datasets = new HashMap<>();
        private final KerasWeights.Layout layout;
        private final List<StoredLayer> layers;
        private final Map<String, String> attributes = new LinkedHashMap<>();

        private Reader(Path file, long fileSize, HdfFile h5) {
            this.file = file;
            this.fileSize = fileSize;
            this.h5 = h5;
            for (String a : List.of("keras_version", "backend")) {
                String v = stringAttribute(h5, a);
                if (v != null) attributes.put(a, v);
            }
            Group root = h5;
            if (h5.getChild("model_weights") instanceof Group mw && strings(mw, "layer_names") != null) root = mw;
            List<String> layerNames = strings(root, "layer_names");
            if (layerNames != null) {
                layout = KerasWeights.Layout.TF_KERAS;
                layers = tfKeras(root, layerNames);
            } else if (h5.getChild("layers") instanceof Group || h5.getChild("_layer_checkpoint_dependencies") instanceof Group
                    || h5.getChild("vars") instanceof Group) {
                layout = KerasWeights.Layout.KERAS3;
                List<StoredLayer> found = new ArrayList<>();
                keras3(h5, "", 0, new HashSet<>(), found);
                layers = List.copyOf(found);
            } else {
                throw IoErrors.error(file + ": an HDF5 file, but not Keras weights: no 'layer_names' attribute (TF-Keras .h5) and no "
                        + "'layers/…/vars' groups (Keras 3 .weights.h5)");
            }
        }

        public KerasWeights.Layout layout() {
            return layout;
        }

        /** Every layer in file order (TF-Keras) or path order (Keras 3), with or without variables. */
        public List<StoredLayer> layers() {
            return layers;
        }

        /** The root's string attributes of interest ({@code keras_version}, {@code backend}), when present. */
        public Map<String, String> attributes() {
            return Map.copyOf(attributes);
        }

        /** How many variables the file holds. */
        public int variableCount() {
            return layers.stream().mapToInt(l -> l.variables().size()).sum();
        }

        /** One variable's values as stored (float16 as float32). */
        public NpyArray read(StoredVariable v) {
            Object flat = flat(v);
            try {
                return switch (flat) {
                    case float[] f -> NpyArray.ofFloats(v.shape(), f);
                    case double[] f -> NpyArray.ofDoubles(v.shape(), f);
                    case int[] f -> NpyArray.ofInts(v.shape(), f);
                    case long[] f -> NpyArray.ofLongs(v.shape(), f);
                    default -> throw IoErrors.error(file + ": dataset '" + v.path() + "' read as " + flat.getClass().getSimpleName()
                            + "; expected a numeric array");
                };
            } catch (IllegalArgumentException e) {
                throw damaged(file, e); // fewer values than the shape says
            }
        }

        /** One variable's values as float32; a float32 dataset (all of BiT's) without the copy into an {@link NpyArray}. */
        public float[] readFloats(StoredVariable v) {
            return flat(v) instanceof float[] f ? f : read(v).toFloats();
        }

        /** Every variable's values, in memory. */
        public KerasWeights readAll() {
            List<KerasWeights.Layer> out = new ArrayList<>(layers.size());
            for (StoredLayer l : layers) {
                List<KerasWeights.Variable> vars = new ArrayList<>(l.variables().size());
                for (StoredVariable v : l.variables()) vars.add(new KerasWeights.Variable(v.name(), read(v)));
                out.add(new KerasWeights.Layer(l.name(), vars));
            }
            return new KerasWeights(layout, out, attributes);
        }

        @Override
        public void close() {
            h5.close();
        }

        private Object flat(StoredVariable v) {
            Dataset d = datasets.get(v.path());
            if (d == null) throw new IllegalArgumentException(file + ": no variable '" + v.path() + "'");
            try {
                return d.getDataFlat();
            } catch (RuntimeException e) {
                throw damaged(file, e);
            }
        }

        private List<StoredLayer> tfKeras(Group root, List<String> layerNames) {
            List<StoredLayer> found = new ArrayList<>(layerNames.size());
            for (String name : layerNames) {
                // A layer name may hold a '/' (BiT's "head/dense"), which h5py stores as nested groups.
                if (!(child(root, name) instanceof Group g)) {
                    throw IoErrors.error(file + ": layer '" + name + "' is listed in layer_names but has no group in the file");
                }
                List<String> weightNames = strings(g, "weight_names");
                List<StoredVariable> vars = new ArrayList<>();
                for (String w : weightNames == null ? List.<String>of() : weightNames) {
                    if (!(child(g, w) instanceof Dataset d)) {
                        throw IoErrors.error(file + ": weight '" + name + "/" + w + "' is listed in weight_names but has no dataset");
                    }
                    vars.add(stored(w, name + "/" + w, d));
                }
                found.add(new StoredLayer(name, vars));
            }
            return List.copyOf(found);
        }

        private static Node child(Group g, String path) {
            try {
                return g.getByPath(path);
            } catch (RuntimeException e) {
                return null; // jhdf throws for a path that does not exist
            }
        }

        /** Depth-first over the groups: a group with a {@code vars} child is one object; children in natural name order. */
        private void keras3(Group g, String path, int depth, Set<Long> seen, List<StoredLayer> out) {
            if (depth > MAX_DEPTH || !seen.add(g.getAddress())) return;
            if (g.getChild("vars") instanceof Group vars) {
                List<Node> datasets = new ArrayList<>(vars.getChildren().values());
                datasets.sort(Comparator.comparing(Node::getName, KerasH5::naturalOrder));
                List<StoredVariable> v = new ArrayList<>();
                for (Node n : datasets) {
                    if (!(n instanceof Dataset d)) {
                        throw IoErrors.error(file + ": '" + n.getPath() + "' is not a dataset; a Keras 3 vars group holds datasets only");
                    }
                    v.add(stored(n.getName(), n.getPath(), d));
                }
                out.add(new StoredLayer(path, v));
            }
            List<Node> children = new ArrayList<>(g.getChildren().values());
            children.sort(Comparator.comparing(Node::getName, KerasH5::naturalOrder));
            for (Node c : children) {
                if (c instanceof Group child && !c.getName().equals("vars")) {
                    keras3(child, path.isEmpty() ? c.getName() : path + "/" + c.getName(), depth + 1, seen, out);
                }
            }
        }

        /** A dataset as a variable named {@code name}, after checking its datatype and that the file can back its size. */
        private StoredVariable stored(String name, String where, Dataset d) {
            if (d.isCompound() || d.isVariableLength()) {
                throw IoErrors.error(file + ": dataset '" + where + "' has an unsupported datatype (compound or variable-length); "
                        + "expected float32, float64, float16, int32 or int64");
            }
            int[] shape = d.isScalar() ? new int[0] : d.getDimensions();
            long bytes = d.getSizeInBytes();
            if (d.getSize() > Integer.MAX_VALUE - 8 || bytes > Integer.MAX_VALUE - 8) {
                throw IoErrors.error(file + ": dataset '" + where + "' has " + d.getSize() + " elements, more than one array can hold");
            }
            if (d.getFilters().isEmpty() && bytes > fileSize) {
                throw IoErrors.error(file + ": dataset '" + where + "' of shape " + Arrays.toString(shape) + " needs " + bytes
                        + " bytes but the file has " + fileSize + " (truncated or damaged?)");
            }
            // Deflate expands at most ~1032:1 (and shuffle not at all), so a compressed dataset cannot honestly
            // claim more than that over what it stores: refuse a damaged size before allocating it.
            long stored = d.getFilters().isEmpty() ? bytes : d.getStorageInBytes();
            if (!d.getFilters().isEmpty() && (stored > fileSize || bytes > MAX_EXPANSION * Math.max(stored, 1))) {
                throw IoErrors.error(file + ": compressed dataset '" + where + "' of shape " + Arrays.toString(shape) + " claims " + bytes
                        + " bytes from " + stored + " stored (the file has " + fileSize + "; damaged?)");
            }
            Class<?> type = d.getJavaType(); // boxed for a scalar dataset
            if (!List.of(float.class, double.class, int.class, long.class, Float.class, Double.class, Integer.class, Long.class).contains(type)) {
                throw IoErrors.error(file + ": dataset '" + where + "' has an unsupported datatype " + d.getDataType().getClass().getSimpleName()
                        + " (Java " + type.getSimpleName() + "); expected float32, float64, float16, int32 or int64");
            }
            datasets.put(where, d);
            return new StoredVariable(name, where, shape);
        }

        /** A string-array attribute, or null when absent; Keras' chunked {@code name0}, {@code name1}, … are joined. */
        private List<String> strings(Node n, String name) {
            Attribute a = n.getAttribute(name);
            if (a != null) return stringList(n, a);
            if (n.getAttribute(name + "0") == null) return null;
            List<String> all = new ArrayList<>();
            for (int i = 0; n.getAttribute(name + i) != null; i++) all.addAll(stringList(n, n.getAttribute(name + i)));
            return all;
        }

        private List<String> stringList(Node n, Attribute a) {
            if (a.isEmpty()) return List.of();
            Object data = a.getData();
            List<String> out = new ArrayList<>();
            switch (data) {
                case String s -> out.add(s);
                case String[] s -> out.addAll(Arrays.asList(s));
                case byte[] b -> out.add(new String(b, StandardCharsets.UTF_8));
                default -> throw IoErrors.error(file + ": attribute '" + a.getName() + "' of '" + n.getPath()
                        + "' is not a list of strings (" + data.getClass().getSimpleName() + ")");
            }
            return out;
        }

        private String stringAttribute(Node n, String name) {
            Attribute a = n.getAttribute(name);
            if (a == null || a.isEmpty()) return null;
            return a.getData() instanceof String s ? s : null;
        }
    }

    /**
     * Names compared with their trailing numbers as numbers, so {@code conv2d_2} sorts before {@code conv2d_10}
     * and the variable {@code 2} before {@code 10}.
     */
    static int naturalOrder(String a, String b) {
        Matcher ma = TRAILING_NUMBER.matcher(a), mb = TRAILING_NUMBER.matcher(b);
        if (ma.matches() && mb.matches() && ma.group(1).equals(mb.group(1)) && ma.group(2).length() < 10 && mb.group(2).length() < 10) {
            return Long.compare(Long.parseLong(ma.group(2)), Long.parseLong(mb.group(2)));
        }
        return a.compareTo(b);
    }
}
