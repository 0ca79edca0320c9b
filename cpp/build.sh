#!/usr/bin/env bash
# Builds libalma_cuda.a (all kernels, position-independent, for sm_80 and sm_90a, with compute_90 PTX) with nvcc.
# Usage: cpp/build.sh OUTPUT_DIR   (alma-native's Maven "cuda" profile calls it with alma-native/target/native)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: build.sh OUTPUT_DIR}"
nvcc="${NVCC:-/usr/local/cuda/bin/nvcc}"
mkdir -p "$out/obj"
flags=(-std=c++17 -O3 --threads 2 -Xcompiler -fPIC -I"$here/include"
       -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90)
objs=()
for src in "$here"/src/*.cu; do
  obj="$out/obj/$(basename "${src%.cu}").o"
  # Rebuild when the source, a shared header or this script is newer than the object.
  if [[ ! -f "$obj" || -n "$(find "$src" "$here"/src/*.cuh "$here"/include "$0" -newer "$obj" -print -quit)" ]]; then
    echo "nvcc $(basename "$src")"
    "$nvcc" "${flags[@]}" -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done
rm -f "$out/libalma_cuda.a"
ar rcs "$out/libalma_cuda.a" "${objs[@]}"
echo "built $out/libalma_cuda.a"
