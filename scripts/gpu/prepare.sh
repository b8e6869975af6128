#!/usr/bin/env bash
# Prepares everything the GPU machine needs to run bit-engine's GPU suite and GPU benchmark, in one
# folder (default: gpu-bundle/ at the repository root, gitignored). The GPU machine has no Maven
# and no network, so the folder carries its own Java runtime:
#
#   jdk.tar.gz              a jlink'd JDK 25 runtime (java.base, java.logging, java.management,
#                           jdk.unsupported, jdk.incubator.vector; no debug info, headers, man pages)
#   lib/benchmarks.jar      bench's shaded jar: kernels (with the PTX), engine, io, models, their
#                           dependencies, and org.bitengine.bench.gpu.GpuTrainStepBench
#   lib/junit-*.jar, ...    the JUnit Platform (launcher included) to run the tests without Maven
#   test-classes/engine     org.bitengine.engine.backend.cuda tests (GPU parity vs the CPU backend)
#   test-classes/tests      org.bitengine.tests.cuda tests, the Golden helper, the BiT golden fixtures
#   runner/GpuSuite.class   the JUnit launcher main (scripts/gpu/GpuSuite.java)
#   run-on-device.sh        unpacks the runtime, runs the suite and the benchmarks
#   torch_bit_bench.py      the PyTorch counterpart of the benchmark
#
# Usage: JAVA_HOME=<JDK 25> scripts/gpu/prepare.sh [output-folder]
# Build: offline Maven, 'package' only (never 'install': ~/.m2 is shared), tests compiled not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/gpu-bundle}
: "${JAVA_HOME:?set JAVA_HOME to a JDK 25}"
jdk_version=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
if [ "${jdk_version%%.*}" -lt 25 ]; then
  echo "prepare.sh: JAVA_HOME is JDK $jdk_version; bit-engine needs JDK 25" >&2
  exit 1
fi
export PATH="$JAVA_HOME/bin:$PATH"

echo "[prepare] building jars and test classes (mvn package, tests skipped)"
(cd "$root" && mvn -B -ntp -o -q package -DskipTests -pl bench,tests -am)
# (listing into a variable: with pipefail, grep -q closing the pipe early would fail unzip)
listing=$(unzip -l "$root/bench/target/benchmarks.jar")
if ! grep -q 'org/bitengine/kernels/ptx/index.txt' <<< "$listing"; then
  echo "prepare.sh: the build has no PTX (nvcc was not found); the GPU backend would not start" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out/lib" "$out/test-classes/engine/org/bitengine/engine/backend" \
         "$out/test-classes/tests/org/bitengine/tests" "$out/runner"

echo "[prepare] jlink runtime"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jlink --add-modules java.base,java.logging,java.management,jdk.unsupported,jdk.incubator.vector \
      --strip-debug --no-header-files --no-man-pages --output "$tmp/jdk"
tar czf "$out/jdk.tar.gz" -C "$tmp" jdk

echo "[prepare] jars"
cp "$root/bench/target/benchmarks.jar" "$out/lib/"
# The JUnit jars of the tests module's test classpath (our own modules are in benchmarks.jar), and
# the Platform launcher of the same version, which surefire would otherwise bring.
(cd "$root" && mvn -B -ntp -o -q dependency:build-classpath -pl tests -Dmdep.includeScope=test \
    -Dmdep.outputFile="$tmp/classpath.txt")
platform_version=
for jar in $(tr ':' '\n' < "$tmp/classpath.txt"); do
  case "$jar" in
    */org/junit/*|*/org/opentest4j/*|*/org/apiguardian/*) cp "$jar" "$out/lib/" ;;
  esac
  case "$jar" in
    */junit-platform-commons-*.jar) platform_version=$(basename "$jar" .jar); platform_version=${platform_version#junit-platform-commons-} ;;
  esac
done
(cd "$root" && mvn -B -ntp -o -q dependency:copy \
    -Dartifact="org.junit.platform:junit-platform-launcher:$platform_version" -DoutputDirectory="$out/lib")

echo "[prepare] test classes and fixtures"
cp -r "$root/engine/target/test-classes/org/bitengine/engine/backend/cuda" "$out/test-classes/engine/org/bitengine/engine/backend/"
cp -r "$root/tests/target/test-classes/org/bitengine/tests/cuda" "$out/test-classes/tests/org/bitengine/tests/"
cp "$root/tests/target/test-classes/org/bitengine/tests/Golden.class" "$out/test-classes/tests/org/bitengine/tests/"
mkdir -p "$out/test-classes/tests/golden"
cp -r "$root/tests/target/test-classes/golden/bit" "$out/test-classes/tests/golden/"

echo "[prepare] runner"
javac -d "$out/runner" -cp "$out/lib/*" "$root/scripts/gpu/GpuSuite.java"
cp "$root/scripts/gpu/run-on-device.sh" "$root/scripts/gpu/torch_bit_bench.py" "$out/"
chmod +x "$out/run-on-device.sh"

size=$(du -sm "$out" | cut -f1)
echo "[prepare] $out: ${size} MB"
if [ "$size" -ge 60 ]; then
  echo "prepare.sh: the folder is ${size} MB, over the 60 MB budget" >&2
  exit 1
fi
