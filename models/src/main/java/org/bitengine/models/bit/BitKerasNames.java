package org.bitengine.models.bit;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.io.keras.KerasWeights;
import org.bitengine.io.npy.NpyArray;

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
 */
public final class BitKerasNames {

    private static final Pattern TF_SUFFIX = Pattern.compile(":\\d+$");
    /** From the first (lazy match) component of the BiT tree on; what precedes it is the model's scope. */
    private static final Pattern TREE = Pattern.compile("(?:.*?/)?((?:root_block|block\\d+|group_norm|head)/.*)");

    private BitKerasNames() {}

    /** Whether a TF-Keras file holds BiT: a {@code root_block/standardized_conv2d/kernel} variable. */
    public static boolean matches(KerasWeights w) {
        if (w.layout() != KerasWeights.Layout.TF_KERAS) return false;
        for (KerasWeights.Layer l : w.layers()) {
            for (KerasWeights.Variable v : l.variables()) {
                if (TF_SUFFIX.matcher(v.name()).replaceFirst("").endsWith("root_block/standardized_conv2d/kernel")) return true;
            }
        }
        return false;
    }

    /** Every variable under the official npz name (or its own, when it has none), in file order. */
    public static Map<String, NpyArray> convert(KerasWeights w) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (KerasWeights.Layer l : w.layers()) {
            for (KerasWeights.Variable v : l.variables()) {
                String n = TF_SUFFIX.matcher(v.name()).replaceFirst("");
                Matcher m = TREE.matcher(n);
                if (!m.matches()) {
                    out.put(l.name() + "/" + n, v.value());
                    continue;
                }
                String key = "resnet/" + m.group(1);
                NpyArray a = v.value();
                if (key.equals("resnet/head/dense/kernel") && a.ndim() == 2) {
                    out.put(BitConfig.HEAD_KERNEL, NpyArray.ofFloats(new int[] {1, 1, a.shape()[0], a.shape()[1]}, a.toFloats()));
                } else if (key.equals("resnet/head/dense/bias")) {
                    out.put("resnet/head/conv2d/bias", a);
                } else {
                    out.put(key, a);
                }
            }
        }
        return out;
    }
}
