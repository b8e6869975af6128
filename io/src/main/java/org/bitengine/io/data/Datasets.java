package org.bitengine.io.data;

import static org.bitengine.io.IoErrors.error;
import static org.bitengine.io.IoErrors.reason;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.bitengine.engine.BitEngineException;
import org.bitengine.io.image.ImageDecoder;

/**
 * Opens a dataset of any supported layout, recognised from what is on disk:
 * <ol>
 *   <li>an {@code .npz} file → {@link NpzArrayDataset} (split ignored);</li>
 *   <li>a folder with {@code data_batch_*.bin} / {@code test_batch.bin} → CIFAR-10, with
 *       {@code train.bin} / {@code test.bin} → CIFAR-100 ({@link CifarDataset}); also found one level
 *       down in {@code cifar-10-batches-bin/} or {@code cifar-100-binary/};</li>
 *   <li>a folder (or a path prefix, or one of the files) with MNIST-style idx files → {@link IdxDataset}:
 *       {@code train-*} for TRAIN, {@code t10k-*} for TEST (Debian's {@code dataset-fashion-mnist}
 *       package puts them in {@code /usr/share/datasets/fashion-mnist});</li>
 *   <li>a folder whose only sub-folders are {@code train} and {@code test} (or {@code val},
 *       {@code valid}, {@code validation}) → the image folder of the split;</li>
 *   <li>any other folder with sub-folders → {@link ImageFolderDataset}, one class per sub-folder
 *       (split ignored).</li>
 * </ol>
 */
public final class Datasets {

    private static final Set<String> SPLIT_FOLDERS = Set.of("train", "test", "val", "valid", "validation");

    static final String LAYOUTS = "supported layouts: a folder with one sub-folder of .jpg/.png images per class"
            + " (optionally inside train/ and test/), a folder of MNIST-style idx files (train-images-idx3-ubyte[.gz],"
            + " train-labels-idx1-ubyte[.gz], t10k-...), a CIFAR-10 (data_batch_1.bin .. test_batch.bin) or CIFAR-100"
            + " (train.bin, test.bin) binary folder, or an .npz file with x (N, H, W, C) and y (N,)";

    private Datasets() {
    }

    /**
     * Opens {@code path}'s {@code split}. Warnings about skipped or ignored files go to {@code warnings}.
     *
     * @throws BitEngineException if the path does not exist, its layout is not recognised (the message
     *                            lists the supported ones), or the dataset is malformed
     */
    public static ImageDataset open(Path path, Split split, Consumer<String> warnings) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(split, "split");
        Objects.requireNonNull(warnings, "warnings");
        if (!Files.exists(path)) {
            Path[] idx = IdxDataset.find(path, split);
            if (idx != null) {
                return IdxDataset.open(idx[0], idx[1]);
            }
            throw error(path + ": no such file or folder; check the path");
        }
        if (Files.isRegularFile(path)) {
            String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".npz")) {
                return NpzArrayDataset.open(path);
            }
            Path[] idx = IdxDataset.find(path, split);
            if (idx != null) {
                return IdxDataset.open(idx[0], idx[1]);
            }
            Path parent = path.toAbsolutePath().getParent();
            if (name.endsWith(".bin") && parent != null && (CifarDataset.isCifar10(parent) || CifarDataset.isCifar100(parent))) {
                return CifarDataset.open(parent, split);
            }
            throw error(path + ": not a dataset file bit-engine can read; pass the dataset's folder, " + LAYOUTS);
        }
        if (!Files.isDirectory(path)) {
            throw error(path + ": neither a file nor a folder; " + LAYOUTS);
        }
        for (String inner : new String[] {"cifar-10-batches-bin", "cifar-100-binary"}) {
            Path d = path.resolve(inner);
            if (Files.isDirectory(d) && (CifarDataset.isCifar10(d) || CifarDataset.isCifar100(d))) {
                return CifarDataset.open(d, split);
            }
        }
        if (CifarDataset.isCifar10(path) || CifarDataset.isCifar100(path)) {
            return CifarDataset.open(path, split);
        }
        Path[] idx = IdxDataset.find(path, split);
        if (idx != null) {
            return IdxDataset.open(idx[0], idx[1]);
        }
        List<Path> entries;
        try (Stream<Path> s = Files.list(path)) {
            entries = s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw error(path + ": cannot list folder: " + reason(e) + "; check the path and permissions", e);
        }
        List<Path> dirs = entries.stream().filter(Files::isDirectory).toList();
        if (!dirs.isEmpty() && dirs.stream().allMatch(d -> SPLIT_FOLDERS.contains(name(d)))
                && dirs.stream().anyMatch(d -> name(d).equals("train"))) {
            Path chosen = pickSplit(path, dirs, split);
            return ImageFolderDataset.open(chosen, warnings);
        }
        if (!dirs.isEmpty() || entries.stream().anyMatch(ImageDecoder::hasImageExtension)) {
            return ImageFolderDataset.open(path, warnings); // its own error for images without class folders
        }
        throw error(path + ": " + (entries.isEmpty() ? "is an empty folder" : "holds no dataset bit-engine recognises")
                + "; " + LAYOUTS);
    }

    private static Path pickSplit(Path root, List<Path> dirs, Split split) {
        List<String> wanted = split == Split.TRAIN ? List.of("train") : List.of("test", "val", "valid", "validation");
        for (String w : wanted) {
            for (Path d : dirs) {
                if (name(d).equals(w)) {
                    return d;
                }
            }
        }
        throw error(root + ": has " + dirs.stream().map(Datasets::name).toList() + " but no test/ (or val/) folder"
                + " for the test split; add one or hold out part of train/ for validation");
    }

    private static String name(Path p) {
        return p.getFileName().toString().toLowerCase(Locale.ROOT);
    }
}
