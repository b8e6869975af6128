#!/usr/bin/env bash
# Where a training step's time goes: records bench's TrainStepLoop (BiT-R50x1 train steps) with JFR method
# sampling and prints the share of samples per backend op (outermost frame in backend/cpu) and per
# method at the top of the stack. Samples before the warm-up steps end are dropped.
#
#   scripts/bench/profile-step.sh [model] [resolution] [batch] [threads] [steps]   (default BiT-R50x1 128 8 2 12)
#
# Needs bench/target/benchmarks.jar (mvn -B -q -DskipTests -pl bench -am package). Output: the tables on
# stdout, the recording in bench/target/bench-results/step.jfr.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
if [ -z "${JAVA_HOME:-}" ] && [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
    export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
BIN=${JAVA_HOME:+$JAVA_HOME/bin/}
OUT=bench/target/bench-results
mkdir -p "$OUT"
cp bench/target/benchmarks.jar "$OUT/profile.jar"
"${BIN}java" -Xmx8g --add-modules jdk.incubator.vector \
    -XX:FlightRecorderOptions:stackdepth=512 -XX:StartFlightRecording:filename="$OUT/step.jfr",settings=profile \
    -cp "$OUT/profile.jar" org.bitengine.bench.TrainStepLoop "$@" 2>&1 | grep -v "incubator\|jdk.jfr" | tee "$OUT/step-times.txt"
"${BIN}jfr" print --json --events jdk.ExecutionSample "$OUT/step.jfr" > "$OUT/step-samples.json"
python3 scripts/bench/profile_breakdown.py "$OUT/step-samples.json"
