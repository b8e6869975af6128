#!/usr/bin/python3
"""bit-engine against PyTorch on this machine: the same GEMM and convolution shapes and the same BiT-R50x1
training step (128×128, batch 8), timed interleaved. Not part of CI.

Needs Debian's python3-torch (apt-get install -y python3-torch), so run it with /usr/bin/python3, and the
bench jar (mvn -B -q -DskipTests package):

    /usr/bin/python3 scripts/bench/torch_compare.py [--threads 2] [--rounds 3] [--only gemm|conv|train] \
        [--append bench/RESULTS.md]

Our side runs in one JVM kept up for the whole comparison (org.bitengine.bench.Compare --serve, so its
JIT and buffers stay warm); for every case the script alternates: our timing (warm-up + median of N,
measured inside the JVM), then PyTorch's (warm-up + median of N), for --rounds rounds, and reports the
median of the per-round medians. Both sides use the same thread count; PyTorch tensors are
channels_last (NHWC in memory, like ours). torch/ours > 1 means bit-engine is faster.

The shape tables below repeat org.bitengine.bench.Shapes (GEMMS and CONV_LAYERS); keep them in step.
"""

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.exit("torch_compare.py: PyTorch is not importable from %s; install Debian's python3-torch "
             "(apt-get install -y python3-torch) and run this script with /usr/bin/python3" % sys.executable)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TORCH_START = "<!-- torch-compare:start -->"
TORCH_END = "<!-- torch-compare:end -->"
BATCH = 8

# label, M, N, K: the im2col GEMMs of R50x1's forward convolutions at 128×128, batch 8, and 1024³.
GEMMS = [
    ("root7x7s2", 32768, 64, 147),
    ("b1_1x1_64to256", 8192, 256, 64),
    ("b1_3x3_64to64", 8192, 64, 576),
    ("b2_3x3_128to128", 2048, 128, 1152),
    ("b3_1x1_1024to256", 512, 256, 1024),
    ("b4_3x3_512to512", 128, 512, 4608),
    ("b4_1x1_512to2048", 128, 2048, 512),
    ("square", 1024, 1024, 1024),
]

# name, input size divisor of the resolution, C, O, kernel, stride, pad
CONV_LAYERS = [
    ("root7x7s2_3to64", 1, 3, 64, 7, 2, 3),
    ("b1_1x1_64to256", 4, 64, 256, 1, 1, 0),
    ("b1_3x3_64to64", 4, 64, 64, 3, 1, 1),
    ("b2_3x3s2_128to128", 4, 128, 128, 3, 2, 1),
    ("b2_proj1x1s2_256to512", 4, 256, 512, 1, 2, 0),
]
PASSES = [("fwd", "fwd"), ("bwd_data", "bwd data"), ("bwd_filter", "bwd filter")]
RESOLUTIONS = [128, 224]


def median_ms(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(max(1, reps)):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


# ---- our side ------------------------------------------------------------------------------------

class Ours:
    """org.bitengine.bench.Compare --serve: one line per case, answered with 'OK case median min max gflops'."""

    def __init__(self, java, jar, threads):
        # A private copy of the jar: a build started meanwhile rewrites benchmarks.jar under a running JVM.
        self.tmp = tempfile.mkdtemp(prefix="bitengine-compare-")
        jar = shutil.copy(jar, os.path.join(self.tmp, "benchmarks.jar"))
        cmd = [java, "-Xmx8g", "--add-modules", "jdk.incubator.vector", "-cp", jar, "org.bitengine.bench.Compare", "--threads", str(threads), "--serve"]
        try:
            self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        except OSError as e:
            sys.exit("torch_compare.py: cannot start %s: %s" % (java, e))
        line = self.p.stdout.readline()
        if not line.startswith("READY"):
            sys.exit("torch_compare.py: Compare did not start (%r); is %s built?" % (line, jar))

    def time(self, case, warmup, reps):
        self.p.stdin.write("%s %d %d\n" % (case, warmup, reps))
        self.p.stdin.flush()
        reply = self.p.stdout.readline().split()
        if not reply or reply[0] != "OK":
            sys.exit("torch_compare.py: our side failed on %s: %s" % (case, " ".join(reply) or "no answer"))
        return float(reply[2]), float(reply[5])  # median ms, GFLOP/s at the median

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
            self.p.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---- PyTorch side --------------------------------------------------------------------------------

def cl(t):
    return t.contiguous(memory_format=torch.channels_last)


def torch_gemm(m, n, k):
    """Two ways: torch.mm (the BLAS torch links; Debian's is the reference netlib BLAS) and the same
    product as a 1×1 convolution, which goes through oneDNN: x [1,K,M,1] in channels_last is A [M,K]
    row-major, w [N,K,1,1] is Bᵀ, the output [1,N,M,1] in channels_last is C [M,N]."""
    a = torch.randn(m, k)
    b = torch.randn(k, n)
    c = torch.empty(m, n)
    x = a.view(1, m, 1, k).permute(0, 3, 1, 2)
    w = cl(b.t().contiguous().view(n, k, 1, 1))
    assert x.is_contiguous(memory_format=torch.channels_last)

    def mm():
        torch.mm(a, b, out=c)

    def onednn():
        F.conv2d(x, w)
    return onednn, mm


def torch_conv(layer, res, pass_):
    _, div, c, o, k, s, p = layer
    h = res // div
    x = cl(torch.randn(BATCH, c, h, h))
    w = cl(torch.randn(o, c, k, k))
    oh = (h + 2 * p - k) // s + 1
    dy = cl(torch.randn(BATCH, o, oh, oh))
    if pass_ == "fwd":
        return lambda: F.conv2d(x, w, None, s, p)
    mask = [True, False, False] if pass_ == "bwd_data" else [False, True, False]
    return lambda: torch.ops.aten.convolution_backward(dy, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1, mask)


class StdConv2d(nn.Conv2d):
    """Convolution with a weight-standardised kernel: per output channel, biased variance, eps 1e-10."""

    def forward(self, x):
        var, mean = torch.var_mean(self.weight, dim=(1, 2, 3), keepdim=True, unbiased=False)
        return F.conv2d(x, (self.weight - mean) / torch.sqrt(var + 1e-10), self.bias, self.stride, self.padding)


class Unit(nn.Module):
    """Pre-activation bottleneck: GN-ReLU-conv1×1, GN-ReLU-conv3×3 (stride here), GN-ReLU-conv1×1; the
    projection, when there is one, takes the pre-activation."""

    def __init__(self, cin, cout, cmid, stride):
        super().__init__()
        self.gn1, self.conv1 = nn.GroupNorm(32, cin, eps=1e-5), StdConv2d(cin, cmid, 1, bias=False)
        self.gn2, self.conv2 = nn.GroupNorm(32, cmid, eps=1e-5), StdConv2d(cmid, cmid, 3, stride, 1, bias=False)
        self.gn3, self.conv3 = nn.GroupNorm(32, cmid, eps=1e-5), StdConv2d(cmid, cout, 1, bias=False)
        self.proj = StdConv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        pre = F.relu(self.gn1(x))
        shortcut = self.proj(pre) if self.proj is not None else x
        y = self.conv1(pre)
        y = self.conv2(F.relu(self.gn2(y)))
        y = self.conv3(F.relu(self.gn3(y)))
        return y + shortcut


class ResNetV2(nn.Module):
    """BiT's ResNet-v2: 7×7/2 root, zero pad 1, 3×3/2 max-pool, four blocks, GN-ReLU-mean-1×1 conv head."""

    def __init__(self, units=(3, 4, 6, 3), wf=1, classes=1000):
        super().__init__()
        self.root = StdConv2d(3, 64 * wf, 7, 2, 3, bias=False)
        blocks, cin = [], 64 * wf
        for b, n in enumerate(units):
            mid = 64 * wf * 2 ** b
            for u in range(n):
                blocks.append(Unit(cin if u == 0 else 4 * mid, 4 * mid, mid, 2 if (u == 0 and b > 0) else 1))
            cin = 4 * mid
        self.body = nn.Sequential(*blocks)
        self.gn = nn.GroupNorm(32, cin, eps=1e-5)
        self.head = nn.Conv2d(cin, classes, 1)
        nn.init.normal_(self.head.weight, std=0.01)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        y = self.root(x)
        y = F.max_pool2d(F.pad(y, (1, 1, 1, 1)), 3, 2)
        if x.is_contiguous(memory_format=torch.channels_last):
            y = cl(y)  # F.pad may hand back NCHW
        y = self.body(y)
        y = F.relu(self.gn(y))
        y = y.mean(dim=(2, 3), keepdim=True)
        return self.head(y).flatten(1)


def torch_train(res, batch, channels_last):
    torch.manual_seed(0)
    model = ResNetV2()
    x = torch.rand(batch, 3, res, res) * 2 - 1
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = cl(x)
    y = torch.randint(0, 1000, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if not torch.isfinite(loss):
            raise RuntimeError("PyTorch training step diverged")
    return step


# ---- the comparison ------------------------------------------------------------------------------

def conv_flops(layer, res):
    _, div, c, o, k, s, p = layer
    h = res // div
    oh = (h + 2 * p - k) // s + 1
    return 2.0 * BATCH * oh * oh * o * k * k * c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="alternations per case (default 3)")
    ap.add_argument("--only", choices=["gemm", "conv", "train"], action="append")
    ap.add_argument("--jar", default=os.path.join(ROOT, "bench/target/benchmarks.jar"))
    ap.add_argument("--java", default=None, help="java of JDK 25+ (default $JAVA_HOME/bin/java, else temurin-25)")
    ap.add_argument("--append", metavar="RESULTS.md", help="write the table into this file (replacing an earlier one)")
    args = ap.parse_args()

    if not os.path.exists(args.jar):
        sys.exit("torch_compare.py: %s not found; build it with: mvn -B -q -DskipTests package" % args.jar)
    java = args.java
    if java is None:
        jh = os.environ.get("JAVA_HOME") or "/usr/lib/jvm/temurin-25-jdk-amd64"
        java = os.path.join(jh, "bin", "java")
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(True)
    kinds = args.only or ["gemm", "conv", "train"]
    load_before = open("/proc/loadavg").read().split()[:3]
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")

    # (section, label, our case, flops, torch fn, warm-up, reps, alternative torch fn, alternative label)
    cases = []
    if "gemm" in kinds:
        for name, m, n, k in GEMMS:
            onednn, mm = torch_gemm(m, n, k)
            cases.append(("gemm", "%s %d×%d×%d" % (name, m, n, k), "gemm:%s_%dx%dx%d" % (name, m, n, k),
                          2.0 * m * n * k, onednn, 3, 7, mm, "torch.mm"))
    if "conv" in kinds:
        for res in RESOLUTIONS:
            for layer in CONV_LAYERS:
                for p, plabel in PASSES:
                    cases.append(("conv", "%s %d² %s" % (layer[0], res, plabel), "conv:%s:%s:%d" % (layer[0], p, res),
                                  conv_flops(layer, res), torch_conv(layer, res, p), 2, 5, None, None))
    if "train" in kinds:
        cases.append(("train", "BiT-R50x1 train step 128² batch 8", "train:BiT-R50x1:128:8", None,
                      torch_train(128, 8, True), 1, 3, torch_train(128, 8, False), "NCHW"))

    ours = Ours(java, args.jar, args.threads)
    rows = []
    try:
        for section, label, case, flops, fn, warmup, reps, alt, alt_label in cases:
            o, t, a = [], [], []
            for r in range(args.rounds):
                w = warmup + (1 if r == 0 else 0)
                ms, gflops = ours.time(case, w, reps)
                o.append(ms)
                if flops is None and gflops > 0:
                    flops = gflops * ms * 1e6  # the model FLOPs our side counts (Shapes.bitTrainStepFlops)
                grad = section == "train"
                with torch.set_grad_enabled(grad):
                    t.append(median_ms(fn, w, reps))
                    if alt is not None:
                        a.append(median_ms(alt, w, reps))
            om, tm = statistics.median(o), statistics.median(t)
            am = statistics.median(a) if a else None
            rows.append((section, label, om, tm, am, alt_label, flops))
            print("%-44s ours %9.2f ms  torch %9.2f ms  torch/ours %5.2f%s" % (
                label, om, tm, tm / om, "   (%s %.2f ms)" % (alt_label, am) if am else ""), flush=True)
    finally:
        ours.close()
    load_after = open("/proc/loadavg").read().split()[:3]

    lines = [TORCH_START, "", "## bit-engine vs PyTorch (same machine, interleaved)", ""]
    lines.append("`/usr/bin/python3 scripts/bench/torch_compare.py` on %s: PyTorch %s (Debian python3-torch; "
                 "convolutions through oneDNN, `torch.mm` through the BLAS it links), %d threads on both sides, "
                 "PyTorch tensors channels_last. For each case our timing (a JVM kept warm, "
                 "`org.bitengine.bench.Compare --serve`) and PyTorch's alternate, %d rounds of warm-up + median of "
                 "N; the figure is the median of the round medians. Load average (1/5/15 min) before %s, after %s."
                 % (started, torch.__version__, args.threads, args.rounds, " ".join(load_before), " ".join(load_after)))
    lines.append("")
    lines.append("**torch/ours > 1: bit-engine is faster.** GEMM: the PyTorch column is the product run as a 1×1 "
                 "convolution (oneDNN), the note gives `torch.mm`. Train step: forward + cross-entropy + backward + "
                 "SGD momentum, our `BitTrainStepBenchmark.TrainStep` against a ResNet-v2 (StdConv2d + GroupNorm) "
                 "written in the script; the note gives PyTorch in NCHW.")
    lines.append("")
    lines.append("| case | ours ms | ours GFLOP/s | PyTorch ms | PyTorch GFLOP/s | torch/ours | note |")
    lines.append("|---|---|---|---|---|---|---|")
    for section, label, om, tm, am, alt_label, flops in rows:
        og = "%.1f" % (flops / om / 1e6) if flops else "–"
        tg = "%.1f" % (flops / tm / 1e6) if flops else "–"
        note = ""
        if am is not None:
            note = "%s %.2f ms (torch/ours %.2f)" % (alt_label, am, am / om)
        lines.append("| %s | %.2f | %s | %.2f | %s | **%.2f** | %s |" % (label, om, og, tm, tg, tm / om, note))
    gm = statistics.geometric_mean([tm / om for _, _, om, tm, _, _, _ in rows]) if rows else None
    if gm:
        lines.append("")
        lines.append("Geometric mean of torch/ours over the %d cases: %.2f." % (len(rows), gm))
        for sec in ("gemm", "conv"):
            rs = [tm / om for s, _, om, tm, _, _, _ in rows if s == sec]
            if rs:
                lines.append("%s: %.2f over %d cases." % ({"gemm": "GEMM", "conv": "Convolutions"}[sec],
                                                          statistics.geometric_mean(rs), len(rs)))
    lines += ["", TORCH_END]
    table = "\n".join(lines)
    print()
    print(table)
    if args.append:
        text = open(args.append).read() if os.path.exists(args.append) else ""
        if TORCH_START in text and TORCH_END in text:
            text = text[:text.index(TORCH_START)] + table + text[text.index(TORCH_END) + len(TORCH_END):]
        else:
            text = text.rstrip() + "\n\n" + table + "\n"
        tmp = args.append + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.append)
        print("torch_compare.py: wrote the table into %s" % args.append)


if __name__ == "__main__":
    main()
