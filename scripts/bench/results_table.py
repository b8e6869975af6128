#!/usr/bin/env python3
"""Turns the JMH JSON of the bench suite into bench/RESULTS.md (python3, standard library only).

    results_table.py --json bench/target/bench-results/jmh.json --out bench/RESULTS.md \
        [--peak-c bench/target/bench-results/peak_fma_c.txt] [--load bench/target/bench-results/load.txt] \
        [--asm bench/target/bench-results/fma_asm.txt] [--command "the command that ran it"]

Every FLOP rate is reported as a fraction of the measured fp32 FMA peak for the same thread count
(PeakFlops.fma in the same JSON), every bandwidth as a fraction of the measured triad bandwidth
(PeakFlops.triad). A section of an existing RESULTS.md between the torch-compare markers is kept.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import sys

TORCH_START = "<!-- torch-compare:start -->"
TORCH_END = "<!-- torch-compare:end -->"

UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0}


def unit_seconds(u):
    if u not in UNIT_SECONDS:
        raise ValueError("unknown time unit %r" % u)
    return UNIT_SECONDS[u]


def primary_ms(res):
    """(value, error) of the primary result in milliseconds per op, whatever the mode."""
    pm = res["primaryMetric"]
    unit = pm["scoreUnit"]
    score, err = pm["score"], pm.get("scoreError")
    err = None if err in (None, "NaN") or (isinstance(err, float) and err != err) else float(err)
    m = re.fullmatch(r"(\w+)/op", unit)
    if m:
        f = unit_seconds(m.group(1)) * 1e3
        return score * f, (err * f if err is not None else None)
    m = re.fullmatch(r"ops/(\w+)", unit)
    if m:
        ms_per = unit_seconds(m.group(1)) * 1e3 / score
        return ms_per, (ms_per * err / score if err is not None else None)
    raise ValueError("unknown score unit %r" % unit)


def rate(res, name):
    """A FlopRate/ByteRate counter as a rate in G-units per second, or None if absent."""
    sm = res.get("secondaryMetrics", {}).get(name)
    if not sm or not sm.get("score"):
        return None
    unit, score = sm["scoreUnit"], sm["score"]
    m = re.fullmatch(r"(\w+)/op", unit)  # time per counted G-unit
    if m:
        return 1.0 / (score * unit_seconds(m.group(1)))
    m = re.fullmatch(r"ops/(\w+)", unit)  # G-units per time
    if m:
        return score / unit_seconds(m.group(1))
    return None


def best_rate(res, name):
    """The best iteration of a counter as a rate (for ceilings: interference only ever lowers them)."""
    sm = res.get("secondaryMetrics", {}).get(name)
    if not sm or not sm.get("rawData"):
        return rate(res, name)
    vals = [v for fork in sm["rawData"] for v in fork if v]
    if not vals:
        return rate(res, name)
    unit = sm["scoreUnit"]
    m = re.fullmatch(r"(\w+)/op", unit)
    if m:
        return 1.0 / (min(vals) * unit_seconds(m.group(1)))
    m = re.fullmatch(r"ops/(\w+)", unit)
    if m:
        return max(vals) / unit_seconds(m.group(1))
    return rate(res, name)


def short(name):
    return name.replace("org.bitengine.bench.", "")


def fmt(x, digits=None):
    if x is None:
        return "–"
    if digits is not None:
        return "%.*f" % (digits, x)
    ax = abs(x)
    if ax >= 100:
        return "%.0f" % x
    if ax >= 10:
        return "%.1f" % x
    if ax >= 1:
        return "%.2f" % x
    return "%.3f" % x


def pct(x):
    return "–" if x is None else "%.0f %%" % (100 * x)


# ---- machine -------------------------------------------------------------------------------------

def cpuinfo():
    info = {"model": platform.processor() or "unknown", "flags": set(), "mhz": None, "vendor": "", "family": None, "cpu_model": None}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return info
    first = text.split("\n\n")[0]
    for line in first.splitlines():
        if ":" not in line:
            continue
        k, v = [s.strip() for s in line.split(":", 1)]
        if k == "model name":
            info["model"] = v
        elif k == "flags":
            info["flags"] = set(v.split())
        elif k == "cpu MHz":
            info["mhz"] = float(v)
        elif k == "vendor_id":
            info["vendor"] = v
        elif k == "cpu family":
            info["family"] = int(v)
        elif k == "model":
            info["cpu_model"] = int(v)
    return info


def flop_per_cycle(ci):
    """fp32 FLOP per cycle per core of the micro-architecture, and the reason (an assumption, stated)."""
    fam, fl = ci["family"], ci["flags"]
    if ci["vendor"] == "AuthenticAMD":
        if fam == 0x1A and "avx512f" in fl:
            return 64, "AMD family 1Ah (Zen 5): 2 × 512-bit FMA pipes × 16 lanes × 2"
        if fam == 0x19 and "avx512f" in fl:
            return 32, "AMD family 19h with AVX-512 (Zen 4): 2 × 256-bit FMA pipes (512-bit ops double-pumped) × 8 lanes × 2"
        if fam in (0x17, 0x19) and "fma" in fl:
            return 32, "AMD Zen 2/3: 2 × 256-bit FMA pipes × 8 lanes × 2"
    if ci["vendor"] == "GenuineIntel":
        if "avx512f" in fl:
            return 64, "Intel with AVX-512, assuming 2 × 512-bit FMA units (some SKUs have one: then half)"
        if "fma" in fl:
            return 32, "Intel with AVX2+FMA: 2 × 256-bit FMA units × 8 lanes × 2"
    if "fma" in fl:
        return 32, "unknown x86 with FMA: assumed 2 × 256-bit FMA units"
    return None, "unknown micro-architecture"


def jdk_line(results):
    for r in results:
        return "%s (%s, %s)" % (r.get("jdkVersion", "?"), r.get("vmName", "?"), r.get("vmVersion", "?"))
    return "unknown"


def read_load(path):
    """Load-average samples written by run-benchmarks.sh: lines 'epoch load1 load5 load15'."""
    if not path or not os.path.exists(path):
        return None
    samples = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 4:
                try:
                    samples.append(tuple(float(x) for x in p[:4]))
                except ValueError:
                    pass
    return samples or None


def read_peak_c(path):
    out = {}
    if not path or not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            m = re.search(r"threads=(\d+) gflops=([\d.]+)", line)
            if m:
                out[int(m.group(1))] = float(m.group(2))
    return out


# ---- tables --------------------------------------------------------------------------------------

class Row:
    def __init__(self, res):
        self.bench = short(res["benchmark"])
        self.cls, self.method = self.bench.rsplit(".", 1)
        self.params = dict(res.get("params", {}))
        self.threads = int(self.params.get("threads", res.get("threads", 1)))
        self.ms, self.err = primary_ms(res)
        self.gflops = rate(res, "msPerGflop")
        self.gbs = rate(res, "msPerGB")
        self.res = res


def pivot(rows, key, label_cols, peak, bw, kind, best=False):
    """One line per key, one column group per thread count; kind 'flop' or 'byte'. best: also the % peak
    of the best measurement iteration (what the code reaches when nothing else holds the cores)."""
    threads = sorted({r.threads for r in rows})
    groups = {}
    order = []
    for r in rows:
        k = key(r)
        if k not in groups:
            groups[k] = {}
            order.append(k)
        groups[k][r.threads] = r
    head = list(label_cols)
    for t in threads:
        tl = "%d thr" % t
        if kind == "flop":
            head += ["ms (%s)" % tl, "GFLOP/s (%s)" % tl, "% peak (" + tl + ")"]
            if best:
                head.append("% peak, best iter. (" + tl + ")")
        else:
            head += ["ms (%s)" % tl, "GB/s (%s)" % tl, "% triad (" + tl + ")"]
    if len(threads) > 1:
        head.append("speed-up %d→%d" % (threads[0], threads[-1]))
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for k in order:
        g = groups[k]
        cells = list(k)
        for t in threads:
            r = g.get(t)
            if r is None:
                cells += ["–"] * (4 if best and kind == "flop" else 3)
                continue
            ms = fmt(r.ms) + (" ± " + fmt(r.err) if r.err is not None and r.err == r.err else "")
            if kind == "flop":
                p = peak.get(t)
                cells += [ms, fmt(r.gflops), pct(r.gflops / p if r.gflops and p else None)]
                if best:
                    bg = best_rate(r.res, "msPerGflop")
                    cells.append(pct(bg / p if bg and p else None))
            else:
                b = bw.get(t)
                cells += [ms, fmt(r.gbs), pct(r.gbs / b if r.gbs and b else None)]
        if len(threads) > 1:
            a, b = g.get(threads[0]), g.get(threads[-1])
            cells.append("%.2f×" % (a.ms / b.ms) if a and b else "–")
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def gemm_key(r):
    s = r.params["shape"]
    label, dims = s.rsplit("_", 1)
    m, n, k = dims.split("x")
    kernel = {"true": "Vector API", "false": "plain Java"}.get(r.params.get("simd"), "–")
    return (label, kernel, m, n, k)


def conv_key(r):
    return (r.params["layer"], r.params["resolution"], {"forward": "fwd", "backwardData": "bwd data", "backwardFilter": "bwd filter"}.get(r.method, r.method))


def conv_sort(rows):
    layers = []
    for r in rows:
        if r.params["layer"] not in layers:
            layers.append(r.params["layer"])
    order = {"forward": 0, "backwardData": 1, "backwardFilter": 2}
    return sorted(rows, key=lambda r: (int(r.params["resolution"]), layers.index(r.params["layer"]), order.get(r.method, 9), r.threads))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", required=True, action="append",
                    help="JMH JSON; repeatable: a later file's result replaces an earlier one with the same benchmark and params")
    ap.add_argument("--out", required=True)
    ap.add_argument("--peak-c")
    ap.add_argument("--load")
    ap.add_argument("--asm")
    ap.add_argument("--command", default="scripts/bench/run-benchmarks.sh")
    ap.add_argument("--started")
    ap.add_argument("--reference-peak", metavar="1=GFLOPS,2=GFLOPS",
                    help="peak FMA per thread count to rate every %% of peak against, instead of this run's "
                         "PeakFlops (for a run on a loaded machine, whose own peak measurement is depressed)")
    ap.add_argument("--reference-peak-source", default="an earlier quiet run",
                    help="where --reference-peak comes from (printed with it)")
    ap.add_argument("--note", action="append", default=[], help="a line for the Machine section (repeatable)")
    args = ap.parse_args()

    merged = {}
    for path in args.json:
        try:
            with open(path) as f:
                for r in json.load(f):
                    merged[(r["benchmark"], json.dumps(r.get("params", {}), sort_keys=True))] = r
        except (OSError, ValueError, KeyError, TypeError) as e:
            sys.exit("results_table.py: cannot read JMH results %s: %s" % (path, e))
    results = list(merged.values())
    if not results:
        sys.exit("results_table.py: %s holds no benchmark results" % ", ".join(args.json))
    rows = [Row(r) for r in results]

    ci = cpuinfo()
    cores = os.cpu_count()
    fpc, fpc_why = flop_per_cycle(ci)
    # Ceilings: the best measurement iteration (1 s each), since anything else running only lowers them.
    peak = {r.threads: best_rate(r.res, "msPerGflop") for r in rows if r.bench == "PeakFlops.fma" and r.gflops}
    triad = {r.threads: best_rate(r.res, "msPerGB") for r in rows if r.bench == "PeakFlops.triad" and r.gbs}
    peak_mean = {r.threads: r.gflops for r in rows if r.bench == "PeakFlops.fma" and r.gflops}
    peak_c = read_peak_c(args.peak_c)
    peak_src = "PeakFlops.fma (Java, this run)"
    if not peak:
        if peak_c:
            peak, peak_src = dict(peak_c), "peak_fma.c (no PeakFlops result in this run)"
        elif fpc and ci["mhz"]:
            peak = {t: t * fpc * ci["mhz"] / 1e3 for t in (1, 2)}
            peak_src = "theoretical at the nominal clock (no measured peak in this run)"
    peak_run = dict(peak)
    if args.reference_peak:
        peak = {int(t): float(g) for t, g in (kv.split("=") for kv in args.reference_peak.split(","))}
        peak_src = "PeakFlops.fma of %s, %s" % (args.reference_peak_source,
                                                ", ".join("%d thread%s %s GFLOP/s" % (t, "" if t == 1 else "s", fmt(g)) for t, g in sorted(peak.items())))
    load = read_load(args.load)

    out = []
    w = out.append
    w("# bit-engine CPU benchmarks")
    w("")
    w("Written by `scripts/bench/results_table.py` from the JMH JSON of `%s`; do not edit by hand "
      "(the PyTorch section at the end is written by `scripts/bench/torch_compare.py`)." % args.command)
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("|---|---|")
    w("| CPU | %s (vendor %s, family %s, model %s) |" % (ci["model"], ci["vendor"] or "?",
                                                       "%d (%#x)" % (ci["family"], ci["family"]) if ci["family"] is not None else "?",
                                                       ci["cpu_model"] if ci["cpu_model"] is not None else "?"))
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512vl", "avx512_bf16") if f in ci["flags"]]
    w("| SIMD flags | %s |" % (", ".join(simd) or "none found"))
    w("| cores (os.cpu_count) | %s |" % cores)
    w("| nominal clock (/proc/cpuinfo cpu MHz) | %s MHz |" % (fmt(ci["mhz"], 0) if ci["mhz"] else "?"))
    w("| JDK | %s |" % jdk_line(results))
    w("| JMH | %s |" % results[0].get("jmhVersion", "?"))
    w("| OS | %s %s |" % (platform.system(), platform.release()))
    w("| date | %s |" % (args.started or datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")))
    if load:
        l1 = [s[1] for s in load]
        w("| load average (1 min) during the run | start %.2f, median %.2f, max %.2f, end %.2f (%d samples) |"
          % (l1[0], statistics.median(l1), max(l1), l1[-1], len(l1)))
    for note in args.note:
        w("")
        w(note)
    w("")
    w("## Ceilings: peak fp32 FMA and memory bandwidth")
    w("")
    w("| | 1 thread | 2 threads | how |")
    w("|---|---|---|---|")
    w("| **peak FMA, Java (PeakFlops.fma)** | %s GFLOP/s | %s GFLOP/s | best 1-s iteration of 5 (mean %s / %s)%s |"
      % (fmt(peak_run.get(1)), fmt(peak_run.get(2)), fmt(peak_mean.get(1)), fmt(peak_mean.get(2)),
         "; the reference for every % of peak below" if not args.reference_peak else ""))
    if args.reference_peak:
        w("| **reference peak for every %% of peak below** | %s GFLOP/s | %s GFLOP/s | %s |"
          % (fmt(peak.get(1)), fmt(peak.get(2)), "PeakFlops.fma of " + args.reference_peak_source))
    if peak_c:
        w("| peak FMA, C (gcc -O3 -march=native, peak_fma.c) | %s GFLOP/s | %s GFLOP/s | best of 5 runs; validates the Java figure |"
          % (fmt(peak_c.get(1)), fmt(peak_c.get(2))))
    if fpc and ci["mhz"]:
        w("| theoretical at the nominal clock | %s GFLOP/s | %s GFLOP/s | %d FLOP/cycle/core × %s GHz: %s |"
          % (fmt(fpc * ci["mhz"] / 1e3), fmt(2 * fpc * ci["mhz"] / 1e3), fpc, fmt(ci["mhz"] / 1e3, 2), fpc_why))
        if peak.get(1):
            w("| clock implied by the reference peak | %s GHz | %s GHz | peak ÷ (%d FLOP/cycle × threads); above nominal = boost |"
              % (fmt(peak[1] / fpc, 2), fmt(peak[2] / fpc / 2, 2) if peak.get(2) else "–", fpc))
    w("| memory bandwidth (PeakFlops.triad) | %s GB/s | %s GB/s | STREAM triad on 3 × 32 MB, 12 bytes per element, best 1-s iteration |"
      % (fmt(triad.get(1)), fmt(triad.get(2))))
    w("")
    w("How the peak is measured: `PeakFlops.fma` runs, on each thread, a dependent chain of 4 `Math.fma` "
      "(`x ← m·c + x`) on every element of a private 16 KB float array (L1-resident), 4096 passes per op, "
      "threads through `CpuParallel` (the backend's pool). C2 vectorises the element loop into 512-bit "
      "`vfmadd231ps zmm`, in place, and unrolls it 8 times: 8 independent vector chains in flight, one zmm "
      "load and store per 4 FMAs, so the loop is bound by the FMA units (disassembly below). Deeper chains "
      "or several arrays per element were tried and stall near 85 % of the C figure, because C2 emits them "
      "with only two chains interleaved. The C reference (`scripts/bench/peak_fma.c`, gcc -O3 "
      "-march=native) keeps 12 independent zmm accumulators in registers, no memory traffic at all: the "
      "hardware's ceiling as a compiler reaches it.")
    if peak_c and peak_run:
        ratios = ["%d thread%s %s" % (t, "" if t == 1 else "s", pct(peak_run[t] / peak_c[t])) for t in sorted(peak_c) if t in peak_run and peak_c[t]]
        if ratios:
            w("")
            w("Java peak ÷ C peak: %s." % ", ".join(ratios))
    if args.asm and os.path.exists(args.asm):
        with open(args.asm) as f:
            asm = f.read().strip()
        if asm:
            w("")
            w("Compiled code of `PeakFlops.fmaChains` (`scripts/bench/check_fma_asm.sh`):")
            w("")
            w("```")
            w(asm)
            w("```")
    w("")
    w("Time is the JMH average per op (± its 99.9 % confidence half-width where JMH gives one). "
      "% peak = GFLOP/s ÷ the measured Java peak FMA for the same thread count; % triad = effective GB/s ÷ "
      "the measured triad bandwidth for the same thread count. The kernels' figures are means over their "
      "iterations, so interference from other work on the machine lowers them (and widens the ±).")
    w("")

    used = set()
    gemm = [r for r in rows if r.cls == "GemmBenchmark"]
    if gemm:
        used.update(id(r) for r in gemm)
        w("## GEMM (`Sgemm.gemm`, C = A·B, row-major, fp32)")
        w("")
        w("Shapes: the im2col products of BiT-R50x1's forward convolutions at 128×128, batch 8 "
          "(M = 8·OH·OW, N = out channels, K = KH·KW·C), and 1024³. FLOPs = 2·M·N·K. Kernel: `Vector API` is "
          "`SgemmVector` (JVM started with `--add-modules jdk.incubator.vector`, the default of the benchmarks, "
          "tests and `torch_compare.py`), `plain Java` the fallback taken without the module "
          "(`-Dbitengine.simd=false` here); both give bit-identical results.")
        w("")
        gemm.sort(key=lambda r: (r.params.get("simd") != "true",))
        w("The last column of each group is the best 0.5-s iteration's rate over the same peak: on a shared "
          "machine the mean includes time the benchmark's threads were preempted, the best iteration much less so.")
        w("")
        w(pivot(gemm, gemm_key, ["layer", "kernel", "M", "N", "K"], peak, triad, "flop", best=True))
        w("")
    conv = [r for r in rows if r.cls == "ConvBenchmark"]
    if conv:
        used.update(id(r) for r in conv)
        w("## Convolution (`Conv2dF32`, NHWC × HWIO, batch 8)")
        w("")
        w("Input of the layer: the image for the root, resolution/4 for the others (56×56 at 224, 32×32 "
          "at 128). FLOPs per pass = 2·N·OH·OW·O·KH·KW·C/groups.")
        w("")
        w(pivot(conv_sort(conv), conv_key, ["layer", "res", "pass"], peak, triad, "flop"))
        w("")
    norm = [r for r in rows if r.cls == "NormBenchmark"]
    if norm:
        used.update(id(r) for r in norm)
        w("## GroupNorm and weight standardisation (CPU backend, fp32, outputs allocated per call)")
        w("")
        w("Memory-bound, so rated by effective bandwidth: forward moves 8 bytes per element (read x, "
          "write y), backward 12 (read dy and x, write dx; 16 for the fused GroupNorm + ReLU, which also "
          "reads y for the mask). The weight tensors (2.4 MB and 8 MB) fit in "
          "L2/L3, so their figures can pass the DRAM triad bandwidth.")
        w("")
        order = {"forward": 0, "backward": 1}
        norm.sort(key=lambda r: (r.params["tensor"][:2], r.params["tensor"], order.get(r.method, 9), r.threads))

        def norm_key(r):
            kind, dims = r.params["tensor"].split("_", 1)
            return ({"gn": "GroupNorm (32 groups)", "gnrelu": "GroupNorm + ReLU, fused", "ws": "weight standardisation"}.get(kind, kind), "[" + dims.replace("x", ", ") + "]",
                    {"forward": "fwd", "backward": "bwd"}.get(r.method, r.method))
        w(pivot(norm, norm_key, ["op", "shape", "pass"], peak, triad, "byte"))
        w("")
    model = [r for r in rows if r.cls in ("BitTrainStepBenchmark", "BitForwardBenchmark")]
    if model:
        used.update(id(r) for r in model)
        w("## Whole model")
        w("")
        w("`BitTrainStepBenchmark`: BiT-R50x1, random init, 1000 classes, forward + mean softmax "
          "cross-entropy + backward (Tape) + SGD momentum step, through the public API. "
          "`BitForwardBenchmark`: inference only. GFLOP/s counts the model FLOPs: every convolution and "
          "the head (training: forward + both gradients, except the root's input gradient); GroupNorm, "
          "weight standardisation, ReLU, pooling and the optimiser are not counted, so % peak is a "
          "utilisation of the FMA units by the whole step.")
        w("")

        def model_key(r):
            p = r.params
            what = "train step" if r.cls == "BitTrainStepBenchmark" else "forward"
            kernel = {"true": "Vector API", "false": "plain Java"}.get(p.get("simd"), "Vector API")
            return (what, kernel, p.get("model", "BiT-R50x1"), p.get("resolution", "?"), p.get("batch", "?"))
        model.sort(key=lambda r: (r.cls, r.params.get("simd") == "false"))
        w(pivot(model, model_key, ["what", "GEMM kernel", "model", "res", "batch"], peak, triad, "flop"))
        w("")
        for r in model:
            b = int(r.params.get("batch", 0) or 0)
            if b:
                w("- %s %s×%s batch %d, %d thread(s)%s: %.1f images/s" % (
                    "train step" if r.cls == "BitTrainStepBenchmark" else "forward", r.params.get("resolution"),
                    r.params.get("resolution"), b, r.threads,
                    ", plain-Java GEMM" if r.params.get("simd") == "false" else "", b / (r.ms / 1e3)))
        w("")
    rest = [r for r in rows if id(r) not in used and not r.cls == "PeakFlops"]
    if rest:
        w("## Other benchmarks")
        w("")
        w("| benchmark | params | ms/op | GFLOP/s | GB/s |")
        w("|---|---|---|---|---|")
        for r in rest:
            w("| %s | %s | %s | %s | %s |" % (r.bench, ", ".join("%s=%s" % kv for kv in sorted(r.params.items())),
                                              fmt(r.ms), fmt(r.gflops), fmt(r.gbs)))
        w("")
    if peak_src != "PeakFlops.fma (Java, this run)":
        w("_Peak used for %% peak: %s._" % peak_src)
        w("")

    # Keep the PyTorch comparison of an earlier run, marked as such.
    old_torch = ""
    if os.path.exists(args.out):
        with open(args.out) as f:
            text = f.read()
        if TORCH_START in text and TORCH_END in text:
            old_torch = text[text.index(TORCH_START):text.index(TORCH_END) + len(TORCH_END)]
    body = "\n".join(out).rstrip() + "\n"
    if old_torch:
        body += "\n" + old_torch + "\n"
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(body)
    os.replace(tmp, args.out)
    print("results_table.py: wrote %s (%d results)" % (args.out, len(rows)))


if __name__ == "__main__":
    main()
