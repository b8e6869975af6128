#!/usr/bin/env python3
"""Aggregates JFR execution samples (jfr print --json --events jdk.ExecutionSample) of a training loop.

Each sample of the main thread (which runs the step and its share of every parallel loop; the pool's
workers carry no op context) is charged to the backend op it is in: the outermost stack frame in
org.bitengine.engine.backend.cpu other than the pool and lambdas, named Class.method (so
Conv2dF32.backwardFilter and the Sgemm work it calls count together). Every thread's sample is also
charged to the method at the top of its stack. Samples in the first third of the recording (JIT
warm-up) are dropped. JFR samples only threads running Java code, so a thread waiting on the pool
is not counted.
"""
import collections
import json
import sys

PKG = "org.bitengine.engine.backend.cpu."


def frame_name(f):
    m = f["method"]
    t = m["type"]["name"].replace("/", ".")
    return t, m["name"]


def main():
    with open(sys.argv[1]) as fh:
        events = json.load(fh)["recording"]["events"]
    times = sorted(e["values"]["startTime"] for e in events)
    if not times:
        sys.exit("no samples")
    cut = times[len(times) // 3]
    op = collections.Counter()
    top = collections.Counter()
    n = n_main = 0
    for e in events:
        v = e["values"]
        if v["startTime"] < cut or not v.get("stackTrace"):
            continue
        frames = v["stackTrace"]["frames"]
        if not frames:
            continue
        n += 1
        t, m = frame_name(frames[0])
        top[t.rsplit(".", 1)[-1] + "." + m] += 1
        if v.get("sampledThread", {}).get("javaName") != "main":
            continue
        n_main += 1
        outer = None
        for f in frames:
            t, m = frame_name(f)
            if t.startswith(PKG) and "$" not in t and not t.endswith("CpuParallel"):
                outer = t.rsplit(".", 1)[-1] + "." + m
        op[outer or "(outside backend/cpu: autograd, model, optimiser, JVM)"] += 1
    print("%d samples after warm-up, %d of them on the main thread" % (n, n_main))
    print("\n| backend op (main thread, outermost frame in backend/cpu) | share |\n|---|---|")
    for k, c in op.most_common(25):
        print("| %s | %.1f %% |" % (k, 100.0 * c / n_main))
    print("\n| method at the top of the stack (all threads) | share |\n|---|---|")
    for k, c in top.most_common(25):
        print("| %s | %.1f %% |" % (k, 100.0 * c / n))


if __name__ == "__main__":
    main()
