package org.bitengine.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The CUDA kernels of bit-engine as PTX text, found on the classpath.
 *
 * <p>The build compiles every {@code kernels/src/main/cuda/<module>.cu} with nvcc into the resource
 * {@code org/bitengine/kernels/ptx/<module>.ptx} and lists the module names, one a line, in
 * {@code org/bitengine/kernels/ptx/index.txt} (a directory inside a jar cannot be listed
 * reliably). A build made where nvcc was not found has neither, and then {@link #compiled()} is
 * false and {@link #unavailableReason()} says why. Kernel names inside a module follow
 * {@code {op}_{dtype}}, e.g. {@code relu_fwd_f32}; see kernels/README.md.
 *
 * <p>This class only finds text: it knows nothing of devices, and loading the PTX
 * ({@code cuModuleLoadData}, which wants a NUL-terminated string) is the CUDA backend's business.
 */
public final class Kernels {

    /** Where the build puts the PTX, relative to this class's package. */
    private static final String PTX_DIR = "ptx/";
    private static final String INDEX = PTX_DIR + "index.txt";
    private static final String RESOURCE_DIR = "org/bitengine/kernels/" + PTX_DIR;

    static final String NO_NVCC =
            "this build of bit-engine was made without nvcc, so it has no CUDA kernels; "
                    + "rebuild with CUDA's nvcc on the PATH (or in $CUDA_HOME/bin)";

    private Kernels() {}

    /** True when this build carries the PTX of every module its index names. */
    public static boolean compiled() {
        return Index.INSTANCE.problem == null;
    }

    /**
     * The module names, sorted, e.g. {@code ["elementwise", "sgd"]}; a module in a subdirectory of
     * src/main/cuda is named with {@code /} ({@code "conv/winograd"}). Empty when not
     * {@link #compiled()}.
     */
    public static List<String> modules() {
        return Index.INSTANCE.modules;
    }

    /**
     * The PTX text of one module, or empty when this build has no such module (unknown name, or
     * nothing compiled). The text is not NUL-terminated.
     *
     * @throws UncheckedIOException if the index names the module but its resource cannot be read
     */
    public static Optional<String> ptx(String module) {
        if (!modules().contains(module)) {
            return Optional.empty();
        }
        try (InputStream in = Kernels.class.getResourceAsStream(PTX_DIR + module + ".ptx")) {
            if (in == null) { // the index was checked at start-up; the class loader changed since
                throw new IOException("resource " + RESOURCE_DIR + module + ".ptx disappeared");
            }
            return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot read the PTX of kernel module '" + module + "' from the classpath: "
                            + e.getMessage() + "; rebuild bit-engine-kernels", e);
        }
    }

    /**
     * One line saying why there are no kernels, fit to show a user who asked for the GPU; the
     * empty string when {@link #compiled()} is true.
     */
    public static String unavailableReason() {
        String problem = Index.INSTANCE.problem;
        return problem == null ? "" : problem;
    }

    /** Read once, on first use; immutable afterwards, so safe to share between threads. */
    private static final class Index {
        static final Index INSTANCE = load();

        final List<String> modules;
        /** Why nothing is usable, or null when every module listed is present. */
        final String problem;

        private Index(List<String> modules, String problem) {
            this.modules = List.copyOf(modules);
            this.problem = problem;
        }

        private static Index load() {
            List<String> names = new ArrayList<>();
            try (InputStream in = Kernels.class.getResourceAsStream(INDEX)) {
                if (in == null) {
                    return new Index(List.of(), NO_NVCC);
                }
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    String name = line.strip();
                    if (!name.isEmpty() && !name.startsWith("#")) {
                        names.add(name);
                    }
                }
            } catch (IOException e) {
                return new Index(List.of(), "cannot read " + RESOURCE_DIR + "index.txt from the classpath ("
                        + e.getMessage() + "); rebuild bit-engine-kernels");
            }
            // All or nothing: a jar that lost some PTX is damaged, and a half-working GPU backend
            // would fail later and less clearly.
            for (String name : names) {
                if (Kernels.class.getResource(PTX_DIR + name + ".ptx") == null) {
                    return new Index(List.of(), "the kernel index lists '" + name + "' but " + RESOURCE_DIR
                            + name + ".ptx is not on the classpath; rebuild bit-engine-kernels");
                }
            }
            names.sort(null);
            return new Index(names, null);
        }
    }
}
