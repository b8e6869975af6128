package org.bitengine.engine.backend.cuda.bindings;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.bitengine.engine.BitEngineException;

/**
 * Finds and opens the NVIDIA libraries (libcuda, cuBLAS, cuDNN).
 *
 * <p>The GPU machines this project runs on often have cuDNN and cuBLAS only as the pip packages
 * PyTorch installs ({@code site-packages/nvidia/cudnn/lib}, {@code .../nvidia/cublas/lib}), which
 * are not on the system loader's path. So a library is looked for, in this order, in:
 * <ol>
 *   <li>the directories of the system property {@value #PROPERTY} or, when that is unset, of the
 *       environment variable {@value #ENV} (path-separated, like {@code PATH});</li>
 *   <li>the directories of {@code LD_LIBRARY_PATH};</li>
 *   <li>{@code nvidia/*&#47;lib} (and {@code nvidia/*&#47;*&#47;lib}) under every Python site-packages
 *       directory found from {@code VIRTUAL_ENV}, {@code CONDA_PREFIX}, {@code PYTHONPATH},
 *       {@code ~/.local}, pyenv, {@code /opt/conda} and {@code /usr[/local]/lib/python3*};</li>
 *   <li>{@code $CUDA_HOME/lib64}, {@code /usr/local/cuda/lib64}, {@code /usr/lib/x86_64-linux-gnu},
 *       {@code /usr/lib64}, {@code /usr/lib};</li>
 *   <li>and last the system loader itself ({@code dlopen} of the bare file name, which also
 *       consults {@code ld.so.cache}).</li>
 * </ol>
 * When nothing is found, the exception's one line names the file names tried and every place
 * looked in, so the user can see at once which directory to add to {@value #ENV}.
 */
// Native access is what this class is for (the JVM runs with --enable-native-access).
@SuppressWarnings("restricted")
public final class NativeLibraries {

    /** System property naming extra library directories; wins over {@link #ENV}. */
    public static final String PROPERTY = "bitengine.cuda.libs";
    /** Environment variable naming extra library directories. */
    public static final String ENV = "BITENGINE_CUDA_LIBS";

    private NativeLibraries() {}

    /** An opened library: its symbols and where it came from (a path, or the bare name the loader resolved). */
    public record Opened(SymbolLookup symbols, String origin, Optional<Path> directory) {}

    /**
     * Opens the first of {@code fileNames} found (e.g. {@code libcublas.so.13}, then
     * {@code libcublas.so.12}); first each name in every search directory, then each bare name
     * through the system loader. Before opening the library from a directory, the
     * {@code companions} present in the same directory are opened, so that the library's own
     * dependencies ({@code libcublasLt}, cuDNN's sub-libraries) resolve to the same installation
     * even when the directory is not on the loader's path.
     *
     * @param what      what the library is, for the message ("cuDNN 9")
     * @param fixHint   what to do when it is missing, for the message
     * @throws BitEngineException naming everything looked for and everywhere looked, when none is found
     */
    public static Opened open(String what, List<String> fileNames, List<String> companions, String fixHint) {
        List<Path> dirs = searchDirectories(System.getenv(), System.getProperty(PROPERTY));
        List<String> failures = new ArrayList<>();
        for (String name : fileNames) {
            for (Path dir : dirs) {
                Path file = dir.resolve(name);
                if (!Files.isRegularFile(file)) continue;
                openCompanions(dir, companions);
                try {
                    return new Opened(SymbolLookup.libraryLookup(file, Arena.global()), file.toString(), Optional.of(dir));
                } catch (IllegalArgumentException e) {
                    failures.add(file + " (" + e.getMessage() + ")");
                }
            }
        }
        for (String name : fileNames) {
            try {
                return new Opened(SymbolLookup.libraryLookup(name, Arena.global()), name + " (system loader)", Optional.empty());
            } catch (IllegalArgumentException e) {
                // not known to the system loader either; the message below lists it
            }
        }
        throw new BitEngineException(what + " not found: looked for " + String.join(", ", fileNames)
                + " in " + describe(dirs) + " and through the system loader"
                + (failures.isEmpty() ? "" : "; found but could not open " + String.join(", ", failures))
                + "; " + fixHint + ", or set " + ENV + " to the directory that holds it");
    }

    /**
     * Opens whichever {@code companions} exist in {@code dir}, repeating while that makes progress,
     * because one companion may need another (cuDNN's sub-libraries link each other by soname and
     * resolve only once the other is loaded). A companion that cannot be opened (an optional one
     * with a missing dependency, such as cuDNN's runtime-compiled engines without NVRTC) is left
     * out; the library proper then reports what it lacks when it is used.
     */
    private static void openCompanions(Path dir, List<String> companions) {
        Set<String> pending = new LinkedHashSet<>();
        for (String c : companions) if (Files.isRegularFile(dir.resolve(c))) pending.add(c);
        boolean progress = true;
        while (progress && !pending.isEmpty()) {
            progress = false;
            for (var it = pending.iterator(); it.hasNext(); ) {
                String c = it.next();
                try {
                    SymbolLookup.libraryLookup(dir.resolve(c), Arena.global());
                    it.remove();
                    progress = true;
                } catch (IllegalArgumentException e) {
                    // retried in the next round, after the others
                }
            }
        }
    }

    /**
     * Every directory to search, in order, without duplicates and only those that exist.
     *
     * @param env      the environment (a parameter so that tests can give their own)
     * @param property the value of {@value #PROPERTY}, or null
     */
    public static List<Path> searchDirectories(Map<String, String> env, String property) {
        Set<Path> dirs = new LinkedHashSet<>();
        String explicit = property != null && !property.isBlank() ? property : env.get(ENV);
        addPathList(dirs, explicit);
        addPathList(dirs, env.get("LD_LIBRARY_PATH"));
        for (Path site : sitePackages(env)) {
            addGlob(dirs, site.resolve("nvidia"), 1);
            addGlob(dirs, site.resolve("nvidia"), 2);
        }
        String cudaHome = env.get("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) dirs.add(Path.of(cudaHome, "lib64"));
        for (String d : List.of("/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib")) {
            dirs.add(Path.of(d));
        }
        List<Path> existing = new ArrayList<>();
        for (Path d : dirs) if (Files.isDirectory(d)) existing.add(d);
        return existing;
    }

    /** Python site-packages (and dist-packages) directories that may hold NVIDIA's pip wheels. */
    static List<Path> sitePackages(Map<String, String> env) {
        Set<Path> roots = new LinkedHashSet<>();
        String pythonPath = env.get("PYTHONPATH");
        if (pythonPath != null) {
            for (String p : pythonPath.split(File.pathSeparator)) if (!p.isBlank()) roots.add(Path.of(p));
        }
        List<Path> prefixes = new ArrayList<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) prefixes.add(Path.of(v));
        }
        String home = env.get("HOME");
        if (home != null && !home.isBlank()) {
            prefixes.add(Path.of(home, ".local"));
            for (Path version : children(Path.of(home, ".pyenv", "versions"))) prefixes.add(version);
        }
        prefixes.add(Path.of("/opt/conda"));
        prefixes.add(Path.of("/usr/local"));
        prefixes.add(Path.of("/usr"));
        for (Path prefix : prefixes) {
            for (Path lib : List.of(prefix.resolve("lib"), prefix.resolve("lib64"))) {
                for (Path python : children(lib)) {
                    if (!python.getFileName().toString().startsWith("python3")) continue;
                    roots.add(python.resolve("site-packages"));
                    roots.add(python.resolve("dist-packages"));
                }
            }
        }
        List<Path> existing = new ArrayList<>();
        for (Path r : roots) if (Files.isDirectory(r)) existing.add(r);
        return existing;
    }

    /** Adds {@code base/*&#47;lib} (depth 1) or {@code base/*&#47;*&#47;lib} (depth 2), sorted. */
    private static void addGlob(Set<Path> dirs, Path base, int depth) {
        List<Path> level = List.of(base);
        for (int i = 0; i < depth; i++) {
            List<Path> next = new ArrayList<>();
            for (Path p : level) next.addAll(children(p));
            level = next;
        }
        for (Path p : level) {
            Path lib = p.resolve("lib");
            if (Files.isDirectory(lib)) dirs.add(lib);
        }
    }

    /** The sub-directories of {@code dir}, sorted by name; empty when it is not a readable directory. */
    private static List<Path> children(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path p : s) out.add(p);
        } catch (IOException e) {
            return List.of();
        }
        out.sort(null);
        return out;
    }

    private static void addPathList(Set<Path> dirs, String list) {
        if (list == null) return;
        for (String p : list.split(File.pathSeparator)) if (!p.isBlank()) dirs.add(Path.of(p));
    }

    private static String describe(List<Path> dirs) {
        if (dirs.isEmpty()) return "no existing directory (" + ENV + ", LD_LIBRARY_PATH, python site-packages nvidia/*/lib, CUDA_HOME and the standard directories gave none)";
        List<String> names = new ArrayList<>();
        for (Path d : dirs) names.add(d.toString());
        return "[" + String.join(", ", names) + "]";
    }
}
