#!/usr/bin/env bash
# Runs on the GPU machine, from the folder scripts/gpu/prepare.sh made: unpacks the Java runtime,
# then runs the GPU test suite and/or the training-step benchmarks (bit-engine, then PyTorch with
# the ratio). Needs no Maven and no network.
#
# Usage: run-on-device.sh [suite|bench|all]      (default: all)
# Output goes to $OUT when set (the device tool's result folder), else to ./results in this folder:
#   gpu-suite.txt, bench-java.jsonl, bench-java.txt, bench-torch.txt
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
what=${1:-all}
results=${OUT:-$here/results}
mkdir -p "$results"

[ -x "$here/jdk/bin/java" ] || tar xzf "$here/jdk.tar.gz" -C "$here"
java="$here/jdk/bin/java"

# cuDNN 9 and cuBLAS often come only as PyTorch's pip wheels (site-packages/nvidia/*/lib), which the
# system loader does not search. bit-engine looks there itself; naming them here as well makes the
# search independent of how python was installed.
if [ -z "${BITENGINE_CUDA_LIBS:-}" ] && command -v python3 >/dev/null; then
  BITENGINE_CUDA_LIBS=$(python3 - <<'PY' 2>/dev/null
import glob, os, site
dirs = []
for sp in site.getsitepackages() + [site.getusersitepackages()]:
    dirs += sorted(glob.glob(os.path.join(sp, "nvidia", "*", "lib")))
print(":".join(d for d in dirs if os.path.isdir(d)))
PY
)
  export BITENGINE_CUDA_LIBS
fi
{
  echo "# $(date -u +%FT%TZ) $(uname -n)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "# BITENGINE_CUDA_LIBS=${BITENGINE_CUDA_LIBS:-}"
  "$java" -version 2>&1 | head -1
} | tee "$results/environment.txt"

jvm=("$java" --enable-native-access=ALL-UNNAMED -Xmx24g -XX:+UseParallelGC)
status=0

if [ "$what" = suite ] || [ "$what" = all ]; then
  cp="$here/lib/*:$here/test-classes/engine:$here/test-classes/tests:$here/runner"
  (cd "$here" && "${jvm[@]}" -cp "$cp" GpuSuite --require-gpu) 2>&1 | tee "$results/gpu-suite.txt"
  status=${PIPESTATUS[0]}
fi

if [ "$what" = bench ] || [ "$what" = all ]; then
  rm -f "$results/bench-java.jsonl"
  "${jvm[@]}" -cp "$here/lib/benchmarks.jar" org.bitengine.bench.gpu.GpuTrainStepBench \
      --out "$results/bench-java.jsonl" 2>&1 | tee "$results/bench-java.txt"
  if command -v python3 >/dev/null && python3 -c 'import torch' 2>/dev/null; then
    python3 "$here/torch_bit_bench.py" --java-results "$results/bench-java.jsonl" 2>&1 | tee "$results/bench-torch.txt"
  else
    echo "PyTorch not importable with python3: no comparison" | tee "$results/bench-torch.txt"
  fi
fi
exit "$status"
