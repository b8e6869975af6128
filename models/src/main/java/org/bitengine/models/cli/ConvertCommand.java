package org.bitengine.models.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.nn.LoadReport;
import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.io.checkpoint.MapWeights;
import org.bitengine.io.checkpoint.NpzWeights;
import org.bitengine.io.keras.KerasH5;
import org.bitengine.io.keras.KerasWeights;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzWriter;
import org.bitengine.io.safetensors.SafeTensors;
import org.bitengine.io.torch.TorchStateDict;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitKerasNames;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.bitengine.models.efficientnet.KerasNames;
import org.bitengine.models.efficientnet.TimmNames;
import org.bitengine.models.efficientnet.TorchvisionNames;
import org.bitengine.models.registry.ModelMeta;
import org.bitengine.models.registry.Models;
import org.bitengine.io.image.Preprocessing;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code convert IN OUT.npz [--from torch|safetensors|npz|keras] [--arch efficientnet-b0…b7|tf-efficientnet-b0…b7|bit] [--allow-partial]}:
 * a checkpoint of another framework → our canonical .npz, self-described by {@code meta/*} entries so
 * that {@code info} and {@code predict} need no flags.
 *
 * <h2>Input format</h2>
 * Detected from the first bytes unless {@code --from} names it: a zip with a {@code data.pkl} entry is a
 * PyTorch {@code torch.save} file; an 8-byte little-endian header length followed by {@code {} is
 * safetensors; a zip of {@code .npy} entries is an .npz; the HDF5 signature (at byte 0, or after a user
 * block at 512, 1024, …) is a Keras {@code .h5} (TF-Keras) or {@code .weights.h5} (Keras 3), read by
 * {@link KerasH5}.
 *
 * <h2>Architecture</h2>
 * Detected from the keys unless {@code --arch} names it: torchvision EfficientNet
 * ({@code features.0.0.weight}, {@code classifier.1.weight}; {@link TorchvisionNames}), timm EfficientNet
 * ({@code conv_stem.weight}, {@code blocks.0.0.conv_dw.weight}; {@link TimmNames}), Keras EfficientNet
 * ({@link KerasNames}), BiT from the official TF2 Keras .h5 ({@link BitKerasNames}), EfficientNet
 * already in our naming, or BiT in the official naming (re-written as it is). The variant B0–B7 is
 * matched on stem width, blocks (per stage) and head width, the classes come from the classifier.
 * PyTorch kernels become HWIO, the Linear [out,in] becomes [in,out], {@code num_batches_tracked} is
 * dropped. timm's keys do not say whether the file is an {@code efficientnet_bN} (symmetric padding,
 * BatchNorm eps 1e-5, convention "timm") or a TensorFlow port {@code tf_efficientnet_bN} ("SAME"
 * padding, eps 1e-3, convention "timm-tf"): the latter is chosen by {@code --arch tf-efficientnet-bN}
 * or a file name containing {@code tf_efficientnet}. Keras files get convention "keras" (correct_pad,
 * eps 1e-3) and preprocessing "keras-builtin" with the constants of the file's Normalization layer.
 *
 * <h2>Output</h2>
 * Every model parameter as float32 under our names (see {@link org.bitengine.models.efficientnet.EfficientNet}
 * and {@link org.bitengine.models.bit.BitResNet}), plus the metadata of {@link ModelMeta}:
 *
 * <pre>
 * meta/arch           |u1 UTF-8  "efficientnet-b0" … "efficientnet-b7" | "bit"
 * meta/convention     |u1 UTF-8  "torchvision" | "timm" (symmetric padding) | "keras" | "timm-tf" (correct_pad) | "bit"
 * meta/preprocessing  |u1 UTF-8  "imagenet-mean-std" (torchvision, timm) | "minus1-1" (BiT) | "keras-builtin"
 * meta/input_mean     &lt;f8 [3]   the preprocessing's mean of x/255 (RGB)
 * meta/input_std      &lt;f8 [3]   the preprocessing's divisor (RGB)
 * meta/bn_eps         &lt;f8 scalar BatchNorm epsilon (EfficientNet only)
 * meta/classes        &lt;i8 scalar classifier outputs
 * meta/source         |u1 UTF-8  e.g. "torch:b0_tv.pth" (informational)
 * </pre>
 *
 * The load report (applied, missing, unused, shape-mismatched) is printed; a file that would not load
 * (a missing or mismatched key) is refused unless {@code --allow-partial}, which writes the applied
 * arrays only. Unused keys are never written. Any failure writes nothing (the .npz is committed last).
 *
 * <h2>Memory</h2>
 * PyTorch, safetensors and .npz inputs stream: the architecture and the load report come from the
 * keys and the shapes in the file's headers ({@link Models#check}: the model is built without
 * values), then each array is read, renamed, re-laid out and written before the next is read. So
 * converting needs about one array's worth of heap (a few times its size, for the copies), not the
 * checkpoint's. So does a BiT Keras .h5 ({@link KerasH5#open} reads the structure, {@link BitKerasNames#source}
 * each array on request); a Keras EfficientNet (at most 260 MB) is read whole.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a PyTorch (.pth/.pt), safetensors, Keras (.h5 / .weights.h5) or .npz checkpoint into bit-engine's .npz:",
            "torchvision, timm or Keras EfficientNet B0-B7; BiT as .npz or as the official TF2 Keras .h5.",
            "Writes metadata (meta/*) so that info and predict need no flags.",
            "Format and architecture are detected unless --from / --arch name them.",
            "Refuses to write a file that would not load (missing or mismatched keys) unless --allow-partial.",
            "PyTorch, safetensors, .npz and BiT Keras .h5 inputs are copied one array at a time, so a checkpoint larger than the Java heap converts."})
final class ConvertCommand implements Runnable {

    enum Format { torch, safetensors, npz, keras }

    @Parameters(index = "0", paramLabel = "IN", description = "The checkpoint to convert (.pth/.pt, .safetensors, .h5/.weights.h5 or .npz).")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.npz", description = "Where to write the converted checkpoint.")
    Path out;

    @Option(names = "--from", paramLabel = "FORMAT", description = "Input format: ${COMPLETION-CANDIDATES} (default: detected from the file's first bytes).")
    Format from;

    @Option(names = "--arch", paramLabel = "ARCH",
            description = {"Architecture: efficientnet-b0 … efficientnet-b7, tf-efficientnet-b0 … b7 (timm's TensorFlow ports: 'SAME' padding, "
                + "BatchNorm eps 1e-3) or bit (default: detected from the keys and shapes)."})
    String arch;

    @Option(names = "--allow-partial", description = "Write the arrays that fit even when keys are missing or have the wrong shape.")
    boolean allowPartial;

    @Spec
    CommandSpec spec;

    /** {@code --arch tf-efficientnet-bN} (or a file name saying tf_efficientnet): timm's TensorFlow port. */
    private boolean tfPort;

    @Override
    public void run() {
        if (!Files.isRegularFile(in)) throw new BitEngineException(in + ": no such file; give the checkpoint to convert");
        Path outDir = out.toAbsolutePath().getParent();
        if (outDir == null || !Files.isDirectory(outDir)) {
            throw new BitEngineException(out + ": directory " + outDir + " does not exist; create it or choose another OUT.npz");
        }
        if (arch != null) {
            String a = arch.toLowerCase(Locale.ROOT).replace('_', '-');
            if (a.startsWith("tf-efficientnet-")) {
                tfPort = true;
                a = a.substring("tf-".length());
            }
            if (!a.equals("bit") && !Models.EFFICIENTNET_ARCHS.contains(a)) {
                throw new BitEngineException("unknown --arch '" + arch + "'; use bit or one of " + String.join(", ", Models.EFFICIENTNET_ARCHS)
                        + " (tf-efficientnet-b0 … b7 for timm's TensorFlow ports)");
            }
            arch = a;
        }
        String name = in.getFileName().toString().toLowerCase(Locale.ROOT).replace('-', '_');
        if (name.contains("tf_efficientnet")) tfPort = true;
        PrintWriter o = spec.commandLine().getOut();
        Format format = from != null ? from : detect(in);
        try {
            switch (format) {
                case torch -> {
                    try (TorchStateDict.Reader r = TorchStateDict.open(in)) {
                        convert(r, ModelMeta.NONE, format, o);
                    }
                }
                case safetensors -> {
                    try (SafeTensors.Reader r = SafeTensors.open(in)) {
                        convert(r, ModelMeta.NONE, format, o);
                    }
                }
                case keras -> {
                    try (KerasH5.Reader r = KerasH5.open(in)) {
                        convertKeras(r, o);
                    }
                }
                case npz -> {
                    ModelMeta meta = Models.meta(in);
                    try (NpzWeights w = NpzWeights.open(in)) {
                        convert(w, meta, format, o);
                    }
                }
            }
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new BitEngineException(in + ": " + e.getMessage());
        }
    }

    /** The format from the first bytes (and, for a zip, its entry names). */
    static Format detect(Path file) {
        byte[] head = new byte[16];
        int n;
        long size;
        try (InputStream s = Files.newInputStream(file)) {
            n = s.readNBytes(head, 0, head.length);
            size = Files.size(file);
        } catch (IOException e) {
            throw new BitEngineException(file + ": cannot read: " + e.getMessage());
        }
        if (KerasH5.isHdf5(file)) return Format.keras;
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            List<String> names = new ArrayList<>();
            try (ZipFile zip = new ZipFile(file.toFile())) {
                for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements();) names.add(e.nextElement().getName());
            } catch (IOException e) {
                throw new BitEngineException(file + ": a zip archive that cannot be read (truncated or damaged?): " + e.getMessage());
            }
            if (names.stream().anyMatch(x -> x.equals("data.pkl") || x.endsWith("/data.pkl"))) return Format.torch;
            if (!names.isEmpty() && names.stream().allMatch(x -> x.endsWith(".npy"))) return Format.npz;
            throw new BitEngineException(file + ": a zip archive that is neither a PyTorch checkpoint (no data.pkl) nor an .npz (entries other than .npy)");
        }
        if (n >= 9 && head[8] == '{') {
            long len = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (len > 0 && len <= size - 8) return Format.safetensors;
            throw new BitEngineException(file + ": looks like safetensors but its header length " + len + " exceeds the file's "
                    + size + " bytes (truncated?)");
        }
        throw new BitEngineException(file + ": not a checkpoint: expected a PyTorch .pth/.pt (zip with data.pkl), "
                + ".safetensors, Keras .h5 (HDF5) or .npz file; use --from to name the format");
    }

    private static boolean isTorchvisionEfficientNet(Set<String> keys) {
        return keys.contains("features.0.0.weight") && keys.contains("classifier.1.weight");
    }

    private void refuseBit(String what) {
        if (arch != null && arch.equals("bit")) throw new BitEngineException(in + ": --arch bit, but this is " + what);
    }

    /** {@code raw}: the input under its own names, read array by array. */
    private void convert(WeightSource raw, ModelMeta meta, Format format, PrintWriter o) {
        String file = in.toString();
        WeightSource ours = raw;
        Models.Spec spec;
        int dropped = 0;
        if (isTorchvisionEfficientNet(raw.keys())) {
            refuseBit("a torchvision EfficientNet state dict (features.0.0.weight, classifier.1.weight)");
            int classes = raw.shape("classifier.1.weight").dim(0);
            String a = arch != null ? arch : detectTorchvision(raw, file);
            EfficientNetConfig config = EfficientNetConfig.preset(a.substring("efficientnet-".length()), classes);
            ours = TorchvisionNames.of(config).source(raw);
            dropped = (int) raw.keys().stream().filter(TorchvisionNames::isDropped).count();
            spec = Models.fromArch(a, ours, new ModelMeta(Map.of(ModelMeta.CONVENTION, "torchvision"), null, null), file);
        } else if (TimmNames.matches(raw.keys())) {
            refuseBit("a timm EfficientNet state dict (conv_stem.weight, blocks.0.0.conv_dw.weight)");
            TimmNames names = TimmNames.inferFrom(raw.keys());
            String a = arch != null ? arch : detectTimm(names, raw, file);
            int classes = raw.keys().contains("classifier.weight") ? raw.shape("classifier.weight").dim(0) : 1000;
            EfficientNetConfig config = EfficientNetConfig.preset(a.substring("efficientnet-".length()), classes);
            ours = TimmNames.of(config).source(raw);
            dropped = (int) raw.keys().stream().filter(TorchvisionNames::isDropped).count();
            spec = Models.fromArch(a, ours, new ModelMeta(Map.of(ModelMeta.CONVENTION, tfPort ? "timm-tf" : "timm"), null, null), file);
        } else if (arch != null) {
            spec = Models.fromArch(arch, ours, meta, file);
        } else if (meta.arch() == null && !raw.keys().contains(BitConfig.ROOT_KERNEL) && !raw.keys().contains(Models.EFFICIENTNET_STEM)) {
            String some = raw.keys().stream().limit(3).map(k -> "'" + k + "'").collect(Collectors.joining(", "));
            throw new BitEngineException(file + ": unknown architecture: not a torchvision EfficientNet (no 'features.0.0.weight' and "
                    + "'classifier.1.weight'), nor timm (no 'conv_stem.weight'), nor BiT, nor bit-engine EfficientNet naming; "
                    + raw.keys().size() + " keys such as " + some);
        } else {
            spec = Models.infer(ours, meta, file);
        }
        o.printf("input:        %s (%s, %d arrays)%n", in, format, raw.keys().size());
        write(ours, spec, dropped > 0 ? ", dropped " + dropped + " num_batches_tracked" : "", format, o);
    }

    /**
     * A Keras file: BiT from the official TF2 code, copied from the file one array at a time (up to 3.7 GB), or a Keras
     * EfficientNet (at most 260 MB), read whole.
     */
    private void convertKeras(KerasH5.Reader h5, PrintWriter o) {
        String file = in.toString();
        o.printf("input:        %s (keras %s layout, %d layers, %d arrays%s)%n", in, h5.layout() == KerasWeights.Layout.TF_KERAS ? "TF-Keras .h5"
                : "Keras 3 .weights.h5", h5.layers().size(), h5.variableCount(),
                h5.attributes().containsKey("keras_version") ? ", keras " + h5.attributes().get("keras_version") : "");
        if (BitKerasNames.matches(h5)) {
            if (arch != null && !arch.equals("bit")) throw new BitEngineException(file + ": --arch " + arch + ", but this is a BiT Keras file (root_block/standardized_conv2d)");
            WeightSource ours = BitKerasNames.source(h5);
            write(ours, Models.fromArch("bit", ours, ModelMeta.NONE, file), "", Format.keras, o);
            return;
        }
        KerasWeights w = h5.readAll();
        if (!KerasNames.isEfficientNet(w)) {
            String some = w.layers().stream().filter(l -> !l.variables().isEmpty()).limit(3).map(l -> "'" + l.name() + "'")
                    .collect(Collectors.joining(", "));
            throw new BitEngineException(file + ": unknown architecture: a Keras file that is neither an EfficientNet (no stem_conv, no "
                    + "depthwise convolutions) nor BiT (no root_block/standardized_conv2d); layers such as " + some);
        }
        refuseBit("a Keras EfficientNet");
        KerasNames.Converted c = KerasNames.convert(w, arch, file);
        WeightSource ours = MapWeights.of(c.weights());
        ModelMeta meta = new ModelMeta(Map.of(ModelMeta.CONVENTION, "keras", ModelMeta.PREPROCESSING, Preprocessing.KERAS_BUILTIN), null, null,
                c.input());
        o.printf("keras input:  %s%n", c.note());
        write(ours, Models.fromArch(c.arch(), ours, meta, file), "", Format.keras, o);
    }

    /**
     * Checks {@code ours} against the model from keys and shapes, prints the load report, and unless it
     * would not load copies the applied arrays one at a time into the .npz.
     */
    private void write(WeightSource ours, Models.Spec spec, String droppedNote, Format format, PrintWriter o) {
        o.printf("architecture: %s: %s%s%n", spec.arch(), spec.describe(), arch != null ? " (from --arch)" : "");
        o.printf("convention:   %s, BatchNorm eps %s; preprocessing %s%n", spec.convention(), Double.isNaN(spec.bnEps()) ? "-" : spec.bnEps(),
                spec.input().describe());

        LoadReport r = Models.check(spec, ours);
        o.printf("load report:  %s%s%n", r.summary(), droppedNote);
        list(o, "missing", r.missing());
        list(o, "unused", r.unused());
        list(o, "mismatched", r.mismatched().stream().map(m -> m.key() + " " + m.found() + " (expected " + m.expected() + ")").toList());
        if (!r.missing().isEmpty() || !r.mismatched().isEmpty()) {
            String first = !r.mismatched().isEmpty()
                    ? "key '" + r.mismatched().getFirst().key() + "' has shape " + r.mismatched().getFirst().found() + ", expected "
                            + r.mismatched().getFirst().expected()
                    : "missing key '" + r.missing().getFirst() + "'";
            if (!allowPartial) {
                throw new BitEngineException(in + ": does not load as " + spec.arch() + ": " + r.missing().size() + " missing, "
                        + r.mismatched().size() + " shape-mismatched (" + first + "); nothing written; pass --allow-partial to write the "
                        + r.applied().size() + " arrays that fit");
            }
            o.printf("warning:      writing a partial checkpoint (%d missing, %d shape-mismatched keys left out) because of --allow-partial%n",
                    r.missing().size(), r.mismatched().size());
        }
        if (!r.unused().isEmpty()) o.printf("note:         %d unused key(s) are not written%n", r.unused().size());

        ModelMeta outMeta = spec.meta(format + ":" + in.getFileName());
        long values = 0;
        int arrays = 0;
        try (NpzWriter w = NpzWriter.create(out)) {
            for (String key : r.applied()) {
                Shape shape = ours.shape(key);
                w.writeFloats(key, shape.dims(), ours.read(key));
                values += shape.size();
                arrays++;
            }
            for (Map.Entry<String, NpyArray> e : outMeta.toArrays().entrySet()) w.write(e.getKey(), e.getValue());
            w.commit();
        }
        o.printf("wrote %s: %d arrays (%,d float32 values) + metadata %s%n", out, arrays, values,
                outMeta.toArrays().keySet().stream().map(k -> k.substring(ModelMeta.PREFIX.length())).collect(Collectors.joining(", ")));
    }

    private static void list(PrintWriter o, String what, List<String> keys) {
        if (keys.isEmpty()) return;
        String shown = keys.stream().limit(5).collect(Collectors.joining(", "));
        o.printf("  %-11s %s%s%n", what + ":", shown, keys.size() > 5 ? " and " + (keys.size() - 5) + " more" : "");
    }

    /** The B0–B7 preset of a timm state dict: stem width, blocks per stage and head width. */
    private static String detectTimm(TimmNames names, WeightSource raw, String file) {
        TreeMap<Integer, Integer> perStage = new TreeMap<>();
        for (TimmNames.Slot s : names.slots()) perStage.merge(s.stage(), 1, Integer::sum);
        int head = raw.keys().contains("conv_head.weight") ? raw.shape("conv_head.weight").dim(0) : -1;
        return Models.matchPreset(raw.shape("conv_stem.weight").dim(0), names.slots().size(), head, new ArrayList<>(perStage.values()), file);
    }

    /** The B0–B7 preset of a torchvision state dict: stem width, blocks per stage and head width. */
    private static String detectTorchvision(WeightSource raw, String file) {
        TorchvisionNames names = TorchvisionNames.inferFrom(raw.keys());
        TreeMap<Integer, Integer> perStage = new TreeMap<>();
        for (TorchvisionNames.Slot s : names.slots()) perStage.merge(s.stage(), 1, Integer::sum);
        int stem = raw.shape("features.0.0.weight").dim(0);
        String headKey = "features." + (names.slots().getLast().stage() + 1) + ".0.weight";
        int head = raw.keys().contains(headKey) ? raw.shape(headKey).dim(0) : -1;
        return Models.matchPreset(stem, names.slots().size(), head, new ArrayList<>(perStage.values()), file);
    }
}
