package org.bitengine.bench.gpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.autograd.Tape;
import org.bitengine.engine.backend.cuda.CudaBackend;
import org.bitengine.engine.backend.cuda.CudaOptions;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.optim.Sgd;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitResNet;

/**
 * Training-step throughput of BiT-R50x1 on the GPU (img/s), the number scripts/gpu/torch_bit_bench.py
 * measures for PyTorch on the same GPU: random init, 1000 classes, non-zero head (every gradient
 * flows), random images, forward + mean softmax cross-entropy + backward + SGD momentum 0.9.
 *
 * <p>A plain main rather than JMH: GPU work is asynchronous, so each measured interval must end with a
 * stream synchronisation, and the interval is many steps long; the warm-up steps also run cuDNN's
 * per-shape algorithm search, which must stay out of the measurement, as cudnn.benchmark's does in
 * the PyTorch script.
 *
 * <p>Usage: {@code GpuTrainStepBench [--sizes 128,224] [--batches 64,128] [--precisions fp32,tf32]
 * [--warmup 5] [--steps 20] [--out results.jsonl]}. Each configuration prints one line and, with
 * --out, appends one JSON object {"framework":"bit-engine","size":..,"batch":..,"precision":..,"img_per_s":..}.
 * A configuration that does not fit in GPU memory prints the out-of-memory line and the run goes on.
 */
public final class GpuTrainStepBench {

    private GpuTrainStepBench() {}

    public static void main(String[] args) throws IOException {
        List<Integer> sizes = List.of(128, 224), batches = List.of(64, 128);
        List<String> precisions = List.of("fp32", "tf32");
        int warmup = 5, steps = 20;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--sizes" -> sizes = ints(args[++i]);
                case "--batches" -> batches = ints(args[++i]);
                case "--precisions" -> precisions = List.of(args[++i].split(","));
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        for (String precision : precisions) {
            if (!precision.equals("fp32") && !precision.equals("tf32")) throw new IllegalArgumentException("precision fp32 or tf32, got " + precision);
            CudaBackend gpu;
            try {
                gpu = CudaBackend.open(CudaOptions.defaults(0).withTf32(precision.equals("tf32")));
            } catch (BitEngineException e) {
                System.err.println("GpuTrainStepBench: " + e.getMessage());
                System.exit(2);
                return;
            }
            System.out.println("# " + gpu.describe());
            for (int size : sizes) {
                for (int batch : batches) {
                    String config = String.format(Locale.ROOT, "BiT-R50x1 %dx%d batch %d %s", size, size, batch, precision);
                    try {
                        double rate = measure(gpu, size, batch, warmup, steps);
                        System.out.printf(Locale.ROOT, "%s: %.1f img/s%n", config, rate);
                        if (out != null) {
                            Files.writeString(out, String.format(Locale.ROOT,
                                    "{\"framework\":\"bit-engine\",\"model\":\"BiT-R50x1\",\"size\":%d,\"batch\":%d,\"precision\":\"%s\",\"img_per_s\":%.2f}%n",
                                    size, batch, precision, rate), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                        }
                    } catch (BitEngineException e) {
                        System.out.println(config + ": " + e.getMessage());
                    }
                    System.gc();
                    gpu.releaseCachedMemory();
                }
            }
            gpu.releaseCachedMemory();
        }
    }

    /** Images per second over {@code steps} steps after {@code warmup} unmeasured ones. */
    private static double measure(CudaBackend gpu, int size, int batch, int warmup, int steps) {
        BitResNet net = new BitResNet(BitConfig.named("BiT-R50x1", 1000, false), ParameterStore.random(gpu, 1));
        Sgd sgd = new Sgd(net.parameters(), 0.9);
        SplittableRandom rng = new SplittableRandom(3);
        float[] images = new float[batch * size * size * 3];
        for (int i = 0; i < images.length; i++) images[i] = (float) (rng.nextDouble() * 2 - 1);
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.nextInt(1000);
        Tensor x = gpu.fromHost(images, Shape.of(batch, size, size, 3));
        Tensor y = gpu.fromHost(labels, Shape.of(batch));
        for (int s = 0; s < warmup; s++) step(net, sgd, x, y);
        gpu.synchronize();
        long start = System.nanoTime();
        for (int s = 0; s < steps; s++) step(net, sgd, x, y);
        gpu.synchronize();
        double seconds = (System.nanoTime() - start) / 1e9;
        return (double) batch * steps / seconds;
    }

    /** One step; the loss is not read back, so nothing waits for the GPU inside the measured loop. */
    private static void step(BitResNet net, Sgd sgd, Tensor x, Tensor y) {
        sgd.zeroGrad();
        try (Tape tape = Tape.record()) {
            tape.backward(Ops.mean(Ops.softmaxCrossEntropy(net.forward(x), y)));
        }
        sgd.step(1e-4);
    }

    private static List<Integer> ints(String csv) {
        List<Integer> out = new ArrayList<>();
        for (String s : csv.split(",")) out.add(Integer.parseInt(s.strip()));
        return out;
    }
}
