package org.bitengine.models.bit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.io.keras.KerasH5;
import org.bitengine.io.keras.KerasWeights;

/**
 * BiT as the official TensorFlow 2 code saves it ({@code google-research/big_transfer},
 * {@code bit_tf2/models.py}: {@code ResnetV2(name="resnet")}, {@code model.save_weights("x.h5")}, the
 * published {@code BiT-M-R50x1.h5}) → the official npz naming that {@link BitResNet} reads.
 *
 * <p>That model's TF variable names already spell the npz keys: the root block's
 * {@code root_block/standardized_conv2d/kernel}, each unit's layers {@code a/group_norm},
 * {@code a/standardized_conv2d}, {@code a/proj/standardized_conv2d}, {@code b/…}, {@code c/…} under
 * {@code blockB/unitUU/}, the final {@code group_norm} and the head {@code head/dense}. So a variable
 * {@code <scope>/block1/unit01/a/standardized_conv2d/kernel:0} becomes
 * {@code resnet/block1/unit01/a/standardized_conv2d/kernel} whatever the model's own scope; GroupNorm
 * keeps {@code gamma}/{@code beta}; kernels are HWIO in both. The one difference is the head: a Dense
 * {@code head/dense/kernel [features, classes]} there, a 1×1 conv {@code head/conv2d/kernel
 * [1,1,features,classes]} in the npz (bias {@code head/conv2d/bias}). Variables outside this scheme
 * keep their file name (reported unused).
 *
 * <p>The renaming needs only names and shapes, so {@link #source} reads each array from the file when it
 * is asked for: the published files reach 3.7 GB (BiT-M-R152x4).
 */
public final class BitKerasNames {

    private static final Pattern TF_SUFFIX = Pattern.compile(":\\d+$");
    /** From the first (lazy match) component of the BiT tree on; what precedes it is the model's scope. */
    private static final Pattern TREE = Pattern.compile("(?:.*?/)?((?:root_block|block\\d+|group_norm|head)/.*)");

    private BitKerasNames() {}

    /** Whether a TF-Keras file holds BiT: a {@code root_block/standardized_conv2d/kernel} variable. */
    public static boolean matches(KerasH5.Reader file) {
        if (file.layout() != KerasWeights.Layout.TF_KERAS) return false;
        for (KerasH5.Reader.StoredLayer l : file.layers()) {
            for (KerasH5.Reader.StoredVariable v : l.variables()) {
                if (TF_SUFFIX.matcher(v.name()).replaceFirst("").endsWith("root_block/standardized_conv2d/kernel")) return true;
            }
        }
        return false;
    }

    /**
     * Every variable of the open file under the official npz name (or its own, when it has none), in file order, read
     * from the file one array at a time.
     */
    public static WeightSource source(KerasH5.Reader file) {
        Map<String, Official> byKey = new LinkedHashMap<>();
        for (KerasH5.Reader.StoredLayer l : file.layers()) {
            for (KerasH5.Reader.StoredVariable v : l.variables()) {
                Official o = official(l.name(), v);
                byKey.put(o.key(), o);
            }
        }
        Set<String> keys = Collections.unmodifiableSet(byKey.keySet());
        return new WeightSource() {
            @Override
            public Set<String> keys() {
                return keys;
            }

            @Override
            public Shape shape(String key) {
                return Shape.of(get(key).shape());
            }

            @Override
            public float[] read(String key) {
                // The head's reshape [features, classes] → [1,1,features,classes] keeps the row-major order.
                return file.readFloats(get(key).variable());
            }

            private Official get(String key) {
                Official o = byKey.get(key);
                if (o == null) throw new IllegalArgumentException("no array '" + key + "' among " + keys.size());
                return o;
            }
        };
    }

    /** A stored variable under its official npz key and shape. */
    private record Official(String key, int[] shape, KerasH5.Reader.StoredVariable variable) {}

    private static Official official(String layer, KerasH5.Reader.StoredVariable v) {
        String n = TF_SUFFIX.matcher(v.name()).replaceFirst("");
        Matcher m = TREE.matcher(n);
        if (!m.matches()) return new Official(layer + "/" + n, v.shape(), v);
        String key = "resnet/" + m.group(1);
        int[] s = v.shape();
        if (key.equals("resnet/head/dense/kernel") && s.length == 2) return new Official(BitConfig.HEAD_KERNEL, new int[] {1, 1, s[0], s[1]}, v);
        if (key.equals("resnet/head/dense/bias")) return new Official("resnet/head/conv2d/bias", s, v);
        return new Official(key, s, v);
    }
}
