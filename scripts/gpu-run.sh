#!/usr/bin/env bash
# run.sh of a bundle made by scripts/gpu-bundle.sh: runs ser-webgpu on a GPU machine with nothing
# installed but the driver. Uses only the bundle's Node and Vulkan loader and the system's NVIDIA
# Vulkan driver (ICD), found in the usual places or given as VK_DRIVER_FILES.
#
#   ./run.sh [info|tune|bench|guard|train|torch|summary|all]...
#   (default: all = info tune bench train torch summary)
#
# tune: `ser tune` measures the kernel variants on this GPU (tune.json, tune.md; the cache file is
# RESULTS/tuning.json, which bench and train then use); torch: the same model in PyTorch eager where
# python3 has torch (scripts/torch-step.py -> torch.json); summary: scripts/gpu-summary.mjs checks the
# targets (summary.json). Every JSON names the adapter (or sits beside info.json, which does).
#
# Environment: RESULTS (default ./app/bench/results/gpu-DATE), DATA (default ./data/ravdess), EPOCHS
# (default 50), TUNE_ARGS (extra `ser tune` options), BENCH_ARGS (extra `ser bench` options, e.g.
# "--quick"), TRAIN_ARGS (extra `ser train` options), TORCH_ARGS (extra torch-step.py options),
# FP32_PEAK_TFLOPS (the GPU's nominal FP32 peak when gpu-summary.mjs does not know it),
# VK_DRIVER_FILES (the ICD JSON; searched when unset), ALLOW_SOFTWARE=1 (accept a software adapter,
# e.g. to try the bundle on lavapipe).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
results=${RESULTS:-$here/app/bench/results/gpu-$(date -u +%Y-%m-%d)}
data=${DATA:-$here/data/ravdess}
epochs=${EPOCHS:-50}
mkdir -p "$results"
node="$here/node/bin/node"
loader="$here/vulkan/usr/lib/x86_64-linux-gnu"

export LD_LIBRARY_PATH="$loader${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The NVIDIA ICD names its library (libGLX_nvidia.so.0); containers often keep it here.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"; done
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
    /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [ -f "$f" ]; then export VK_DRIVER_FILES=$f; break; fi
  done
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
export PATH="$here/node/bin:$PATH"
# The tuner's cache travels with the results; bench and train use its choices.
export SER_TUNE_CACHE=${SER_TUNE_CACHE:-$results/tuning.json}
echo "run.sh: node $("$node" --version), loader $loader, VK_DRIVER_FILES=${VK_DRIVER_FILES:-none found, so the loader defaults}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$results/nvidia-smi.txt" || true

cd "$here/app"
ser() { "$node" bin/ser.mjs "$@"; }

info() {
  ser info --json > "$results/info.json"
  ser info
  if grep -q '"isFallbackAdapter": true' "$results/info.json" && [ "${ALLOW_SOFTWARE:-0}" != 1 ]; then
    echo "run.sh: the adapter is a software one (no GPU driver found); set VK_DRIVER_FILES, or ALLOW_SOFTWARE=1 to go on" >&2
    exit 3
  fi
}
tune() {
  # shellcheck disable=SC2086
  ser tune --json ${TUNE_ARGS:-} > "$results/tune.json" 2> "$results/tune.log"
  # shellcheck disable=SC2086
  ser tune --missing ${TUNE_ARGS:-} 2>/dev/null | tee "$results/tune.md"
}
bench() {
  # shellcheck disable=SC2086
  SER_TUNE=${SER_TUNE:-cached} ser bench --data "$data" --json "$results/bench.json" ${BENCH_ARGS:-} 2>&1 | tee "$results/bench.md"
}
guard() {
  ser bench --guard --json "$results/guard.json" 2>&1 | tee "$results/guard.md" || true
}
train() {
  [ -d "$data" ] || { echo "run.sh: no data at $data (set DATA=DIR)"; return 0; }
  local t0 t1
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  ser train --data "$data" --split speaker --epochs "$epochs" --patience 0 --out "$results/train-run" \
    --cache "$results/cache" --json ${TRAIN_ARGS:-} > "$results/train.json" 2> "$results/train.log"
  t1=$(date +%s%N)
  echo "{\"epochs\": $epochs, \"wall_s\": $(( (t1 - t0) / 1000000 ))e-3, \"data\": \"$data\", \"tuning\": \"${SER_TUNE:-auto}\", \"includes\": \"decode, features (cold cache), training, evaluation, reports\"}" | tee "$results/train-time.json"
}
torch() {
  if ! python3 -c 'import torch' 2>/dev/null; then echo "run.sh: no PyTorch here (python3 -c 'import torch' fails); torch step skipped"; return 0; fi
  # shellcheck disable=SC2086
  python3 scripts/torch-step.py ${TORCH_ARGS:-} | tee "$results/torch.json"
}
summary() {
  "$node" scripts/gpu-summary.mjs "$results"
}

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(all)
for s in "${steps[@]}"; do
  case "$s" in
    info) info ;;
    bench) bench ;;
    guard) guard ;;
    tune) tune ;;
    train) train ;;
    torch) torch ;;
    summary) summary ;;
    all) info; tune; bench; train; torch; summary ;;
    *) echo "run.sh: unknown step $s (info|tune|bench|guard|train|torch|summary|all)" >&2; exit 2 ;;
  esac
done
echo "run.sh: results in $results"
