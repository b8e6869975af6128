package org.bitengine.models.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.AtomicFile;
import org.bitengine.io.IoErrors;
import org.bitengine.io.checkpoint.Checkpoints;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzWriter;

/**
 * The files of one fine-tuning run. Everything is written under a temporary name and renamed into
 * place, so a run killed at any moment leaves only complete files (a leftover {@code *.tmp-*} is
 * removed when the run is resumed):
 *
 * <pre>
 * RUN_DIR/
 *   config.json          effective configuration, classes, dataset sizes, model, bit-engine version
 *   classes.txt          class names, one per line, in label order
 *   metrics.jsonl        one JSON object per line (see {@link MetricsFile})
 *   checkpoints/
 *     step-000100/
 *       weights.npz      all parameters in the official BiT naming (loadable by predict and info)
 *       train_state.npz  optimizer and loop state (see {@link TrainState})
 *     step-000200/       only the last two checkpoints are kept
 *     latest             text file naming the newest complete checkpoint ("step-000200"), replaced atomically
 *     best-step-000150.npz  with early stopping: the weights of the best validation top-1 so far
 *   weights.npz          final weights (with early stopping: the best ones), written at the end
 *   curves.png           training / validation loss and validation accuracy by step, written at the end
 * </pre>
 */
public final class RunDir {

    public static final String CONFIG = "config.json";
    public static final String CLASSES = "classes.txt";
    public static final String METRICS = "metrics.jsonl";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String LATEST = "latest";
    public static final String WEIGHTS = "weights.npz";
    public static final String TRAIN_STATE = "train_state.npz";
    public static final String CURVES = "curves.png";
    /** Checkpoints kept on disk (the newest ones). */
    public static final int KEEP_CHECKPOINTS = 2;

    private static final Pattern STEP_DIR = Pattern.compile("step-(\\d{6,})");
    private static final Pattern BEST_FILE = Pattern.compile("best-step-(\\d{6,})\\.npz");

    private final Path root;

    public RunDir(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path config() {
        return root.resolve(CONFIG);
    }

    public Path metrics() {
        return root.resolve(METRICS);
    }

    public Path checkpoints() {
        return root.resolve(CHECKPOINTS);
    }

    public Path finalWeights() {
        return root.resolve(WEIGHTS);
    }

    public Path curves() {
        return root.resolve(CURVES);
    }

    /** Directory name of the checkpoint after {@code step} optimizer steps: {@code step-000100}. */
    public static String stepName(int step) {
        return String.format("step-%06d", step);
    }

    public Path bestWeights(int step) {
        return checkpoints().resolve("best-" + stepName(step) + ".npz");
    }

    // ---------------------------------------------------------------------------------------------
    // Creating and checking

    /**
     * Refuses an existing run directory that is not empty unless {@code overwrite}; with
     * {@code overwrite}, only a directory bit-engine made (one with config.json) is cleared. Nothing is
     * created here: the directory is made by {@link #create()} once the run has been validated.
     */
    public static void checkNew(Path dir, boolean overwrite) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new BitEngineException("--out " + dir + " is a file, not a directory; choose another --out");
        }
        if (!Files.isDirectory(dir) || isEmpty(dir)) return;
        if (!overwrite) {
            throw new BitEngineException("run directory " + dir + " already exists; continue it with --resume " + dir
                    + ", replace it with --overwrite, or choose another --out");
        }
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            throw new BitEngineException("--overwrite: " + dir + " is not a bit-engine run directory (it has no " + CONFIG
                    + ") and is not empty; refusing to delete its files, choose another --out");
        }
    }

    /** Creates the directory (clearing an old run there when {@code overwrite}) and its checkpoints folder. */
    public void create(boolean overwrite) {
        try {
            if (overwrite && Files.isDirectory(root) && !isEmpty(root)) deleteTree(root);
            Files.createDirectories(checkpoints());
        } catch (IOException e) {
            throw new BitEngineException("cannot create run directory " + root + ": " + e.getMessage()
                    + "; check the path and permissions");
        }
    }

    private static boolean isEmpty(Path dir) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            throw new BitEngineException("cannot read directory " + dir + ": " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Checkpoints

    /** A complete checkpoint on disk. */
    public record Checkpoint(Path dir, int step) {
        public Path weights() {
            return dir.resolve(WEIGHTS);
        }

        public Path state() {
            return dir.resolve(TRAIN_STATE);
        }
    }

    /**
     * Writes {@code checkpoints/step-NNNNNN/} (weights in the official naming, train state) into a
     * temporary directory, renames it into place, then points {@code checkpoints/latest} at it and
     * deletes all but the newest {@link #KEEP_CHECKPOINTS}.
     */
    public Checkpoint saveCheckpoint(int step, Map<String, Tensor> parameters, Map<String, NpyArray> meta, Map<String, NpyArray> state) {
        Path dir = checkpoints();
        String name = stepName(step);
        Path temp = dir.resolve(name + ".tmp-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
        Path target = dir.resolve(name);
        try {
            Files.createDirectories(temp);
            Checkpoints.saveWeights(temp.resolve(WEIGHTS), parameters, meta);
            writeNpz(temp.resolve(TRAIN_STATE), state);
            // A directory of this name can only be the leftover of a killed run that never pointed
            // latest at it; it is replaced.
            if (Files.exists(target)) discard(target);
            move(temp, target);
            AtomicFile.writeString(dir.resolve(LATEST), name + "\n");
        } catch (IOException | BitEngineException e) {
            // A full disk surfaces as the writers' one-line BitEngineException; the half-written
            // temporary directory goes either way, and latest still names the previous checkpoint.
            try {
                deleteTree(temp);
            } catch (IOException ignored) {
                // Reporting the original failure matters more.
            }
            throw new BitEngineException("cannot write checkpoint " + target + " (" + e.getMessage() + "); " + LATEST
                    + " still names the previous one: free disk space and continue with finetune --resume " + root, e);
        }
        prune(step);
        return new Checkpoint(target, step);
    }

    /** The checkpoint {@code checkpoints/latest} names, if any. */
    public Optional<Checkpoint> latest() {
        Path file = checkpoints().resolve(LATEST);
        String name;
        try {
            name = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new BitEngineException(file + ": cannot read: " + e.getMessage());
        }
        Matcher m = STEP_DIR.matcher(name);
        // Matched before it is used as a path: the file may hold characters no path can (NUL).
        Path dir = m.matches() ? checkpoints().resolve(name) : null;
        if (dir == null || !Files.isRegularFile(dir.resolve(WEIGHTS)) || !Files.isRegularFile(dir.resolve(TRAIN_STATE))) {
            // Quoted: the file may hold anything, and the message must stay one line.
            throw new BitEngineException(file + " names '" + IoErrors.quote(name, 40) + "', which is not a complete checkpoint in " + checkpoints()
                    + "; the run directory was modified by hand, start a new run");
        }
        return Optional.of(new Checkpoint(dir, Integer.parseInt(m.group(1))));
    }

    /** Deletes step directories other than the newest {@link #KEEP_CHECKPOINTS} (never {@code current}). */
    private void prune(int current) {
        List<Integer> steps = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(checkpoints())) {
            for (Path p : s) {
                Matcher m = STEP_DIR.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) steps.add(Integer.parseInt(m.group(1)));
            }
            steps.sort(null);
            for (int i = 0; i < steps.size() - KEEP_CHECKPOINTS; i++) {
                if (steps.get(i) != current) discard(checkpoints().resolve(stepName(steps.get(i))));
            }
        } catch (IOException e) {
            throw new BitEngineException("cannot remove old checkpoints in " + checkpoints() + ": " + e.getMessage());
        }
    }

    /** Writes the best weights so far as {@code best-step-NNNNNN.npz} and deletes other best files except {@code keep}. */
    public void saveBest(int step, Map<String, Tensor> parameters, Map<String, NpyArray> meta, int keep) {
        Checkpoints.saveWeights(bestWeights(step), parameters, meta);
        pruneBest(step, keep);
    }

    /** Deletes {@code best-step-*.npz} files other than those of the given steps. */
    public void pruneBest(int... keepSteps) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(checkpoints())) {
            for (Path p : s) {
                Matcher m = BEST_FILE.matcher(p.getFileName().toString());
                if (!m.matches()) continue;
                int step = Integer.parseInt(m.group(1));
                boolean keep = false;
                for (int k : keepSteps) keep |= k == step;
                if (!keep) Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new BitEngineException("cannot remove old best weights in " + checkpoints() + ": " + e.getMessage());
        }
    }

    /** Removes temporary files and directories a killed run left behind ({@code *.tmp-*}). */
    public void removeLeftovers() {
        for (Path dir : List.of(root, checkpoints())) {
            if (!Files.isDirectory(dir)) continue;
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                for (Path p : s) {
                    if (p.getFileName().toString().contains(".tmp-")) deleteTree(p);
                }
            } catch (IOException e) {
                throw new BitEngineException("cannot clean up " + dir + ": " + e.getMessage());
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Files

    static void writeNpz(Path path, Map<String, NpyArray> arrays) {
        try (NpzWriter w = NpzWriter.create(path)) {
            for (Map.Entry<String, NpyArray> e : arrays.entrySet()) w.write(e.getKey(), e.getValue());
            w.commit();
        }
    }

    /** Renames a directory in place of another, atomically where the file system can. */
    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Deletes a checkpoint directory so that no kill leaves it half-deleted under its own name: it is first
     * renamed to a temporary name (atomic), which {@link #removeLeftovers} finishes off if the deletion is
     * interrupted. Deleted file by file in place, a SIGKILL could leave a step directory missing one file.
     */
    private static void discard(Path dir) throws IOException {
        Path doomed = dir.resolveSibling(dir.getFileName() + ".tmp-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
        move(dir, doomed);
        deleteTree(doomed);
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
