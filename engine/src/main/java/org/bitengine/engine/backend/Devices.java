package org.bitengine.engine.backend;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.backend.cuda.CudaBackend;
import org.bitengine.engine.backend.cuda.CudaOptions;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * Chooses the backend a run computes on, from the string a user gives ({@code --device}):
 * <ul>
 *   <li>{@code cpu}: the CPU backend;</li>
 *   <li>{@code cuda} or {@code cuda:N}: GPU 0 or GPU N, or a {@link BitEngineException} whose one
 *       line says what is missing (driver, device, cuDNN, cuBLAS, kernels);</li>
 *   <li>{@code auto}: GPU 0 when it opens, else the CPU with {@link Selection#reason()} saying in one
 *       line why the GPU was not used.</li>
 * </ul>
 * A GPU is opened once per process and ordinal; later selections return the same backend. TF32
 * follows {@link CudaOptions#TF32_PROPERTY} (on unless {@code -Dbitengine.cuda.tf32=false}).
 */
public final class Devices {

    private static final Pattern CUDA = Pattern.compile("cuda(?::(\\d+))?");
    private static final Map<Integer, CudaBackend> OPENED = new HashMap<>();

    private Devices() {}

    /**
     * The backend chosen, and why not the GPU when {@code auto} fell back to the CPU (empty
     * otherwise).
     */
    public record Selection(Backend backend, String reason) {
        public boolean fellBack() {
            return !reason.isEmpty();
        }
    }

    /**
     * @param spec {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N} (case-insensitive)
     * @throws BitEngineException for an unknown spec, or when a GPU that was asked for explicitly cannot be used
     */
    public static Selection select(String spec) {
        String s = spec == null ? "" : spec.strip().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("cpu")) return new Selection(CpuBackend.get(), "");
        if (s.equals("auto")) {
            try {
                return new Selection(cuda(0), "");
            } catch (BitEngineException e) {
                return new Selection(CpuBackend.get(), "no usable GPU, running on the CPU: " + e.getMessage());
            }
        }
        Matcher m = CUDA.matcher(s);
        if (m.matches()) {
            int ordinal;
            try {
                ordinal = m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
            } catch (NumberFormatException e) {
                throw new BitEngineException("device '" + spec + "': the GPU number is too large");
            }
            return new Selection(cuda(ordinal), "");
        }
        throw new BitEngineException("unknown device '" + spec + "'; use auto, cpu, cuda or cuda:N (N = 0 for the first GPU)");
    }

    private static synchronized CudaBackend cuda(int ordinal) {
        CudaBackend b = OPENED.get(ordinal);
        if (b == null) {
            b = CudaBackend.open(CudaOptions.defaults(ordinal));
            OPENED.put(ordinal, b);
        }
        return b;
    }

    /**
     * {@code t} on {@code target}: the same tensor when it is there already, else a copy through the
     * host with the same dtype and shape (parameters loaded on the CPU, batches, results read back).
     */
    public static Tensor to(Tensor t, Backend target) {
        if (t.backend() == target) return t;
        Shape shape = t.shape();
        return switch (t.dtype()) {
            case F32 -> target.fromHost(t.toFloatArray(), shape);
            case F64 -> target.fromHost(t.toDoubleArray(), shape);
            case I32 -> {
                double[] values = t.toDoubleArray();
                int[] ints = new int[values.length];
                for (int i = 0; i < ints.length; i++) ints[i] = (int) values[i];
                yield target.fromHost(ints, shape);
            }
        };
    }
}
