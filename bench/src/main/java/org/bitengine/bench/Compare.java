package org.bitengine.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

import org.bitengine.engine.backend.ConvGeometry;
import org.bitengine.engine.backend.cpu.Conv2dF32;
import org.bitengine.engine.backend.cpu.CpuParallel;
import org.bitengine.engine.backend.cpu.Sgemm;

/**
 * Times one named case outside JMH and prints its median, for scripts/bench/torch_compare.py, which
 * interleaves these timings with PyTorch's on the same shapes.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar org.bitengine.bench.Compare [--threads T] [--warmup W] [--reps R] CASE...
 * java -cp bench/target/benchmarks.jar org.bitengine.bench.Compare [--threads T] --serve
 * </pre>
 *
 * Cases: {@code gemm:[label_]MxNxK}; {@code conv:LAYER:PASS:RES} with LAYER one of
 * {@link Shapes#CONV_LAYERS}, PASS {@code fwd}, {@code bwd_data} or {@code bwd_filter}, batch 8;
 * {@code train:MODEL:RES:BATCH} (one {@link BitTrainStepBenchmark} step).
 * Each prints {@code OK case median_ms min_ms max_ms gflops} (GFLOP/s at the median). With
 * {@code --serve} the JVM stays up (JIT and buffers warm) and reads {@code CASE WARMUP REPS} lines
 * from stdin, answering each with one such line (or {@code ERR message}).
 */
public final class Compare {

    private Compare() {
    }

    private interface Case {
        void run();

        double flops();
    }

    private static String lastName;
    private static Case last;

    public static void main(String[] args) throws Exception {
        int threads = 2, warmup = 3, reps = 10;
        boolean serve = false;
        int i = 0;
        for (; i < args.length && args[i].startsWith("--"); i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--serve" -> serve = true;
                default -> {
                    System.err.println("Compare: unknown option " + args[i] + "; use --threads, --warmup, --reps or --serve");
                    System.exit(2);
                }
            }
        }
        CpuParallel.setThreads(threads);
        if (!serve) {
            if (i == args.length) {
                System.err.println("usage: Compare [--threads T] [--warmup W] [--reps R] CASE... | [--threads T] --serve");
                System.exit(2);
            }
            try {
                for (; i < args.length; i++) System.out.println(time(args[i], warmup, reps));
            } catch (IllegalArgumentException e) {
                System.err.println("Compare: " + e.getMessage());
                System.exit(2);
            }
            return;
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("READY threads=" + threads);
        System.out.flush();
        for (String line; (line = in.readLine()) != null; ) {
            line = line.trim();
            if (line.isEmpty()) continue;
            if (line.equals("quit")) break;
            String[] p = line.split("\\s+");
            String reply;
            try {
                reply = time(p[0], p.length > 1 ? Integer.parseInt(p[1]) : warmup, p.length > 2 ? Integer.parseInt(p[2]) : reps);
            } catch (RuntimeException | OutOfMemoryError e) {
                reply = "ERR " + p[0] + " " + e;
            }
            System.out.println(reply);
            System.out.flush();
        }
    }

    /** Warm-up runs, then {@code reps} timed runs of the case; one result line. */
    static String time(String name, int warmup, int reps) {
        Case c;
        if (name.equals(lastName)) {
            c = last; // same buffers, so alternating with PyTorch does not re-allocate
        } else {
            last = null;
            c = build(name);
            last = c;
            lastName = name;
        }
        for (int w = 0; w < warmup; w++) c.run();
        double[] ms = new double[Math.max(1, reps)];
        for (int r = 0; r < ms.length; r++) {
            long t0 = System.nanoTime();
            c.run();
            ms[r] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        double median = ms.length % 2 == 1 ? ms[ms.length / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
        return String.format(Locale.ROOT, "OK %s %.4f %.4f %.4f %.2f", name, median, ms[0], ms[ms.length - 1], c.flops() / median / 1e6);
    }

    private static Case build(String name) {
        String[] p = name.split(":");
        switch (p[0]) {
            case "gemm" -> {
                Shapes.Gemm g = Shapes.gemm(p[1]);
                float[] a = Shapes.random(g.m() * g.k(), 1), b = Shapes.random(g.k() * g.n(), 2), c = new float[g.m() * g.n()];
                return new Case() {
                    public void run() {
                        Sgemm.gemm(false, false, g.m(), g.n(), g.k(), 1f, a, 0, g.k(), b, 0, g.n(), 0f, c, 0, g.n());
                    }

                    public double flops() {
                        return g.flops();
                    }
                };
            }
            case "conv" -> {
                ConvGeometry g = Shapes.convLayer(p[1]).geometry(Integer.parseInt(p[3]), Shapes.BATCH);
                int xs = g.n() * g.h() * g.w() * g.c(), ys = g.n() * g.oh() * g.ow() * g.o(), ws = g.kh() * g.kw() * g.cPerGroup() * g.o();
                float[] x = Shapes.random(xs, 1), w = Shapes.random(ws, 2), dy = Shapes.random(ys, 3);
                float[] out = new float[switch (p[2]) {
                    case "fwd" -> ys;
                    case "bwd_data" -> xs;
                    case "bwd_filter" -> ws;
                    default -> throw new IllegalArgumentException("unknown conv pass '" + p[2] + "': fwd, bwd_data or bwd_filter");
                }];
                Runnable r = switch (p[2]) {
                    case "fwd" -> () -> Conv2dF32.forward(g, x, w, out);
                    case "bwd_data" -> () -> Conv2dF32.backwardData(g, dy, w, out);
                    default -> () -> Conv2dF32.backwardFilter(g, x, dy, out);
                };
                double f = Shapes.convFlops(g);
                return new Case() {
                    public void run() {
                        r.run();
                    }

                    public double flops() {
                        return f;
                    }
                };
            }
            case "train" -> {
                BitTrainStepBenchmark.TrainStep s = new BitTrainStepBenchmark.TrainStep(p[1], Integer.parseInt(p[2]), Integer.parseInt(p[3]));
                return new Case() {
                    public void run() {
                        double loss = s.run();
                        if (!Double.isFinite(loss)) throw new IllegalStateException("training step diverged: loss " + loss);
                    }

                    public double flops() {
                        return s.flops();
                    }
                };
            }
            default -> throw new IllegalArgumentException("unknown case '" + name + "': gemm:MxNxK, conv:LAYER:PASS:RES or train:MODEL:RES:BATCH");
        }
    }
}
