package org.bitengine.models.eval;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.bitengine.engine.BitEngineException;

/**
 * How a dataset's labels line up with a checkpoint's head: the names to report (the head's, from the
 * run's {@code classes.txt}, else the dataset's) and, for each dataset label, the head's class index.
 *
 * <p>With a {@code classes.txt}, labels are matched by name whenever every dataset class is named
 * there, so a test folder that lacks a class, or lists classes in another order, is still scored
 * right; otherwise (and without the file) they are matched by index, which needs as many dataset
 * classes as the head has.
 *
 * @param names         [headSize] class names in head order
 * @param datasetToHead [dataset classes] head index of each dataset label
 * @param warning       a line to show the user, or null
 */
public record ClassMapping(List<String> names, int[] datasetToHead, String warning) {

    /**
     * @param datasetClasses the dataset's class names, in label order
     * @param fileNames      the names from {@code classesFile}, if there is one
     * @param headSize       classes of the checkpoint's head
     */
    public static ClassMapping resolve(List<String> datasetClasses, Optional<List<String>> fileNames, Path classesFile,
                                       int headSize, Path data, Path weights) {
        int d = datasetClasses.size();
        if (fileNames.isPresent()) {
            List<String> names = fileNames.get();
            if (names.size() != headSize) {
                throw new BitEngineException(classesFile + ": lists " + names.size() + " classes but the head of " + weights + " has "
                        + headSize + "; fix classes.txt (one name per line, in label order) or remove it");
            }
            Map<String, Integer> index = new HashMap<>();
            for (int i = 0; i < names.size(); i++) index.put(names.get(i), i);
            int[] map = new int[d];
            boolean byName = true;
            for (int i = 0; i < d && byName; i++) {
                Integer j = index.get(datasetClasses.get(i));
                if (j == null) byName = false;
                else map[i] = j;
            }
            if (byName) return new ClassMapping(names, map, null);
            if (d == headSize) {
                String missing = datasetClasses.stream().filter(n -> !index.containsKey(n)).findFirst().orElseThrow();
                return new ClassMapping(names, identity(d), "the class names of " + data + " ('" + missing + "', ...) are not those in "
                        + classesFile + "; labels are matched by index");
            }
            throw new BitEngineException(data + ": has " + d + " classes, the head of " + weights + " has " + headSize
                    + " and their names (" + classesFile + ") differ; evaluate on data with the classes the model was trained on");
        }
        if (d != headSize) {
            throw new BitEngineException(data + ": has " + d + " classes but the head of " + weights + " has " + headSize
                    + "; evaluate on data with the classes the model was trained on (or put its classes.txt beside the weights)");
        }
        return new ClassMapping(List.copyOf(datasetClasses), identity(d), null);
    }

    private static int[] identity(int n) {
        int[] m = new int[n];
        for (int i = 0; i < n; i++) m[i] = i;
        return m;
    }
}
