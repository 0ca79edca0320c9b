#!/usr/bin/env bash
# Runs ON the GPU machine (prepared by cpp/gpu-pack.sh, which packs .device/): the CUDA tests (GPU vs CPU twin vs
# float64), the kernel benchmarks, then compute-sanitizer memcheck over the GPU tests (in that order, so a run cut
# short keeps the most useful results). Writes to $OUT:
#   device.txt (nvidia-smi), tests.txt (JUnit), bench.txt (KernelBench table), clibench.txt (`alma bench` on random
#   7B/13B models), jmh.txt, memcheck.txt, racecheck.txt, summary.txt.
# Without a GPU (e.g. here, to try the packing) the GPU tests skip and the benchmark is left out.
# ALMA_CHECK_STEPS (default "tests bench clibench jmh memcheck racecheck") picks steps, e.g. ALMA_CHECK_STEPS=bench for a rerun.
# ALMA_CLIBENCH (e.g. "beams plain requests") picks `alma bench` runs of the clibench step (names in that step).
# ALMA_PREFILL_SHAPES (e.g. "7 8") adds 1024-token prompt runs of `alma bench` with those wgmma GEMM shapes.
# Rehearsal here: ALMA_PACK_EMULATED=1 cpp/gpu-pack.sh, then ALMA_CHECK_EMULATED=1 ALMA_TESTS_TIMEOUT_S=900
# ALMA_BENCH_ARGS=--tiny bash cpp/gpu-check.sh: the kernels run in the CPU emulator (cpp/emu) as if on a GPU.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dev="$root/.device"
out="${OUT:-$root/.device/out}"
mkdir -p "$out"
[[ -f "$dev/jre.txz" ]] || { echo "gpu-check: $dev/jre.txz missing: run cpp/gpu-pack.sh and carry .device" >&2; exit 1; }
emulated=${ALMA_CHECK_EMULATED:-}
if [[ -f "$dev/EMULATED" && -z "$emulated" ]]; then
  echo "gpu-check: .device was packed for the CPU emulator (ALMA_PACK_EMULATED): run cpp/gpu-pack.sh again" >&2; exit 1
fi
if [[ -n "$emulated" && ! -f "$dev/EMULATED" ]]; then
  echo "gpu-check: ALMA_CHECK_EMULATED is set but .device holds the real kernels: ALMA_PACK_EMULATED=1 cpp/gpu-pack.sh" >&2
  exit 1
fi
jre="${TMPDIR:-/tmp}/alma-jre"
rm -rf "$jre" && mkdir -p "$jre"
# xz-packed; Python's tarfile unpacks it where tar has no xz.
tar -C "$jre" -xJf "$dev/jre.txz" 2>/dev/null ||
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$dev/jre.txz" "$jre"
# cuBLAS (KernelBench's GEMM baseline, loaded by dev.alma.cuda.Cublas through Java's FFM API): the toolkit's, the
# dynamic linker's, or a pip wheel's (nvidia-cublas); ALMA_CUBLAS overrides. Skipping /stubs/ (link-time fakes).
cublas_dir=""
if [[ -n "${ALMA_CUBLAS:-}" ]]; then cublas_dir="$ALMA_CUBLAS"
else
  lib=$( { ls /usr/local/cuda/lib64/libcublas.so.1[0-9] 2>/dev/null; ldconfig -p 2>/dev/null | awk '/libcublas\.so\.1[0-9] /{print $NF}';
           find /usr /opt -name 'libcublas.so.1[0-9]' -not -path '*/stubs/*' 2>/dev/null; } | head -1)
  [[ -n "$lib" ]] && cublas_dir=$(dirname "$(readlink -f "$lib")")
fi
[[ -n "$cublas_dir" ]] && export LD_LIBRARY_PATH="$cublas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
java=("$jre/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
      -Dorg.bytedeco.javacpp.cachedir="${TMPDIR:-/tmp}/alma-javacpp" -Dalma.cublas="$cublas_dir" -Xmx16g
      -cp "$dev/lib/*")
shared="${TMPDIR:-/tmp}/alma-shared"   # the fixtures gpu-pack.sh packed
rm -rf "$shared" && mkdir -p "$shared" && tar -C "$shared" -xzf "$dev/shared.tgz"
export ALMA_SHARED="$shared/shared"
summary="$out/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

gpu=0
if [[ -n "$emulated" ]]; then
  echo "alma-emu: the kernels compiled for the CPU emulator (a rehearsal; timings mean nothing)" > "$out/device.txt"
  gpu=1
  export ALMA_EXPECT_GPU=1
elif command -v nvidia-smi >/dev/null && nvidia-smi -L > "$out/device.txt" 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv >> "$out/device.txt" 2>&1
  gpu=1
  export ALMA_EXPECT_GPU=1   # a missing device is now a test failure, not a skip
fi
say "device: $(head -1 "$out/device.txt" 2>/dev/null || echo none)"
say "cuBLAS directory: ${cublas_dir:-not found}"

# clibench.txt (stdin) as one line per `alma bench` run: prefill tok/s | decode tok/s | beam steps/s | its options.
clibench_table() {
  awk 'function flush() { if (run != "") printf "%9s | %9s | %9s | %s\n", p, d, b, run }
       /^== alma bench/ { flush(); run = $0; sub(/^== alma bench --device cuda /, "", run); p = d = b = "-"; next }
       /^prefill / { p = $4 } /^decode / { d = $4 } /^beam search/ { b = $5 }
       END { flush() }'
}

junit=("${java[@]}" org.junit.platform.console.ConsoleLauncher execute --disable-banner --disable-ansi-colors
       --details-theme=ascii)
steps=" ${ALMA_CHECK_STEPS:-tests bench clibench jmh memcheck racecheck} "
want() { [[ "$steps" == *" $1 "* ]]; }

if want tests; then
start=$(date +%s)
# The tests of the not yet GPU-checked wgmma kernels (tag "wgmma") run in a JVM of their own, after the others: a
# fault there ends its process's CUDA context and would fail every test after it.
timeout "${ALMA_TESTS_TIMEOUT_S:-240}" "${junit[@]}" --details=tree --select-package dev.alma.cuda --exclude-tag wgmma \
  > "$out/tests.txt" 2>&1
rc_tests=$?
echo "== wgmma tests" >> "$out/tests.txt"
timeout 120 "${junit[@]}" --details=tree --select-package dev.alma.cuda --include-tag wgmma >> "$out/tests.txt" 2>&1
rc_wgmma=$?
say "tests tagged wgmma: exit $rc_wgmma"
say "tests (dev.alma.cuda, $(( $(date +%s) - start )) s): exit $rc_tests"
grep -E "^\[ +[0-9]+ tests (successful|failed|skipped|aborted)" "$out/tests.txt" | sed 's/^/  /' | tee -a "$summary"
grep -E "\[X\]" "$out/tests.txt" | head -20 | sed 's/^/  FAILED /' | tee -a "$summary"
fi

if (( gpu )) && want bench; then
  start=$(date +%s)
  timeout 260 "${java[@]}" dev.alma.cuda.KernelBench "$out/bench.txt" ${ALMA_BENCH_ARGS:-} > /dev/null 2> "$out/bench.err"
  rc_bench=$?
  say "KernelBench ($(( $(date +%s) - start )) s): exit $rc_bench"
  [[ -s "$out/bench.txt" ]] && tee -a "$summary" < "$out/bench.txt"
  [[ -s "$out/bench.err" ]] && { echo "bench stderr:"; tail -20 "$out/bench.err"; } | tee -a "$summary"
  rm -f "$out/bench.err"
else
  say "KernelBench: skipped (no GPU or not in ALMA_CHECK_STEPS)"
fi

# `alma bench` on random full-size models made on the device (the model code path: Java beam search, logits read
# back each step): LLaMA-7B shape greedy and 5 beams, 13B shape greedy, bf16; the 7B decode with the RoPE fold off
# (-Dalma.cuda.ropeFold=false), without programmatic dependent launches (-Dalma.cuda.pdl=false), without the paged
# attention's short-split path (-Dalma.cuda.pagedShort=false), without both, and with an f16 KV cache; then
# 1024-token prompts on the 7B shape with the mma.sync and the wgmma prompt kernels.
if (( gpu )) && [[ -z "$emulated" ]] && want clibench; then
  start=$(date +%s)
  : > "$out/clibench.txt"
  # One `alma bench` run into clibench.txt: PROPERTIES (space-separated name=value, each a -D option; "" for none),
  # then the bench's arguments.
  clibench() {
    local props=() p label=$1; shift
    for p in $label; do props+=("-D$p"); done
    echo "== alma bench --device cuda $*${label:+ ($label)}" >> "$out/clibench.txt"
    timeout 120 "${java[@]}" ${props[@]+"${props[@]}"} dev.alma.cli.Main bench --device cuda "$@" >> "$out/clibench.txt" 2>&1
    echo "exit $?" >> "$out/clibench.txt"
  }
  # ALMA_CLIBENCH (default all but stream1-7): which runs, by name: beams 13b ropefold nopdl noshort plain f16kv
  # stream0 ... stream7 beamstream requests prefill.
  runs=" ${ALMA_CLIBENCH:-beams 13b ropefold nopdl noshort plain f16kv stream0 beamstream requests prefill} "
  pick() { [[ "$runs" == *" $1 "* ]]; }
  decode=(--prompt-tokens 64 --new-tokens 32 --runs 3 --warmup 1)
  prompts=(--model random:7b --prompt-tokens 1024 --new-tokens 4 --runs 2 --warmup 1)
  pick beams && clibench "" --model random:7b "${decode[@]}" --beams 5
  pick 13b && clibench "" --model random:13b "${decode[@]}"
  # The RoPE fold against the launch it saves, on the same card: the 7B decode again with it off.
  pick ropefold && clibench alma.cuda.ropeFold=false --model random:7b "${decode[@]}" --beams 5
  # Ordinary launches of the decode GEMVs and attention against the default programmatic dependent ones.
  pick nopdl && clibench alma.cuda.pdl=false --model random:7b "${decode[@]}" --beams 5
  # The paged attention's general path for every split against the default short-split path at 64-96 keys.
  pick noshort && clibench alma.cuda.pagedShort=false --model random:7b "${decode[@]}" --beams 5
  pick plain && clibench "alma.cuda.pdl=false alma.cuda.pagedShort=false" --model random:7b "${decode[@]}" --beams 5
  # An f16 KV cache (--kv-cache f16): half the cache's memory and the attention's reads.
  pick f16kv && clibench "" --model random:7b "${decode[@]}" --beams 5 --kv-cache f16
  # The one-token GEMVs: 0 a warp per row, 1-7 streamed (2 the default; greedy decoding only, beams use the
  # tensor-core GEMVs).
  for v in 0 1 2 3 4 5 6 7; do pick stream$v && clibench alma.cuda.gemvStream=$v --model random:7b "${decode[@]}"; done
  # The beams' products streamed too (2..5 tokens, rows up to 4,096 columns) instead of the tensor-core GEMVs.
  pick beamstream && clibench alma.cuda.gemvStreamBeams=true --model random:7b "${decode[@]}" --beams 5
  # Continuous batching against batches that wait for their longest: 64 WMT'22 de-en requests (ALMA's prompt
  # lengths, ALMA-13B-LoRA's output lengths; alma-bench/requests), 16 at once, greedy.
  pick requests && for wait in "" --wait-for-longest; do
    clibench "" --model random:7b --requests "$root/alma-bench/requests/wmt22-de-en-64.txt" --batch 16 --runs 1 --warmup 1 $wait
  done
  # Prompt-heavy: 1024-token prompts with the mma.sync and then the wgmma prompt kernels (-Dalma.cuda.wgmma).
  pick prefill && for wgmma in false true; do clibench alma.cuda.wgmma=$wgmma "${prompts[@]}"; done
  # ALMA_PREFILL_SHAPES="7 8": the same prompts with those wgmma GEMM shapes (-Dalma.cuda.gemmShape).
  for shape in ${ALMA_PREFILL_SHAPES:-}; do clibench alma.cuda.gemmShape=$shape "${prompts[@]}"; done
  say "alma bench ($(( $(date +%s) - start )) s):"
  grep -vE "^WARNING" "$out/clibench.txt" | sed 's/^/  /' | tee -a "$summary"
  # The same as one line per run, for comparing the options side by side.
  say "alma bench, one line per run (prefill tok/s | decode tok/s | beam steps/s | run):"
  clibench_table < "$out/clibench.txt" | sed 's/^/  /' | tee -a "$summary"
fi

# JMH (alma-bench's CudaKernelsBenchmark, bf16): each call synchronised, so a score is kernel + launch + sync.
if (( gpu )) && [[ -z "$emulated" ]] && want jmh; then
  start=$(date +%s)
  # -f 0: in this JVM (a fork per benchmark would start the JVM and a CUDA context 10 times).
  timeout 150 "${java[@]}" org.openjdk.jmh.Main CudaKernelsBenchmark -f 0 -wi 1 -i 2 -w 500ms -r 500ms -p type=BF16 \
    -p shape=4096x4096,11008x4096 > "$out/jmh.txt" 2>&1
  rc_jmh=$?
  say "JMH CudaKernelsBenchmark ($(( $(date +%s) - start )) s): exit $rc_jmh"
  sed -n '/^Benchmark /,$p' "$out/jmh.txt" | sed 's/^/  /' | tee -a "$summary"
fi

sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
left=$(( ${ALMA_CHECK_BUDGET_S:-520} - SECONDS ))   # stay inside the device tool's limit (timeout_s 540)
if (( gpu )) && [[ -z "$emulated" ]] && want memcheck && [[ -x "$sanitizer" ]] && (( left > 30 )); then
  start=$(date +%s)
  timeout "$left" "$sanitizer" --tool memcheck --leak-check no --error-exitcode 3 \
    "${junit[@]}" --details=summary --select-package dev.alma.cuda > "$out/memcheck.txt" 2>&1
  rc_mem=$?
  say "compute-sanitizer memcheck over the GPU tests ($(( $(date +%s) - start )) s): exit $rc_mem" \
      "($(grep -cE '^========= (Invalid|Program hit|Error)' "$out/memcheck.txt") error lines; 124 = timed out)"
  grep -E "ERROR SUMMARY" "$out/memcheck.txt" | tail -1 | sed 's/^/  /' | tee -a "$summary"
else
  say "compute-sanitizer: skipped (no GPU, not in ALMA_CHECK_STEPS, no $sanitizer, or only ${left} s left)"
fi

# Shared-memory races (racecheck) in the kernel tests: slower than memcheck, so over the kernel-level classes only.
left=$(( ${ALMA_CHECK_BUDGET_S:-520} - SECONDS ))
if (( gpu )) && [[ -z "$emulated" ]] && want racecheck && [[ -x "$sanitizer" ]] && (( left > 30 )); then
  start=$(date +%s)
  timeout "$left" "$sanitizer" --tool racecheck --error-exitcode 3 \
    "${junit[@]}" --details=summary --select-class dev.alma.cuda.CudaKernelsTest \
    --select-class dev.alma.cuda.CudaBackendContractTest > "$out/racecheck.txt" 2>&1
  rc_race=$?
  say "compute-sanitizer racecheck over the kernel tests ($(( $(date +%s) - start )) s): exit $rc_race (124 = timed out)"
  grep -E "RACECHECK SUMMARY|ERROR SUMMARY" "$out/racecheck.txt" | tail -2 | sed 's/^/  /' | tee -a "$summary"
else
  say "compute-sanitizer racecheck: skipped (no GPU, not in ALMA_CHECK_STEPS, or only ${left} s left)"
fi
