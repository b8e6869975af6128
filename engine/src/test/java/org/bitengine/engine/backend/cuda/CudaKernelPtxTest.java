package org.bitengine.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.kernels.Kernels;
import org.junit.jupiter.api.Test;

/**
 * The kernels the CUDA backend launches ({@link CudaKernel}) against the PTX the build made: each
 * exists, unmangled, in the module named, with exactly the declared parameter types; and no kernel
 * in the PTX goes unused. Runs wherever nvcc was available at build time, GPU or not.
 */
class CudaKernelPtxTest {

    private static final Pattern ENTRY = Pattern.compile("\\.visible\\s+\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)\\s+\\w+");

    private static void assumeCompiled() {
        assumeTrue(Kernels.compiled(), () -> "nvcc was not available at build time, no PTX to check: " + Kernels.unavailableReason());
    }

    @Test
    void everyLaunchedKernelExistsWithItsDeclaredParameters() {
        assumeCompiled();
        for (CudaKernel k : CudaKernel.values()) {
            assertTrue(Kernels.modules().contains(k.module), k + ": module '" + k.module + "' is not in the PTX index " + Kernels.modules());
            String ptx = Kernels.ptx(k.module).orElseThrow();
            List<String> types = null;
            Matcher m = ENTRY.matcher(ptx);
            while (m.find()) {
                if (m.group(1).equals(k.entry)) types = parameterTypes(m.group(2));
            }
            assertTrue(types != null, k + ": no '.visible .entry " + k.entry + "' in " + k.module + ".ptx");
            List<String> declared = k.params.stream().map(a -> a.ptxType).toList();
            assertEquals(declared, types, k + ": parameter types of " + k.entry + " in " + k.module + ".ptx");
        }
    }

    @Test
    void everyKernelInThePtxIsLaunchedByTheBackend() {
        assumeCompiled();
        Set<String> launched = new HashSet<>();
        for (CudaKernel k : CudaKernel.values()) launched.add(k.module + "/" + k.entry);
        Set<String> unused = new TreeSet<>();
        for (String module : Kernels.modules()) {
            Matcher m = ENTRY.matcher(Kernels.ptx(module).orElseThrow());
            while (m.find()) {
                if (!launched.contains(module + "/" + m.group(1))) unused.add(module + "/" + m.group(1));
            }
        }
        assertEquals(Set.of(), unused, "kernels compiled but never launched");
    }

    @Test
    void entryNamesFollowTheOpDtypeConvention() {
        for (CudaKernel k : CudaKernel.values()) {
            assertTrue(k.entry.matches("[a-z0-9_]+_(f32|f64|i32)") || k.entry.matches("cast_[a-z0-9]+_to_[a-z0-9]+"),
                    k + ": '" + k.entry + "' is not {op}_{dtype}");
        }
    }

    private static List<String> parameterTypes(String params) {
        List<String> types = new ArrayList<>();
        Matcher p = PARAM.matcher(params);
        while (p.find()) types.add(p.group(1));
        return types;
    }
}
