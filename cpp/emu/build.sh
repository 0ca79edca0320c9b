#!/usr/bin/env bash
# Builds the kernels of cpp/src for the CPU emulator (alma_emu.h) with g++: OUTPUT_DIR/libalma_cuda.a, plus an empty
# libcudart_static.a so that the JNI library links as it does against the real runtime. No CUDA toolkit is needed.
# Launches (kernel<<<grid, block, smem, stream>>>(args)) and dynamic shared memory (extern __shared__ T name[]) are
# rewritten into calls of the emulator, and each static __shared__ array declaration is followed by a call that fills
# the array with NaN bytes once per block (as dynamic shared memory is); everything else compiles as it is, with
# -DALMA_EMU.
# Usage: cpp/emu/build.sh OUTPUT_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/../src"
out="${1:?usage: cpp/emu/build.sh OUTPUT_DIR}"
cxx="${CXX:-g++}"
mkdir -p "$out/emu-src" "$out/emu-obj"
rewrite() {
  sed -E \
    -e 's/([A-Za-z_][A-Za-z0-9_]*)(<[^<>]*>)?<<<(.*)>>>\(\)/alma_emu::launch(alma_emu::Config(\3), "\1\2", \1\2)/' \
    -e 's/([A-Za-z_][A-Za-z0-9_]*)(<[^<>]*>)?<<<(.*)>>>\(/alma_emu::launch(alma_emu::Config(\3), "\1\2", \1\2, /' \
    -e 's/extern __shared__ ([A-Za-z_][A-Za-z0-9_ ]*) ([A-Za-z_][A-Za-z0-9_]*)\[\];/\1 *\2 = (\1 *)alma_emu::current_block->dynamic_smem;/' \
    -E -e 's/^([[:space:]]*__shared__ .*[^A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)((\[[^]]*\])+);$/\1\2\3; alma_emu::poison_shared(\2, sizeof \2);/' \
    "$1"
}
# -fno-strict-aliasing: CUDA code reinterprets registers and memory between types (uint4 as halves, etc.), which
# nvcc allows and g++ would otherwise optimise on. -fno-ipa-reference*: __shared__ arrays become static variables that
# other fibers write while a thread waits at a barrier; g++ must not conclude that the call cannot change them.
flags=(-std=c++17 -O2 -g -fPIC -Wno-psabi -fno-strict-aliasing -fno-ipa-reference -fno-ipa-reference-addressable -DALMA_EMU -Wno-unknown-pragmas -I"$here/include" -I"$here" -I"$here/../include"
       -I"$out/emu-src")
objs=()
for f in "$src"/*.cuh; do rewrite "$f" > "$out/emu-src/$(basename "$f")"; done
for f in "$src"/*.cu; do
  name="$(basename "${f%.cu}")"
  rewrite "$f" > "$out/emu-src/$name.cpp"
  obj="$out/emu-obj/$name.o"
  if [[ ! -f "$obj" || -n "$(find "$f" "$src"/*.cuh "$here" "$here/../include" -newer "$obj" -print -quit)" ]]; then
    echo "g++ (emulated) $name"
    "$cxx" "${flags[@]}" -c "$out/emu-src/$name.cpp" -o "$obj"
  fi
  objs+=("$obj")
done
obj="$out/emu-obj/emu.o"
if [[ ! -f "$obj" || "$here/emu.cpp" -nt "$obj" || "$here/alma_emu.h" -nt "$obj" ]]; then
  echo "g++ emu.cpp"
  "$cxx" "${flags[@]}" -c "$here/emu.cpp" -o "$obj"
fi
objs+=("$obj")
# The emulator's own tests (conversions, barriers, shuffles, mma.sync layout, error detection): a broken emulator
# must not pass the kernels' tests.
if [[ ! -x "$out/emu-selftest" || -n "$(find "$here" -newer "$out/emu-selftest" -print -quit)" ]]; then
  "$cxx" "${flags[@]}" "$here/selftest.cpp" "$here/emu.cpp" -o "$out/emu-selftest"
  "$out/emu-selftest" 2>"$out/emu-selftest.log" || { cat "$out/emu-selftest.log" >&2; rm -f "$out/emu-selftest"; exit 1; }
fi
rm -f "$out/libalma_cuda.a" "$out/libcudart_static.a"
ar rcs "$out/libalma_cuda.a" "${objs[@]}"
ar rcs "$out/libcudart_static.a"
echo "built $out/libalma_cuda.a (CPU emulation)"
