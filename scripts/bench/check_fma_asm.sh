#!/usr/bin/env bash
# Shows which instructions C2 compiled PeakFlops.fmaChains (the Java peak-FMA loop) into: counts of
# vfmadd*ps by register width (zmm = 512-bit, ymm = 256, xmm = 128 or scalar ss). Uses hsdis when the
# JDK has it, otherwise decodes the raw bytes of -XX:+PrintAssembly with objdump.
#   scripts/bench/check_fma_asm.sh [benchmarks.jar]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAR=${1:-$ROOT/bench/target/benchmarks.jar}
[ -f "$JAR" ] || { echo "check_fma_asm.sh: $JAR not found; build with: mvn -B -q -DskipTests package" >&2; exit 2; }
command -v python3 >/dev/null || { echo "check_fma_asm.sh: python3 not found" >&2; exit 2; }
LOG=$(mktemp)
trap 'rm -f "$LOG" "$LOG.bin"' EXIT
"$JAVA_HOME/bin/java" -XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=quiet \
    -XX:CompileCommand=print,org.bitengine.bench.PeakFlops::fmaChains \
    -cp "$JAR" org.bitengine.bench.PeakFlops >"$LOG" 2>&1
python3 - "$LOG" <<'PY'
import collections, re, shutil, subprocess, sys
text = open(sys.argv[1]).read()
speed = re.search(r"PeakFlops\.fmaChains: .*", text)
blocks = [b for b in text.split("Compiled method (c2)")[1:] if "fmaChains" in b.splitlines()[0] and "%" not in b.splitlines()[0]]
if not blocks:
    blocks = [b for b in text.split("Compiled method (c2)")[1:] if "fmaChains" in b.splitlines()[0]]
if not blocks:
    sys.exit("check_fma_asm.sh: no C2 code for PeakFlops.fmaChains in the -XX:+PrintAssembly output")
b = blocks[-1]
counts = collections.Counter()
if "[MachCode]" in b:  # no hsdis: abstract disassembly, raw bytes
    if not shutil.which("objdump"):
        sys.exit("check_fma_asm.sh: no hsdis and no objdump to decode the machine code")
    code = b.split("[MachCode]", 1)[1].split("[/MachCode]", 1)[0]
    hexs = ""
    for line in code.splitlines():
        m = re.match(r"\s*0x[0-9a-f]+: (.*)", line)
        if m and not m.group(1).lstrip().startswith(";"):
            hexs += re.sub(r"[^0-9a-f]", "", m.group(1))
    open(sys.argv[1] + ".bin", "wb").write(bytes.fromhex(hexs))
    asm = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", sys.argv[1] + ".bin"],
                         capture_output=True, text=True).stdout
    how = "decoded from the raw bytes with objdump (no hsdis)"
else:
    asm = b
    how = "hsdis"
for line in asm.splitlines():
    m = re.search(r"\b(vfn?madd\d{3}[ps]s)\s+.*?%?\b([xyz]mm)\d", line)
    if m:
        counts["%s %s" % (m.group(1), m.group(2))] += 1
head = b.splitlines()[0].strip()
print("C2 nmethod: %s; %s" % (re.sub(r"\s+", " ", head), how))
for k, v in sorted(counts.items(), key=lambda kv: -kv[1]):
    print("  %4d x %s" % (v, k))
ins = []
for line in asm.splitlines():
    m = re.match(r"\s*(?:0x)?([0-9a-f]+):\s*(.*)", line)
    if m:  # objdump separates bytes and instruction with tabs; hsdis prints the instruction after the colon
        ins.append((int(m.group(1), 16), (line.split("\t")[-1] if "\t" in line else m.group(2)).strip()))
# The hot loop: of the innermost loops (no other backward branch inside), the one with most zmm FMAs.
def backward(a, t):
    m = re.match(r"j\w+\s+(?:0x)?([0-9a-f]+)", t)
    return int(m.group(1), 16) if m and int(m.group(1), 16) < a else None
best = None
for addr, text in ins:
    tgt = backward(addr, text)
    if tgt is None:
        continue
    span = [(a, t) for a, t in ins if tgt <= a <= addr]
    if any(backward(a, t) is not None for a, t in span[:-1]):
        continue
    body = [t for a, t in span]
    f = sum(1 for t in body if re.match(r"vfn?madd\d+ps.*zmm", t))
    if f and (best is None or f > best[0]):
        best = (f, body)
if best:
    f, body = best
    loads = sum(1 for t in body if re.match(r"vmov\w+\s+-?(0x)?[0-9a-f]*\(.*%zmm", t))
    stores = sum(1 for t in body if re.match(r"vmov\w+\s+%zmm\d+,", t) and "(" in t)
    copies = sum(1 for t in body if re.match(r"vmov\w+\s+%zmm\d+,%zmm\d+$", t))
    print("  hot loop: %d instructions, %d vfmadd231ps zmm (%d FLOP per iteration), %d zmm loads, %d zmm stores, %d zmm register copies"
          % (len(body), f, 32 * f, loads, stores, copies))
if speed:
    print(speed.group(0))
PY
