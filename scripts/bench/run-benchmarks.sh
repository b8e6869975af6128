#!/usr/bin/env bash
# Runs the JMH benchmark suite of bench/ and writes bench/RESULTS.md.
#
#   scripts/bench/run-benchmarks.sh [--quick] [--torch] [--no-build] [JMH options and benchmark regexps...]
#
#   --quick     1 short warm-up and measurement iteration each (a smoke test, not numbers to quote)
#   --torch     afterwards, run scripts/bench/torch_compare.py (needs Debian's python3-torch in
#               /usr/bin/python3) and append its table to bench/RESULTS.md
#   --no-build  use bench/target/benchmarks.jar as it is
# Anything else goes to JMH, e.g. `GemmBenchmark -p threads=2`. The full suite takes about 15 minutes on
# 2 cores. Raw outputs (JMH JSON and log, load samples, C peak, FMA disassembly) land in
# bench/target/bench-results/. Environment: JAVA_HOME (default /usr/lib/jvm/temurin-25-jdk-amd64 when
# it exists), MVN_ARGS (extra Maven arguments, e.g. -o).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

QUICK=0 TORCH=0 BUILD=1
JMH_ARGS=()
for a in "$@"; do
    case "$a" in
        --quick) QUICK=1 ;;
        --torch) TORCH=1 ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) JMH_ARGS+=("$a") ;;
    esac
done

if [ -z "${JAVA_HOME:-}" ] && [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
    export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
JV=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
if [ -z "$JV" ] || [ "${JV%%.*}" -lt 25 ]; then
    echo "run-benchmarks.sh: needs JDK 25 or newer, '$JAVA' is ${JV:-unknown}; set JAVA_HOME to a JDK 25" >&2
    exit 2
fi
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "run-benchmarks.sh: python3 not found (needed for the results table)" >&2; exit 2; }

JAR=bench/target/benchmarks.jar
if [ "$BUILD" = 1 ]; then
    stale=0
    if [ ! -f "$JAR" ]; then
        stale=1
    elif [ -n "$(find pom.xml */pom.xml engine/src/main io/src/main models/src/main bench/src/main kernels/src/main \
                 -newer "$JAR" -type f 2>/dev/null | head -1)" ]; then
        stale=1
    fi
    if [ "$stale" = 1 ]; then
        echo "== building bench/target/benchmarks.jar"
        # shellcheck disable=SC2086
        mvn -B -q -DskipTests ${MVN_ARGS:-} -pl bench -am package
    fi
fi
[ -f "$JAR" ] || { echo "run-benchmarks.sh: $JAR missing; build with: mvn -B -q -DskipTests package" >&2; exit 2; }

OUT=bench/target/bench-results
mkdir -p "$OUT"
# Run from a private copy: a build started meanwhile (mvn install rewrites benchmarks.jar) must not change
# the code under measurement or break the JMH forks, which load their classes from this jar.
cp "$JAR" "$OUT/benchmarks.jar"
JAR="$OUT/benchmarks.jar"
STARTED=$(date '+%Y-%m-%d %H:%M %Z')
: >"$OUT/load.txt"
sample_load() {
    while :; do
        echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load.txt"
        sleep 10
    done
}
sample_load &
SAMPLER=$!
trap 'kill "$SAMPLER" 2>/dev/null || true' EXIT
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

: >"$OUT/peak_fma_c.txt"
if command -v gcc >/dev/null 2>&1; then
    echo "== C reference peak FMA (gcc -O3 -march=native)"
    if gcc -O3 -march=native -ffp-contract=fast -pthread scripts/bench/peak_fma.c -o "$OUT/peak_fma"; then
        "$OUT/peak_fma" 1 2 | tee "$OUT/peak_fma_c.txt"
    fi
else
    echo "== gcc not found: no C reference peak"
fi

echo "== compiled code of the Java FMA loop"
scripts/bench/check_fma_asm.sh "$JAR" | tee "$OUT/fma_asm.txt" || : >"$OUT/fma_asm.txt"

EXTRA=()
if [ "$QUICK" = 1 ]; then
    EXTRA=(-wi 1 -i 1 -w 200ms -r 200ms)
fi
echo "== JMH suite (JSON: $OUT/jmh.json, log: $OUT/jmh.log)"
"$JAVA" -jar "$JAR" -rf json -rff "$OUT/jmh.json" ${EXTRA[@]+"${EXTRA[@]}"} ${JMH_ARGS[@]+"${JMH_ARGS[@]}"} 2>&1 | tee "$OUT/jmh.log"
if grep -q "<failure>" "$OUT/jmh.log"; then
    echo "run-benchmarks.sh: some benchmarks failed, see $OUT/jmh.log; the table lists the others" >&2
fi
echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load.txt"
kill "$SAMPLER" 2>/dev/null || true
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

CMD="scripts/bench/run-benchmarks.sh"
[ $# -gt 0 ] && CMD="$CMD $*"
"$PY" scripts/bench/results_table.py --json "$OUT/jmh.json" --out bench/RESULTS.md --peak-c "$OUT/peak_fma_c.txt" \
    --load "$OUT/load.txt" --asm "$OUT/fma_asm.txt" --command "$CMD" --started "$STARTED"

if [ "$TORCH" = 1 ]; then
    echo "== PyTorch comparison"
    /usr/bin/python3 scripts/bench/torch_compare.py --jar "$JAR" --append bench/RESULTS.md
fi
