package org.bitengine.models.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.io.checkpoint.NpzWeights;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.bitengine.models.registry.ModelMeta;
import org.bitengine.models.registry.Models;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code info WEIGHTS.npz}: what a checkpoint holds, read from its headers only (no weights are loaded). */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a checkpoint's architecture, parameter count and keys, without loading its weights.")
final class InfoCommand implements Runnable {

    @Parameters(index = "0", paramLabel = "WEIGHTS.npz", description = "A checkpoint in the official BiT .npz naming, or one written by convert.")
    Path weights;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        if (!Files.isRegularFile(weights)) {
            throw new BitEngineException(weights + ": no such file; give the path of a .npz checkpoint");
        }
        PrintWriter out = spec.commandLine().getOut();
        ModelMeta meta = Models.meta(weights);
        try (NpzWeights npz = NpzWeights.open(weights)) {
            long parameters = 0;
            Map<String, Integer> dtypes = new TreeMap<>();
            Map<String, Integer> groups = new TreeMap<>();
            Map<String, Long> groupParams = new TreeMap<>();
            for (String key : npz.keys()) {
                Shape s = npz.shape(key);
                parameters += s.size();
                dtypes.merge(npz.dtype(key).descr(), 1, Integer::sum);
                String group = groupOf(key);
                groups.merge(group, 1, Integer::sum);
                groupParams.merge(group, (long) s.size(), Long::sum);
            }
            out.printf("file:         %s (%.1f MB)%n", weights, Files.size(weights) / 1e6);
            out.printf("arrays:       %d (%s)%n", npz.keys().size(), dtypes.toString().replaceAll("[{}]", ""));
            out.printf("parameters:   %,d%n", parameters);
            if (meta.arch() == null && npz.keys().contains(BitConfig.ROOT_KERNEL)) {
                BitConfig config = BitConfig.inferFrom(npz, weights.toString());
                out.printf("architecture: %s%n", config.describe());
                out.printf("head:         %d classes, features %d%n", config.headSize(), config.featureSize());
            } else if (meta.arch() != null || npz.keys().contains(Models.EFFICIENTNET_STEM)) {
                Models.Spec m = Models.infer(npz, meta, weights.toString());
                out.printf("architecture: %s: %s%n", m.arch(), m.describe());
                out.printf("head:         %d classes, features %d%n", m.numClasses(), m.featureSize());
                if (m.config() instanceof EfficientNetConfig c) {
                    out.printf("trainable:    %,d parameters + %,d BatchNorm statistics%n", c.parameterCount(), c.bufferCount());
                    out.printf("convention:   %s (%s padding)%n", m.convention(), c.padding().name().toLowerCase(java.util.Locale.ROOT));
                    out.printf("bn eps:       %s%n", m.bnEps());
                } else {
                    out.printf("convention:   %s%n", m.convention());
                }
                out.printf("preprocessing: %s%n", m.input().describe());
                out.printf("described by: %s%n", m.fromMeta() ? "its meta/* entries"
                        : "its keys and shapes (no meta/* entries)");
            } else {
                out.printf("architecture: not a BiT checkpoint (no '%s') nor an EfficientNet one (no '%s')%n", BitConfig.ROOT_KERNEL,
                        Models.EFFICIENTNET_STEM);
            }
            out.println("keys:");
            for (Map.Entry<String, Integer> g : groups.entrySet()) {
                out.printf("  %-28s %4d arrays %,14d parameters%n", g.getKey(), g.getValue(), groupParams.get(g.getKey()));
            }
        } catch (java.io.IOException e) {
            throw new BitEngineException(weights + ": cannot read: " + e.getMessage());
        }
    }

    /** {@code resnet/block2/unit03/b/...} → {@code resnet/block2}; other keys by their first two path parts. */
    private static String groupOf(String key) {
        String[] parts = key.split("/");
        return parts.length <= 2 ? parts[0] : parts[0] + "/" + parts[1];
    }
}
