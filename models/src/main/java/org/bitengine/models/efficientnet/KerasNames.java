package org.bitengine.models.efficientnet;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.keras.KerasWeights;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.models.registry.Models;
import org.bitengine.io.image.Preprocessing;

/**
 * The mapping from Keras' EfficientNet ({@code keras.applications.efficientnet}, keras
 * {@code keras/src/applications/efficientnet.py}) onto {@link EfficientNet}'s names.
 *
 * <p>Keras' layer names, in model order (block {@code X} = stage 1–7, {@code y} = a, b, c, … within it):
 *
 * <pre>
 * Keras layer (variables)                                    ours
 * rescaling, normalization (mean, variance[, count])         → the preprocessing (see {@link Preprocessing#keras})
 * rescaling_1 (none; only with weights="imagenet")           → the preprocessing
 * stem_conv (kernel [3,3,3,32])                              efficientnet/stem/conv/kernel
 * stem_bn (gamma, beta, moving_mean, moving_variance)        efficientnet/stem/bn/{weight, bias, running_mean, running_var}
 * blockXy_expand_conv (kernel [1,1,in,in·e]), _expand_bn     efficientnet/blocks/NN/expand/{conv/kernel, bn/*}   (e ≠ 1)
 * blockXy_dwconv (depthwise_kernel [k,k,C,1]; Keras 3:       efficientnet/blocks/NN/depthwise/{conv/kernel [k,k,1,C], bn/*}
 *   kernel), blockXy_bn
 * blockXy_se_reduce, blockXy_se_expand (kernel, bias)        efficientnet/blocks/NN/se/{reduce, expand}/{kernel, bias}
 * blockXy_project_conv (kernel), blockXy_project_bn          efficientnet/blocks/NN/project/{conv/kernel, bn/*}
 * top_conv (kernel [1,1,320·w,1280·w]), top_bn               efficientnet/head/{conv/kernel, bn/*}
 * predictions (kernel [features,classes], bias)              efficientnet/classifier/{kernel, bias}
 * </pre>
 *
 * Keras kernels are already HWIO and the Dense kernel already [in, out]; the depthwise kernel
 * {@code (k,k,C,1)} holds its values in the same order as our {@code (k,k,1,C)}, so only its shape
 * changes. {@code NN} is the block's position over all stages in (X, y) order. Keras 3 files name the
 * layers by class and position instead ({@code conv2d_5}, {@code batch_normalization_7},
 * {@code depthwise_conv2d_2}, {@code dense}, see {@code KerasWeights}); those are put back into
 * Keras' names by replaying the model's layer order (the same table, class by class), which is why
 * the architecture is decided first for them. A base model fine-tuned inside another model (its
 * classifier a Dense of another name, its layers one level down) is read too: a lone Dense is taken as
 * {@code predictions}. Any variable that maps to nothing is passed through under its file name, so the
 * load report lists it as unused.
 */
public final class KerasNames {

    /**
     * The conversion's outcome.
     *
     * @param arch    the preset, e.g. {@code efficientnet-b0}
     * @param weights arrays under our names (plus unmapped ones under their file names)
     * @param input   the Keras preprocessing folded into one mean and std
     * @param note    how the preprocessing was decided (for the convert report)
     */
    public record Converted(String arch, Map<String, NpyArray> weights, Preprocessing input, String note) {}

    private static final Pattern TF_SUFFIX = Pattern.compile(":\\d+$");
    private static final Pattern BLOCK = Pattern.compile("block(\\d+)([a-z])_(.*)");
    private static final Pattern NUMBERED = Pattern.compile("(.*?)(?:_(\\d+))?");
    private static final Pattern RESCALING = Pattern.compile("rescaling(_\\d+)?");
    private static final Pattern NORMALIZATION = Pattern.compile("normalization(_\\d+)?/.*");

    private static final List<String> KERAS_BN = List.of("gamma", "beta", "moving_mean", "moving_variance");
    private static final List<String> OUR_BN = List.of("weight", "bias", "running_mean", "running_var");

    /** Variable names, in Keras' creation order, of the weighted layer classes a Keras 3 file names by class. */
    private static final Map<String, List<String>> KERAS3_VARS = Map.of(
            "conv2d", List.of("kernel", "bias"),
            "depthwise_conv2d", List.of("depthwise_kernel", "bias"),
            "batch_normalization", KERAS_BN,
            "dense", List.of("kernel", "bias"),
            "normalization", List.of("mean", "variance", "count"));

    private KerasNames() {}

    /** Whether the file looks like a Keras EfficientNet: a stem conv by name, or Keras 3 depthwise convolutions. */
    public static boolean isEfficientNet(KerasWeights w) {
        for (KerasWeights.Layer l : w.layers()) {
            if (w.layout() == KerasWeights.Layout.KERAS3 && classOf(last(l.name())).equals("depthwise_conv2d")) return true;
            for (KerasWeights.Variable v : l.variables()) {
                if (w.layout() == KerasWeights.Layout.TF_KERAS && keyOf(l.name(), v.name()).startsWith("stem_conv/")) return true;
            }
        }
        return false;
    }

    /** Converts a Keras EfficientNet; {@code arch} forces the preset (null: detected); {@code file} names it in messages. */
    public static Converted convert(KerasWeights w, String arch, String file) {
        Map<String, NpyArray> byKeras = new LinkedHashMap<>();
        Map<String, NpyArray> passThrough = new LinkedHashMap<>();
        boolean imagenetRescaling;
        boolean rescalingVisible;
        if (w.layout() == KerasWeights.Layout.TF_KERAS) {
            for (KerasWeights.Layer l : w.layers()) {
                for (KerasWeights.Variable v : l.variables()) {
                    // Keras numbers auto-named layers per session: the Normalization may be normalization_3.
                    String k = keyOf(l.name(), v.name());
                    byKeras.put(NORMALIZATION.matcher(k).matches() ? "normalization" + k.substring(k.indexOf('/')) : k, v.value());
                }
            }
            adoptLoneDense(byKeras);
            long rescalings = w.layers().stream().filter(l -> RESCALING.matcher(l.name()).matches()).count();
            rescalingVisible = rescalings > 0;
            imagenetRescaling = rescalings >= 2;
            if (arch == null) arch = tfKerasPreset(byKeras, file);
        } else {
            Keras3 k3 = Keras3.of(w, file);
            if (arch == null) arch = k3.preset(file);
            EfficientNetConfig config = EfficientNetConfig.preset(arch.substring("efficientnet-".length()), 1);
            k3.rename(layerOrder(config), byKeras, passThrough);
            rescalingVisible = k3.rescalings > 0;
            imagenetRescaling = k3.rescalings >= 2;
        }
        String note;
        NpyArray mean = byKeras.remove("normalization/mean"), variance = byKeras.remove("normalization/variance");
        byKeras.remove("normalization/count");
        if (mean == null || variance == null || mean.size() != 3 || variance.size() != 3) {
            throw new BitEngineException(file + ": Keras EfficientNet without its Normalization layer (mean and variance of 3 channels); "
                    + "the input scaling cannot be known");
        }
        double[] m = mean.toDoubles(), var = variance.toDoubles();
        if (!rescalingVisible) {
            // A nested model lists no weightless layer. The published ImageNet weights store the standard
            // deviation as the variance, which current Keras corrects with the extra Rescaling layer.
            imagenetRescaling = looksLikeImagenetStddev(var);
            note = "rescaling layers not listed (nested model): extra imagenet Rescaling " + (imagenetRescaling ? "assumed" : "not assumed")
                    + " from the normalization variance";
        } else {
            note = imagenetRescaling ? "Rescaling(1/255), Normalization, Rescaling(1/sqrt(IMAGENET_STDDEV_RGB))"
                    : "Rescaling(1/255), Normalization";
        }
        Preprocessing input = Preprocessing.keras(m, var, imagenetRescaling);

        Map<String, NpyArray> ours = new LinkedHashMap<>();
        Map<String, String> names = ourNames(byKeras.keySet());
        for (Map.Entry<String, NpyArray> e : byKeras.entrySet()) {
            String o = names.get(e.getKey());
            if (o == null) {
                ours.put(e.getKey(), e.getValue());
            } else if (o.endsWith("/depthwise/conv/kernel") && e.getValue().ndim() == 4) {
                int[] s = e.getValue().shape();
                ours.put(o, reshape(e.getValue(), new int[] {s[0], s[1], s[3], s[2]}));
            } else {
                ours.put(o, e.getValue());
            }
        }
        ours.putAll(passThrough);
        return new Converted(arch, ours, input, note);
    }

    /**
     * A model fine-tuned as {@code Sequential([EfficientNetB0(include_top=False), …, Dense(n)])} has its
     * classifier under another name; the one 2-D kernel of the file, when there is exactly one, is it.
     */
    private static void adoptLoneDense(Map<String, NpyArray> byKeras) {
        if (byKeras.containsKey("predictions/kernel")) return;
        List<String> dense = byKeras.entrySet().stream().filter(e -> e.getKey().endsWith("/kernel") && e.getValue().ndim() == 2)
                .map(e -> e.getKey().substring(0, e.getKey().indexOf('/'))).toList();
        if (dense.size() != 1) return;
        String layer = dense.getFirst();
        byKeras.put("predictions/kernel", byKeras.remove(layer + "/kernel"));
        if (byKeras.containsKey(layer + "/bias")) byKeras.put("predictions/bias", byKeras.remove(layer + "/bias"));
    }

    private static boolean looksLikeImagenetStddev(double[] var) {
        double[] sd = {0.229, 0.224, 0.225};
        for (int c = 0; c < 3; c++) if (Math.abs(var[c] - sd[c]) > 1e-3) return false;
        return true;
    }

    /** A TF-Keras variable's {@code layer/variable} key: the weight name without {@code :0}, its last two components. */
    static String keyOf(String layer, String weightName) {
        String n = TF_SUFFIX.matcher(weightName).replaceFirst("");
        String[] parts = n.split("/");
        return parts.length >= 2 ? parts[parts.length - 2] + "/" + parts[parts.length - 1] : layer + "/" + n;
    }

    /** Our name for every Keras {@code layer/variable} key that has one. */
    private static Map<String, String> ourNames(Iterable<String> kerasKeys) {
        TreeMap<String, Integer> blocks = new TreeMap<>((a, b) -> {
            Matcher ma = BLOCK.matcher(a + "_"), mb = BLOCK.matcher(b + "_");
            ma.matches();
            mb.matches();
            int c = Integer.compare(Integer.parseInt(ma.group(1)), Integer.parseInt(mb.group(1)));
            return c != 0 ? c : ma.group(2).compareTo(mb.group(2));
        });
        for (String k : kerasKeys) {
            Matcher m = BLOCK.matcher(k.substring(0, k.indexOf('/')));
            if (m.matches()) blocks.put("block" + m.group(1) + m.group(2), 0);
        }
        int i = 0;
        for (Map.Entry<String, Integer> e : blocks.entrySet()) e.setValue(i++);

        Map<String, String> out = new LinkedHashMap<>();
        for (String k : kerasKeys) {
            String layer = k.substring(0, k.indexOf('/')), var = k.substring(k.indexOf('/') + 1);
            String o = switch (layer) {
                case "stem_conv" -> var.equals("kernel") ? "efficientnet/stem/conv/kernel" : null;
                case "stem_bn" -> bn("efficientnet/stem/bn/", var);
                case "top_conv" -> var.equals("kernel") ? "efficientnet/head/conv/kernel" : null;
                case "top_bn" -> bn("efficientnet/head/bn/", var);
                case "predictions" -> var.equals("kernel") || var.equals("bias") ? EfficientNet.CLASSIFIER_KERNEL.replace("kernel", var) : null;
                default -> {
                    Matcher m = BLOCK.matcher(layer);
                    yield m.matches() ? blockName(String.format("efficientnet/blocks/%02d/", blocks.get("block" + m.group(1) + m.group(2))),
                            m.group(3), var) : null;
                }
            };
            if (o != null) out.put(k, o);
        }
        return out;
    }

    private static String blockName(String prefix, String part, String var) {
        return switch (part) {
            case "expand_conv" -> var.equals("kernel") ? prefix + "expand/conv/kernel" : null;
            case "expand_bn" -> bn(prefix + "expand/bn/", var);
            // TF-Keras calls the depthwise kernel "depthwise_kernel", Keras 3 just "kernel".
            case "dwconv" -> var.equals("depthwise_kernel") || var.equals("kernel") ? prefix + "depthwise/conv/kernel" : null;
            case "bn" -> bn(prefix + "depthwise/bn/", var);
            case "se_reduce" -> var.equals("kernel") || var.equals("bias") ? prefix + "se/reduce/" + var : null;
            case "se_expand" -> var.equals("kernel") || var.equals("bias") ? prefix + "se/expand/" + var : null;
            case "project_conv" -> var.equals("kernel") ? prefix + "project/conv/kernel" : null;
            case "project_bn" -> bn(prefix + "project/bn/", var);
            default -> null;
        };
    }

    private static String bn(String prefix, String var) {
        int i = KERAS_BN.indexOf(var);
        return i < 0 ? null : prefix + OUR_BN.get(i);
    }

    /** The preset of a TF-Keras file: stem width, blocks per stage and head width. */
    private static String tfKerasPreset(Map<String, NpyArray> byKeras, String file) {
        NpyArray stem = byKeras.get("stem_conv/kernel");
        if (stem == null || stem.ndim() != 4) throw new BitEngineException(file + ": Keras EfficientNet without a 4-D 'stem_conv' kernel");
        TreeMap<Integer, Integer> perStage = new TreeMap<>();
        Set<String> seen = new HashSet<>();
        for (String k : byKeras.keySet()) {
            Matcher m = BLOCK.matcher(k.substring(0, k.indexOf('/')));
            if (m.matches() && m.group(3).equals("dwconv") && seen.add(m.group(1) + m.group(2))) {
                perStage.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
            }
        }
        NpyArray top = byKeras.get("top_conv/kernel");
        int blocks = perStage.values().stream().mapToInt(Integer::intValue).sum();
        return Models.matchPreset(stem.shape()[3], blocks, top != null && top.ndim() == 4 ? top.shape()[3] : -1,
                new ArrayList<>(perStage.values()), file);
    }

    /**
     * The weighted layers of a Keras EfficientNet in model order, as (class, Keras name) pairs: what a
     * Keras 3 file's {@code conv2d_N}, {@code batch_normalization_N}, … are, N counting per class.
     */
    static List<String[]> layerOrder(EfficientNetConfig config) {
        List<String[]> out = new ArrayList<>();
        for (KerasLayerList.Layer l : KerasLayerList.of(config)) {
            if (l.weighted()) out.add(new String[] {l.kerasClass(), l.name()});
        }
        return out;
    }

    /** The class-named objects of a Keras 3 file, grouped by the container (model) that holds them. */
    private static final class Keras3 {
        /** container path → class → position → the object. */
        final Map<String, Map<String, TreeMap<Integer, KerasWeights.Layer>>> containers = new LinkedHashMap<>();
        String main;
        int rescalings;

        static Keras3 of(KerasWeights w, String file) {
            Keras3 k = new Keras3();
            for (KerasWeights.Layer l : w.layers()) {
                String name = l.name(), local = last(name);
                String container = name.length() > local.length() ? name.substring(0, name.length() - local.length() - 1) : "";
                Matcher m = NUMBERED.matcher(local);
                m.matches();
                int pos = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
                k.containers.computeIfAbsent(container, c -> new LinkedHashMap<>()).computeIfAbsent(m.group(1), c -> new TreeMap<>()).put(pos, l);
            }
            int most = 0;
            for (Map.Entry<String, Map<String, TreeMap<Integer, KerasWeights.Layer>>> e : k.containers.entrySet()) {
                int n = e.getValue().getOrDefault("depthwise_conv2d", new TreeMap<>()).size();
                if (n > most) {
                    most = n;
                    k.main = e.getKey();
                }
            }
            if (k.main == null) throw new BitEngineException(file + ": Keras 3 weights without depthwise convolutions; not an EfficientNet");
            k.rescalings = k.containers.get(k.main).getOrDefault("rescaling", new TreeMap<>()).size();
            return k;
        }

        String preset(String file) {
            Map<String, TreeMap<Integer, KerasWeights.Layer>> c = containers.get(main);
            TreeMap<Integer, KerasWeights.Layer> convs = c.getOrDefault("conv2d", new TreeMap<>());
            if (convs.isEmpty() || convs.firstEntry().getValue().variables().isEmpty()) {
                throw new BitEngineException(file + ": Keras 3 EfficientNet without a stem convolution ('" + main + "/conv2d')");
            }
            NpyArray stem = convs.firstEntry().getValue().variables().getFirst().value();
            NpyArray top = convs.lastEntry().getValue().variables().isEmpty() ? null : convs.lastEntry().getValue().variables().getFirst().value();
            if (stem.ndim() != 4) throw new BitEngineException(file + ": '" + convs.firstEntry().getValue().name() + "/vars/0' is not a 4-D kernel");
            return Models.matchPreset(stem.shape()[3], c.get("depthwise_conv2d").size(), top != null && top.ndim() == 4 ? top.shape()[3] : -1,
                    null, file);
        }

        /**
         * Keras names for the main container's objects by replaying {@code order}; a lone Dense outside it
         * (a classifier added around the base model) is taken as {@code predictions}. Everything else goes
         * to {@code passThrough} under its file path.
         */
        void rename(List<String[]> order, Map<String, NpyArray> byKeras, Map<String, NpyArray> passThrough) {
            Map<String, Integer> next = new LinkedHashMap<>();
            Map<String, TreeMap<Integer, KerasWeights.Layer>> c = containers.get(main);
            Set<KerasWeights.Layer> used = new HashSet<>();
            List<KerasWeights.Layer> outerDense = new ArrayList<>();
            containers.forEach((path, classes) -> {
                if (!path.equals(main) && classes.containsKey("dense")) outerDense.addAll(classes.get("dense").values());
            });
            for (String[] cls : order) {
                int n = next.merge(cls[0], 1, Integer::sum) - 1;
                TreeMap<Integer, KerasWeights.Layer> byPos = c.getOrDefault(cls[0], new TreeMap<>());
                KerasWeights.Layer l = n < byPos.size() ? new ArrayList<>(byPos.values()).get(n) : null;
                if (l == null && cls[0].equals("dense") && byPos.isEmpty() && outerDense.size() == 1) l = outerDense.getFirst();
                if (l == null) continue;
                used.add(l);
                List<String> vars = KERAS3_VARS.get(cls[0]);
                for (int i = 0; i < l.variables().size(); i++) {
                    KerasWeights.Variable v = l.variables().get(i);
                    if (i < vars.size() && v.name().equals(Integer.toString(i))) byKeras.put(cls[1] + "/" + vars.get(i), v.value());
                    else passThrough.put(l.name() + "/vars/" + v.name(), v.value());
                }
            }
            for (Map<String, TreeMap<Integer, KerasWeights.Layer>> classes : containers.values()) {
                for (TreeMap<Integer, KerasWeights.Layer> byPos : classes.values()) {
                    for (KerasWeights.Layer l : byPos.values()) {
                        if (used.contains(l)) continue;
                        for (KerasWeights.Variable v : l.variables()) passThrough.put(l.name() + "/vars/" + v.name(), v.value());
                    }
                }
            }
        }
    }

    private static String last(String path) {
        int i = path.lastIndexOf('/');
        return i < 0 ? path : path.substring(i + 1);
    }

    private static String classOf(String local) {
        Matcher m = NUMBERED.matcher(local);
        m.matches();
        return m.group(1);
    }

    private static NpyArray reshape(NpyArray a, int[] shape) {
        return switch (a.dtype()) {
            case F8 -> NpyArray.ofDoubles(shape, a.toDoubles());
            default -> NpyArray.ofFloats(shape, a.toFloats());
        };
    }
}
