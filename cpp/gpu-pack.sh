#!/usr/bin/env bash
# Prepares a run on the GPU machine (which has the NVIDIA driver, CUDA 13.0 and nvcc but no Java):
#   - builds the jars, the CUDA kernels and the JNI library (mvn package, the "cuda" profile),
#   - packs into .device/ (git-ignored): a jlink runtime of Temurin 25 (jre.txz), the runtime jars, the test classes
#     of alma-native, the JUnit console launcher and the two tiny fixture models (for the GPU parity test),
#   - prints the device tool invocation that runs cpp/gpu-check.sh there.
# Usage: cpp/gpu-pack.sh
# ALMA_PACK_EMULATED=1 packs the JNI library built against the CPU emulator (cpp/emu) instead, for a rehearsal of
# gpu-check.sh on this machine (ALMA_CHECK_EMULATED=1); such a pack is marked and refused on a GPU.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_HOME=${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}
export PATH="$JAVA_HOME/bin:$PATH"
junit_console=1.14.1   # the JUnit platform of junit-jupiter 5.14.1 (root pom)
dev="$root/.device"
cd "$root"

emulated=${ALMA_PACK_EMULATED:-}
native=alma-native/target
echo "== building (mvn package, tests compiled but not run)${emulated:+; kernels for the CPU emulator}"
if [[ -n "$emulated" ]]; then
  mvn -B -q -ntp -DskipTests -Dalma.emu package -pl alma-native -am
  native=alma-native/target-emu
else
  mvn -B -q -ntp -DskipTests package -pl alma-native,alma-bench -am
fi
[[ -f $native/classes/dev/alma/cuda/linux-x86_64/libjniAlmaCuda.so ]] \
  || { echo "gpu-pack: the JNI library was not built (is nvcc at /usr/local/cuda/bin/nvcc?)" >&2; exit 1; }

rm -rf "$dev"
mkdir -p "$dev/lib"
[[ -n "$emulated" ]] && echo "kernels built for the CPU emulator (cpp/emu): a rehearsal pack" > "$dev/EMULATED"
cp alma-core/target/alma-core.jar $native/alma-native.jar $native/alma-native-linux-x86_64.jar "$dev/lib/"
cp alma-core/target/lib/*.jar $native/lib/*.jar "$dev/lib/"
# Plotting and terminal libraries of the training/evaluation commands: not used by the CUDA tests, KernelBench or
# `alma bench`, and several MB that the 64 MiB carry cannot spare. Kept: picocli and progressbar (the CLI, for
# `alma bench --model random:7b`), commons-math3 (JMH's statistics).
(cd "$dev/lib" && rm -f pdfbox-*.jar fontbox-*.jar xchart-*.jar VectorGraphics2D-*.jar graphics2d-*.jar \
  animated-gif-lib-*.jar jline-*.jar commons-logging-*.jar)
# The JMH benchmarks of alma-bench (its own jar, with the generated benchmark list) and JMH itself, not the 12 MB
# shaded benchmarks.jar.
cp alma-bench/target/alma-bench-*-SNAPSHOT.jar "$dev/lib/alma-bench.jar"
for a in org.openjdk.jmh:jmh-core:1.37 net.sf.jopt-simple:jopt-simple:5.0.4; do
  mvn -B -q -ntp dependency:copy -Dartifact="$a" -DoutputDirectory="$dev/lib"
done
jar --create --file "$dev/lib/alma-native-tests.jar" -C $native/test-classes .
# Test-only jars: the JUnit console launcher (standalone: engine, launcher and API in one jar).
mvn -B -q -ntp dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_console" \
  -DoutputDirectory="$dev/lib"

echo "== fixtures for the model parity tests (tiny models without their tokenizers, references, the Q8_0 GGUF)"
shared="${ALMA_SHARED:-$root/../shared}"
fx="$dev/shared/fixtures/models"
mkdir -p "$fx"
for m in tiny-llama-mha-f32 tiny-llama-gqa-bf16; do
  [[ -d "$shared/fixtures/models/$m" ]] || { echo "gpu-pack: fixture missing: $shared/fixtures/models/$m" >&2; exit 1; }
  mkdir -p "$fx/$m"
  cp "$shared/fixtures/models/$m"/*.json "$shared/fixtures/models/$m"/*.safetensors "$fx/$m/"
done
mkdir -p "$fx/tiny-llama-mha-f32-lora"
cp "$shared/fixtures/models/tiny-llama-mha-f32-lora"/* "$fx/tiny-llama-mha-f32-lora/"
cp "$shared/fixtures/models/ref-mha-f32.json" "$shared/fixtures/models/ref-gqa-bf16.json" \
   "$shared/fixtures/models/ref-mha-f32-lora.json" "$fx/"
mkdir -p "$dev/shared/fixtures/gguf"
cp "$shared/fixtures/gguf/tiny-llama-gqa-q8_0.gguf" "$dev/shared/fixtures/gguf/"
# Packed (about 15% smaller); gpu-check.sh unpacks it.
tar -C "$dev" -czf "$dev/shared.tgz" shared
rm -rf "$dev/shared"

echo "== jlink runtime"
jlink --add-modules java.base,jdk.incubator.vector,jdk.unsupported,java.management,java.logging,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=zip-0 --output "$dev/jre"
# Uncompressed modules packed by xz: 14 MB, against 24 MB for zip-9 modules in a .tgz.
rm -f "$dev/jre.tgz"
tar -C "$dev" -cJf "$dev/jre.txz" jre
rm -rf "$dev/jre"

du -sh "$dev/jre.txz" "$dev/lib" "$dev/shared.tgz"
packed=$(du -sb "$dev" | cut -f1)
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
total=$((packed + tracked))
echo "== .device $((packed / 1024 / 1024)) MiB + checkout $((tracked / 1024 / 1024)) MiB (the device tool carries at most 64 MiB)"
(( total < 127 * 512 * 1024 )) || { echo "gpu-pack: too large to carry (the limit is 64 MiB)" >&2; exit 1; }  # 63.5 MiB
if [[ -n "$emulated" ]]; then
  echo "== a rehearsal pack (emulated kernels): OUT=/tmp/rehearsal ALMA_CHECK_EMULATED=1 ALMA_TESTS_TIMEOUT_S=900 \\"
  echo "   ALMA_BENCH_ARGS=--tiny bash cpp/gpu-check.sh   (pack again without ALMA_PACK_EMULATED for a GPU)"
  exit 0
fi
cat <<'RUN'
== on the GPU machine, call the device tool `run` with:
   command:   bash cpp/gpu-check.sh
   carry:     [".device"]
   timeout_s: 540
   (results: $OUT/summary.txt, tests.txt, bench.txt, clibench.txt, jmh.txt, memcheck.txt, racecheck.txt, device.txt)
RUN
